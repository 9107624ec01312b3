import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { converge } from '../../lib/index.ts'
import modern from '../../recipes/invokeai-modern.ts'
import { startModernIndex, type ModernIndex } from '../helpers/invokeai/modern-index.ts'
import { localHost } from '../helpers/tmp.ts'

// Blue/green envs for real on this machine: the recipe's venv + pip route (python3 -m venv, pip
// from a local wheel index standing in for PyPI), the smoke test in the new env, the link swap.
// No service here (the lab e2e has it): this is the env half, with real pip and real Python.
const python3 = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim()
let home = ''
let index: ModernIndex
const root = (): string => join(home, 'invokeai-modern')

beforeAll(async () => {
  home = realpathSync(mkdtempSync(join(tmpdir(), 'sc-modern-')))
  index = await startModernIndex('127.0.0.1')
})
afterAll(async () => {
  await index?.close()
  if (home) rmSync(home, { recursive: true, force: true })
})

// torchBackend cpu: the stand-in torch has only a CPU, whatever GPU this machine may have.
const run = (version: string, mode?: 'plan') => converge({
  recipe: modern,
  hosts: [{ name: 'local', transport: localHost(home) }],
  set: { version, service: false, route: 'pip', python3, index: index.url, torchBackend: 'cpu' },
  ...(mode ? { mode } : {}),
})
const envs = (): string[] => readdirSync(join(root(), 'envs')).sort()
const active = (): string => readlinkSync(join(root(), 'current'))
const versionIn = (env: string): string => execFileSync(join(env, 'bin', 'python'), ['-c', 'import invokeai, torch; print(invokeai.__version__, torch.__version__)'], { encoding: 'utf8' }).trim()
const res = (r: Awaited<ReturnType<typeof run>>, id: string) => r.hosts[0]!.resources.find((x) => x.id === id)

describe('recipes/invokeai-modern: blue/green envs, for real (venv + pip, local wheel index)', () => {
  it('builds the first env, tests it, points current at it; a second run changes nothing', async () => {
    const plan = await run('6.0.0', 'plan')
    expect(res(plan, 'envs')?.changes).toEqual([`create directory ${root()}/envs`])
    const first = await run('6.0.0')
    expect(first.hosts[0]!.error).toBeUndefined()
    expect(first.summary).toMatchObject({ failed: 0 })
    expect(res(first, 'env')?.changes).toEqual(['build env invokeai-6.0.0-cpu first env, swap after test (a tensor op on cpu, torch build cpu; torchBackend: cpu (set by the recipe\'s options))'])
    expect(active()).toBe(`${root()}/envs/invokeai-6.0.0-cpu`)
    expect(versionIn(active())).toBe('6.0.0 2.7.0+cpu')
    expect(existsSync(join(active(), 'bin', 'invokeai-web'))).toBe(true)
    expect(index.fetched.sort()).toEqual(['invokeai-6.0.0-py3-none-any.whl', 'torch-2.7.0-py3-none-any.whl'])
    const second = await run('6.0.0')
    expect(second.summary).toMatchObject({ changed: 0, failed: 0 })
  }, 300_000)

  it('a version bump: built beside, tested, swapped; the previous env is kept', async () => {
    const bump = await run('6.0.1')
    expect(bump.summary).toMatchObject({ failed: 0 })
    expect(res(bump, 'env')?.changes[0]).toMatch(new RegExp(`^build env invokeai-6\\.0\\.1-cpu beside ${root()}/envs/invokeai-6\\.0\\.0-cpu, swap after test`))
    expect(active()).toBe(`${root()}/envs/invokeai-6.0.1-cpu`)
    expect(versionIn(active())).toBe('6.0.1 2.7.0+cpu')
    expect(envs()).toEqual(['invokeai-6.0.0-cpu', 'invokeai-6.0.1-cpu'])
  }, 300_000)

  it('a version whose smoke test fails: the run fails naming the test, current and both envs stay as they were', async () => {
    const bad = await run('6.0.2')
    const env = res(bad, 'env')
    expect(env?.status).toBe('failed')
    expect(env?.error?.message).toMatch(/smoke test of the new env invokeai-6\.0\.2-cpu failed \(a tensor op on cpu, torch build cpu.*\): .*stand-in torch 2\.7\.1\+cpu: this build is broken on purpose/)
    expect(env?.error?.message).toContain(`still points at ${root()}/envs/invokeai-6.0.1-cpu, which keeps serving`)
    expect(active()).toBe(`${root()}/envs/invokeai-6.0.1-cpu`)
    expect(versionIn(active())).toBe('6.0.1 2.7.0+cpu')
    // The failed build stays for a look (not ready), beside the two good ones.
    expect(envs()).toEqual(['invokeai-6.0.0-cpu', 'invokeai-6.0.1-cpu', 'invokeai-6.0.2-cpu'])
    expect(existsSync(join(root(), 'envs', 'invokeai-6.0.2-cpu', '.statecraft-ready'))).toBe(false)
  }, 300_000)

  it('back to 6.0.0: swapped to the kept env without a rebuild; older generations and the failed build are cleared', async () => {
    const fetchedBefore = index.fetched.length
    const back = await run('6.0.0')
    expect(back.summary).toMatchObject({ failed: 0 })
    expect(res(back, 'env')?.changes).toEqual([`swap to env invokeai-6.0.0-cpu (built and tested before; beside ${root()}/envs/invokeai-6.0.1-cpu)`])
    expect(index.fetched.length).toBe(fetchedBefore)
    expect(active()).toBe(`${root()}/envs/invokeai-6.0.0-cpu`)
    expect(envs()).toEqual(['invokeai-6.0.0-cpu', 'invokeai-6.0.1-cpu'])
    expect((await run('6.0.0')).summary).toMatchObject({ changed: 0, failed: 0 })
  }, 300_000)
})
