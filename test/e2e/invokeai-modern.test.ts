import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { converge } from '../../lib/index.ts'
import modern from '../../recipes/invokeai-modern.ts'
import { startModernIndex, type ModernIndex } from '../helpers/invokeai/modern-index.ts'
import { startLab, type Lab, type LabHost } from '../helpers/lab.ts'
import { controllerHome } from '../helpers/sshd.ts'

// The modern flow end to end, over SSH as the `dev` user, on a fresh booted Debian 12 host of the
// lab (no GPU: the facts choose the CPU build). For real: apt (python3-venv through NAT),
// python3 -m venv, pip, the smoke test, the link swap, the systemd user unit, the health check.
// Stand-in: the package index (test/helpers/invokeai/modern-index.ts) on the gateway, with an
// `invokeai` whose invokeai-web reads invokeai.yaml and serves /api/v1/app/version.
let lab: Lab
let host: LabHost
let index: ModernIndex
let home = ''
const ROOT = '/home/dev/invokeai-modern'

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'sc-ctl-'))
  lab = await startLab({ hosts: 1, authorizedKey: controllerHome(home).pub, services: false })
  host = lab.hosts[0] as LabHost
  appendFileSync(join(home, '.ssh', 'known_hosts'), `${host.address} ${host.hostKey}\n`)
  index = await startModernIndex(lab.gateway)
}, 600_000)

afterAll(async () => {
  await index?.close()
  await lab?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
})

const run = (version: string) => converge({
  recipe: modern,
  hosts: [{ name: 'ws', ssh: { name: 'ws', address: host.address, user: 'dev' } }],
  ssh: { home },
  set: { version, index: index.url, origins: 'http://studio.lan:9090' },
})

async function onHost(script: string): Promise<string> {
  const r = await host.exec(`runuser -l dev -c '${script.replace(/'/g, `'\\''`)}'`)
  expect(r, `${script}: ${r.stderr}`).toMatchObject({ code: 0 })
  return r.stdout
}
const info = async (): Promise<Record<string, unknown>> => JSON.parse(await onHost('curl -fsS http://127.0.0.1:9090/standin/info')) as Record<string, unknown>
const failures = (r: Awaited<ReturnType<typeof run>>) => r.hosts[0]!.resources.filter((x) => x.status === 'failed' || x.status === 'skipped').map((x) => ({ id: x.id, status: x.status, error: x.error?.message }))
const changed = (r: Awaited<ReturnType<typeof run>>): string[] => r.hosts[0]!.resources.filter((x) => x.status === 'changed').map((x) => x.id).sort()

describe('recipes/invokeai-modern on a fresh Debian host over SSH (venv + pip, local wheel index)', () => {
  it('converges: health answers the version, the server read invokeai.yaml; a second run changes nothing', async () => {
    const first = await run('6.0.0')
    expect(first.hosts[0]!.error).toBeUndefined()
    expect(failures(first)).toEqual([])
    expect(changed(first)).toEqual(expect.arrayContaining(['config', 'env', 'envs', 'service', 'venv']))
    expect(await onHost('curl -fsS http://127.0.0.1:9090/api/v1/app/version')).toBe('{"version":"6.0.0"}')
    expect(await info()).toMatchObject({ version: '6.0.0', host: '127.0.0.1', port: 9090, origins: ['http://studio.lan:9090'], prefix: `${ROOT}/envs/invokeai-6.0.0-cpu`, root: ROOT })
    expect(await onHost(`readlink ${ROOT}/current; ls ${ROOT}/envs; systemctl --user is-active invokeai-modern.service`)).toBe(`${ROOT}/envs/invokeai-6.0.0-cpu\ninvokeai-6.0.0-cpu\nactive\n`)

    const second = await run('6.0.0')
    expect(second.summary).toMatchObject({ changed: 0, failed: 0 })
  }, 600_000)

  it('a version bump: the new env is built beside, tested, swapped; the service answers the new version', async () => {
    const pid = (await info()).pid
    const bump = await run('6.0.1')
    expect(failures(bump)).toEqual([])
    expect(changed(bump)).toEqual(['env', 'health', 'service'])
    expect(bump.hosts[0]!.resources.find((r) => r.id === 'env')!.changes).toEqual([expect.stringMatching(new RegExp(`^build env invokeai-6\\.0\\.1-cpu beside ${ROOT}/envs/invokeai-6\\.0\\.0-cpu, swap after test`))])
    expect(await onHost('curl -fsS http://127.0.0.1:9090/api/v1/app/version')).toBe('{"version":"6.0.1"}')
    const now = await info()
    expect(now.pid).not.toBe(pid)
    expect(now.prefix).toBe(`${ROOT}/envs/invokeai-6.0.1-cpu`)
    expect(await onHost(`ls ${ROOT}/envs`)).toBe('invokeai-6.0.0-cpu\ninvokeai-6.0.1-cpu\n')
    expect((await run('6.0.1')).summary).toMatchObject({ changed: 0, failed: 0 })
  }, 600_000)

  it('a version whose smoke test fails: the old one keeps serving, the run fails naming the test', async () => {
    const before = await info()
    const bad = await run('6.0.2')
    const env = bad.hosts[0]!.resources.find((r) => r.id === 'env')!
    expect(env.status).toBe('failed')
    expect(env.error?.message).toMatch(/smoke test of the new env invokeai-6\.0\.2-cpu failed \(a tensor op on cpu, torch build cpu; no GPU found.*\): .*broken on purpose.*still points at \/home\/dev\/invokeai-modern\/envs\/invokeai-6\.0\.1-cpu, which keeps serving/)
    expect(bad.summary.failed).toBeGreaterThan(0)
    // Nothing after the env ran: the service was not restarted, the same process answers 6.0.1.
    expect(await onHost('curl -fsS http://127.0.0.1:9090/api/v1/app/version')).toBe('{"version":"6.0.1"}')
    expect((await info()).pid).toBe(before.pid)
    expect(await onHost(`readlink ${ROOT}/current`)).toBe(`${ROOT}/envs/invokeai-6.0.1-cpu\n`)
  }, 600_000)
})
