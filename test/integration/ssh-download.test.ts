import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { converge, defineRecipe, download } from '../../lib/index.ts'
import { controllerHome, ensureTestUser, startFleet, TEST_USER, type FleetHost, type TestSshd } from '../helpers/sshd.ts'
import { registerSecret } from '../helpers/sweep.ts'
import { bytes, startHub, type Hub } from '../helpers/hub.ts'
import { tempDir } from '../helpers/tmp.ts'

let hub: Hub
let home: string
const servers: TestSshd[] = []
const hosts: FleetHost[] = []
const TOKEN = registerSecret('hf_good_token_123')

beforeAll(async () => {
  ensureTestUser()
  hub = await startHub()
  hub.addBlob('model.ckpt', bytes(2 * 1024 * 1024 + 3, 11))
  home = mkdtempSync(join(tmpdir(), 'sc-ctl-'))
  const fleet = await startFleet(controllerHome(home).pub, home, 3, 41, 'lab-')
  servers.push(...fleet.servers)
  hosts.push(...fleet.hosts)
})
afterAll(async () => {
  for (const s of servers) await s.stop()
  await hub?.close()
  rmSync(home, { recursive: true, force: true })
})

/** A directory the test user owns the inside of, one per host. */
function hostDir(): string {
  const d = tempDir()
  chmodSync(d, 0o777)
  return d
}

describe('download over SSH (the test user, real sshd, real HTTP)', () => {
  it('via the controller: one download for three hosts, pushed to each; the no-op run never reads the file', async () => {
    const root = hostDir()
    process.env.STATECRAFT_CACHE = join(home, 'cache')
    const recipe = defineRecipe({
      name: 'push',
      resources: ({ host }) => [download({ id: 'ckpt', url: `${hub.hubUrl}/gated/sd/resolve/main/model.ckpt`, dest: `${root}/${host.name}/model.ckpt`, token: TOKEN, via: 'controller' })],
    })
    const targets = hosts.map((h) => ({ name: h.name, ssh: { name: h.name, address: h.address, port: h.port, user: TEST_USER }, lockPath: `${root}/${h.name}.lock` }))
    hub.requests.length = 0
    const r = await converge({ recipe, hosts: targets, ssh: { home } })
    expect(r.hosts.map((h) => h.error?.message ?? h.resources[0]!.error?.message ?? 'ok')).toEqual(['ok', 'ok', 'ok'])
    expect(hub.requests.filter((x) => x.origin === 'cdn' && x.method === 'GET')).toHaveLength(1)
    for (const h of hosts) expect(readFileSync(`${root}/${h.name}/model.ckpt`).equals(hub.blobs.get('model.ckpt')!.data)).toBe(true)
    // Unreadable for the login user: any attempt to hash it would fail the run.
    for (const h of hosts) chmodSync(`${root}/${h.name}/model.ckpt`, 0)
    const again = await converge({ recipe, hosts: targets, ssh: { home } })
    expect(again.summary).toMatchObject({ hosts: 3, failedHosts: 0, changed: 0, unchanged: 3 })
    expect(again.hosts.every((h) => h.roundTrips === 3)).toBe(true)
    const verify = await converge({ recipe, hosts: targets.slice(0, 1), ssh: { home }, verifyArtifacts: true, mode: 'plan' })
    // …while a full check does try to read it, and says it cannot.
    expect(verify.hosts[0]!.resources[0]!.error?.message).toBe(`download ${root}/${hosts[0]!.name}/model.ckpt: the file exists but cannot be read to check it; fix its permissions or use become`)
    delete process.env.STATECRAFT_CACHE
  })

  it('on the host: the host fetches it itself with curl', async () => {
    const root = hostDir()
    const h = hosts[0]!
    const recipe = defineRecipe({ name: 'pull', resources: () => [download({ url: `${hub.hubUrl}/gated/sd/resolve/main/model.ckpt`, dest: `${root}/m.ckpt`, token: TOKEN })] })
    const target = [{ name: h.name, ssh: { name: h.name, address: h.address, port: h.port, user: TEST_USER }, lockPath: `${root}/lock` }]
    const r = await converge({ recipe, hosts: target, ssh: { home } })
    expect(r.hosts[0]!.resources[0]!.error).toBeUndefined()
    expect(readFileSync(`${root}/m.ckpt`).equals(hub.blobs.get('model.ckpt')!.data)).toBe(true)
    expect((await converge({ recipe, hosts: target, ssh: { home } })).summary.changed).toBe(0)
  })
})
