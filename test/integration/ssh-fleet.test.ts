import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { converge, defineRecipe, directory, file, line } from '../../lib/index.ts'
import { controllerHome, ensureTestUser, freePort, startFleet, TEST_USER, type FleetHost, type TestSshd } from '../helpers/sshd.ts'
import { tempDir } from '../helpers/tmp.ts'
import { shardOf } from '../../lib/cli/args.ts'

// 20 hosts on two sshd instances (sshd takes at most 16 ListenAddress lines), 10 loopback addresses each.
const servers: TestSshd[] = []
let home: string
const hosts: FleetHost[] = []

// The hosts log in as the test user, whose shell is dash: root's .bashrc here runs pyenv init on
// every exec (~100 ms), which would measure this machine's start-up files instead of statecraft.
beforeAll(async () => {
  ensureTestUser()
  home = mkdtempSync(join(tmpdir(), 'sc-ctl-'))
  const { pub } = controllerHome(home)
  const fleet = await startFleet(pub, home, 20, 11, 'gpu-')
  servers.push(...fleet.servers)
  hosts.push(...fleet.hosts)
})
afterAll(async () => {
  for (const s of servers) await s.stop()
  rmSync(home, { recursive: true, force: true })
})

function writableDir(): string {
  const d = tempDir()
  chmodSync(d, 0o777)
  return d
}

describe('a fleet of 20 hosts over SSH', () => {
  it('converges all concurrently, each into its own dir, and lists each in the report', async () => {
    const root = writableDir()
    const recipe = defineRecipe({
      name: 'fleet',
      resources: ({ host, facts }) => [
        directory({ path: `${root}/${host.name}`, mode: '0755' }),
        file({ path: `${root}/${host.name}/id`, content: `${host.name} ${facts.os}\n` }),
        line({ path: `${root}/${host.name}/profile`, line: 'export CUDA_VISIBLE_DEVICES=0' }),
      ],
    })
    const targets = hosts.map((h) => ({ name: h.name, ssh: { name: h.name, address: h.address, port: h.port, user: TEST_USER }, lockPath: `${root}/${h.name}.lock` }))
    const r = await converge({ recipe, hosts: targets, concurrency: 20, ssh: { home } })
    expect(r.summary, JSON.stringify(r.hosts.find((h) => !h.ok))).toMatchObject({ hosts: 20, failedHosts: 0, changed: 60, failed: 0 })
    expect(r.hosts.map((h) => h.host)).toEqual(hosts.map((h) => h.name))
    for (const h of hosts) expect(readFileSync(`${root}/${h.name}/id`, 'utf8')).toBe(`${h.name} linux\n`)
    const again = await converge({ recipe, hosts: targets, concurrency: 20, ssh: { home } })
    expect(again.summary).toMatchObject({ hosts: 20, changed: 0, unchanged: 60 })
    expect(again.hosts.every((h) => h.roundTrips === 3 && h.connections === 1)).toBe(true)
  })

  it('keeps going when one host fails, unless --fail-fast', async () => {
    const root = writableDir()
    const recipe = defineRecipe({ name: 'f', resources: ({ host }) => [file({ path: `${root}/${host.name}`, content: 'x' })] })
    const targets = hosts.slice(0, 4).map((h) => ({ name: h.name, ssh: { name: h.name, address: h.address, port: h.port, user: TEST_USER }, lockPath: `${root}/${h.name}.lock` }))
    targets[1] = { ...targets[1]!, ssh: { ...targets[1]!.ssh, port: await freePort() } }
    const all = await converge({ recipe, hosts: targets, concurrency: 1, ssh: { home } })
    expect(all.hosts.map((h) => h.ok)).toEqual([true, false, true, true])
    expect(all.summary.failedHosts).toBe(1)
    const ff = await converge({ recipe, hosts: targets, concurrency: 1, failFast: true, ssh: { home } })
    expect(ff.hosts.map((h) => h.error?.code ?? 'ok')).toEqual(['ok', 'E_CONNECT', 'E_NOT_STARTED', 'E_NOT_STARTED'])
  })

  it('splits hosts into shards: sorted by name, host k to shard k mod n + 1', () => {
    const names = ['c', 'a', 'e', 'b', 'd'].map((name) => ({ name }))
    expect(shardOf(names, { index: 1, count: 2 }).map((h) => h.name)).toEqual(['a', 'c', 'e'])
    expect(shardOf(names, { index: 2, count: 2 }).map((h) => h.name)).toEqual(['b', 'd'])
    const all = [1, 2, 3].flatMap((i) => shardOf(hosts, { index: i, count: 3 }).map((h) => h.name)).sort()
    expect(all).toEqual(hosts.map((h) => h.name).sort())
  })
})
