import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import invokeai, { CHECKPOINTS, FORK_COMMIT } from '../../../recipes/invokeai.ts'
import type { Facts } from '../../../lib/core/types.ts'
import { sha256Of } from '../../../lib/resources/conda-env/yml.ts'
import { hex, linuxFacts } from '../../helpers/facts.ts'
import { planRecipe } from '../../helpers/plan-recipe.ts'

// A Debian 12 box with an H100 where the recipe already ran, as each probe prints it.
const facts: Facts = { ...linuxFacts, gpu: { vendor: 'nvidia', devices: [{ name: 'NVIDIA H100 80GB HBM3' }], driver: '580.159.04', cuda: '13.0' } }
const YML = readFileSync(new URL('../../fixtures/invokeai-2.0/environment.yml', import.meta.url))
const SHA = sha256Of(YML)
const ENV = '/home/ana/miniforge3/envs/invokeai'
const TOKEN = { HF_TOKEN: 'hf_secretvalue' }
const OLD = 'c0ffee'.padEnd(64, '0')
const envList = `${JSON.stringify({ envs: ['/home/ana/miniforge3', ENV], envs_details: { '/home/ana/miniforge3': { active: false, base: true, frozen: false, name: 'base', writable: true }, [ENV]: { active: false, base: false, frozen: false, name: 'invokeai', writable: true } } }, null, 2)}\n`
const condaInfo = `${JSON.stringify({ conda_prefix: '/home/ana/miniforge3', conda_version: '25.3.0', platform: 'linux-64', root_prefix: '/home/ana/miniforge3' }, null, 2)}\n`
const running = hex('MainPID=4242\nLoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\nNeedDaemonReload=no\n')
const stamp = (sha: string): string => hex(`${JSON.stringify({ sha256: sha, file: '/home/ana/invokeai/environment.yml', subdir: 'linux-64', variables: {} })}\n`)
const envProbe = (yml: Buffer | string, recorded?: string): Record<string, string> => ({
  ymlkind: 'file', yml: hex(String(yml)), conda: '1', envs: hex(envList), envprefix: hex(ENV), pysubdir: 'linux-64', ...(recorded ? { stamp: stamp(recorded) } : {}),
})

function converged(env: Record<string, string> = envProbe(YML, SHA)) {
  return (id: string, d: any): Record<string, string> | undefined => ({
    preflight: { avail: String(400 * 1024 * 1024), ckpt: '1', env: '1', hosttoken: '0', condax86: '0', portused: '1', portours: '1' },
    'prereq/tools': { manager: 'apt', installed: hex('git\tinstall ok installed\t1:2.39.5-0+deb12u1\ncurl\tinstall ok installed\t7.88.1-10+deb12u5\nbuild-essential\tinstall ok installed\t12.9\n') },
    'prereq/conda': { found: 'prefix', exists: '1', info: hex(condaInfo) },
    'prereq/rustup': { present: '1', version: hex('rustup 1.28.2 (e4f3ad6f8 2025-04-28)\n'), toolchains: hex('stable-x86_64-unknown-linux-gnu (default)\n1.72.1-x86_64-unknown-linux-gnu\n') },
    invokeai: { exists: 'repo', head: FORK_COMMIT, dirty: '0', origin: hex('https://github.com/nunocoracao/InvokeAI.git') },
    models: { kind: 'directory', perm: 'drwxr-xr-x', owner: 'ana' },
    // The checkpoint's one copy in the model store, and the checkout's link to it.
    'directory:/home/ana/.local/share/statecraft/models': { kind: 'directory', perm: 'drwxr-xr-x', owner: 'ana' },
    'download:/home/ana/.local/share/statecraft/models/sd-v1-4-full-ema.ckpt': { stampok: '1', exists: '1' },
    checkpoint: { kind: 'link', target: hex('/home/ana/.local/share/statecraft/models/sd-v1-4-full-ema.ckpt') },
    'model-sha256': { kind: 'file', perm: '-rw-r--r--', owner: 'ana', size: '64', content: hex(CHECKPOINTS['sd-v1-4-full-ema.ckpt'].sha256) },
    env,
    service: { uid: '1000', useruid: '1000', home: hex('/home/ana'), linger: '1', wants: '1', unit: 'file', text: hex(String(d.resolved?.text ?? '')), show: running },
    health: { curl: '1', exit: '0', status: '200', match: '1', body: hex('{"message":"Server Running"}'), err: '' },
  })[id]
}

describe('recipes/invokeai against a converged Linux host', () => {
  it('plans nothing', () => {
    const r = planRecipe(invokeai, facts, { env: TOKEN, probes: converged() })
    expect(r.order.filter((x) => x.status !== 'unchanged')).toEqual([])
    expect(r.order).toHaveLength(14)
    expect(r.warnings).toEqual([])
  })

  it('the service runs invoke.py inside the env with conda run, never conda activate', () => {
    const r = planRecipe(invokeai, facts, { env: TOKEN, probes: (id, d) => (id === 'service' ? { uid: '1000', useruid: '1000', home: hex('/home/ana'), linger: '1', wants: '0', unit: 'absent', show: '' } : converged()(id, d)) })
    const svc = r.order.find((x) => x.id === 'service')
    expect(svc?.changes[0]).toMatch(/invokeai/)
    const unit = (svc?.steps ?? []).map((s) => s.argv.join(' ')).join('\n')
    expect(unit).not.toMatch(/activate/)
  })
})

describe('recipes/invokeai: the real 2.0 ymls drive the env', () => {
  it('a missing env: create from environment.yml with CONDA_SUBDIR, PIP_EXISTS_ACTION=w and the pinned Rust toolchain; preload and the service follow', () => {
    const missing = { ymlkind: 'file', yml: hex(String(YML)), conda: '1', envs: hex(`${JSON.stringify({ envs: ['/home/ana/miniforge3'] }, null, 2)}\n`) }
    const r = planRecipe(invokeai, facts, { env: TOKEN, probes: converged(missing) })
    const env = r.order.find((x) => x.id === 'env')
    expect(env?.changes[0]).toContain(`conda env invokeai with /home/ana/miniforge3/bin/conda (CONDA_SUBDIR=linux-64) from /home/ana/invokeai/environment.yml (sha256 ${SHA})`)
    const create = env?.steps?.find((s) => s.argv.includes('create'))
    expect(create?.argv).toEqual(['/home/ana/miniforge3/bin/conda', 'env', 'create', '-n', 'invokeai', '-f', '/home/ana/invokeai/environment.yml'])
    expect(create?.env).toMatchObject({ CONDA_SUBDIR: 'linux-64', PIP_EXISTS_ACTION: 'w', RUSTUP_TOOLCHAIN: '1.72.1', PATH: expect.stringMatching(/^\/home\/ana\/\.cargo\/bin:/) })
    expect(create?.cwd).toBe('/home/ana/invokeai')
    expect(r.order.filter((x) => x.status !== 'unchanged').map((x) => `${x.id}: ${x.status}`)).toEqual(['env: changed', 'preload: changed', 'service: pending', 'health: pending'])
    // The service is notified by the env; its probe depends on the env's change and preload, so the plan does not guess.
    expect(r.order.find((x) => x.id === 'service')?.changes).toEqual(['re-checked after preload'])
    const preload = r.order.find((x) => x.id === 'preload')
    expect(preload?.steps?.[0]?.argv).toEqual(['/home/ana/miniforge3/bin/conda', 'run', '-n', 'invokeai', '--no-capture-output', 'python', 'scripts/preload_models.py'])
    expect(preload?.steps?.[0]?.cwd).toBe('/home/ana/invokeai')
  })

  it('a changed yml plans update naming the old and new hash, then re-runs preload and restarts the service, and nothing else', () => {
    const r = planRecipe(invokeai, facts, { env: TOKEN, probes: converged(envProbe(YML, OLD)) })
    const env = r.order.find((x) => x.id === 'env')
    expect(env?.changes.join('\n')).toContain(OLD)
    expect(env?.changes.join('\n')).toContain(SHA)
    expect(env?.changes.join('\n')).toMatch(/update .*--prune/)
    expect(r.order.filter((x) => x.status !== 'unchanged').map((x) => `${x.id}: ${x.changes[0]}`)).toEqual([
      expect.stringMatching(/^env: update /),
      expect.stringMatching(/^preload: /),
      'service: re-checked after preload',
      'health: re-checked after service',
    ])
  })

  it('a broken yml fails the plan with its line, before any conda command', () => {
    const broken = `${String(YML).split('\n').slice(0, 5).join('\n')}\n  - [unclosed\n`
    const r = planRecipe(invokeai, facts, { env: TOKEN, probes: converged(envProbe(broken, SHA)) })
    const env = r.order.find((x) => x.id === 'env')
    expect(env?.status).toBe('failed')
    expect(env?.error).toMatch(/\/home\/ana\/invokeai\/environment\.yml line \d+: .*Nothing was run; fix the file/)
    expect(r.order.find((x) => x.id === 'preload')?.status).toBe('skipped')
  })
})

describe('recipes/invokeai on an M1 Mac whose SSH shell runs under Rosetta', () => {
  it('builds the env from environment-mac.yml for osx-arm64 (the hardware decides), under arch -arm64, with MPS fallback for every command run inside', async () => {
    const { macRosettaFacts } = await import('../../helpers/mac-facts.ts')
    const MAC_YML = readFileSync(new URL('../../fixtures/invokeai-2.0/environment-mac.yml', import.meta.url))
    const mac: Facts = { ...macRosettaFacts, gpu: { vendor: 'apple', devices: [{ name: 'Apple M1 Pro' }] } }
    const CLT = '/Library/Developer/CommandLineTools'
    const info = `${JSON.stringify({ conda_prefix: '/Users/ana/miniforge3', conda_version: '25.3.1', platform: 'osx-arm64', root_prefix: '/Users/ana/miniforge3' }, null, 2)}\n`
    const probes: Record<string, Record<string, string>> = {
      preflight: { avail: String(400 * 1024 * 1024), ckpt: '1', env: '0', hosttoken: '0', condax86: '0', portused: '0' },
      'prereq/xcode': { uid: '0', selectrc: '0', path: hex(`${CLT}\n`), answerrc: '0', answer: hex(`${CLT}/usr/bin/clang\n`) },
      'prereq/conda': { found: 'prefix', exists: '1', info: hex(info) },
      'prereq/rustup': { present: '1', version: hex('rustup 1.28.2 (e4f3ad6f8 2025-04-28)\n'), toolchains: hex('stable-aarch64-apple-darwin (default)\n1.72.1-aarch64-apple-darwin\n') },
      invokeai: { exists: 'repo', head: FORK_COMMIT, dirty: '0', origin: hex('https://github.com/nunocoracao/InvokeAI.git') },
      models: { kind: 'directory', perm: 'drwxr-xr-x', owner: 'ana' },
      'directory:/Users/ana/Library/Application Support/statecraft/models': { kind: 'directory', perm: 'drwxr-xr-x', owner: 'ana' },
      'download:/Users/ana/Library/Application Support/statecraft/models/sd-v1-4-full-ema.ckpt': { stampok: '1', exists: '1' },
      checkpoint: { kind: 'link', target: hex('/Users/ana/Library/Application Support/statecraft/models/sd-v1-4-full-ema.ckpt') },
      'model-sha256': { kind: 'file', perm: '-rw-r--r--', owner: 'ana', size: '64', content: hex(CHECKPOINTS['sd-v1-4-full-ema.ckpt'].sha256) },
      env: { ymlkind: 'file', yml: hex(String(MAC_YML)), conda: '1', envs: hex(`${JSON.stringify({ envs: ['/Users/ana/miniforge3'] }, null, 2)}\n`) },
    }
    const r = planRecipe(invokeai, mac, { env: TOKEN, probes })
    const env = r.order.find((x) => x.id === 'env')
    expect(env?.changes[0]).toContain(`conda env invokeai with /Users/ana/miniforge3/bin/conda (CONDA_SUBDIR=osx-arm64) from /Users/ana/invokeai/environment-mac.yml (sha256 ${sha256Of(MAC_YML)})`)
    const create = env?.steps?.find((s) => s.argv.includes('create'))
    expect(create?.argv.slice(0, 3)).toEqual(['/usr/bin/arch', '-arm64', '/Users/ana/miniforge3/bin/conda'])
    expect(create?.env).toMatchObject({ CONDA_SUBDIR: 'osx-arm64', PIP_EXISTS_ACTION: 'w', RUSTUP_TOOLCHAIN: '1.72.1' })
    const preload = r.order.find((x) => x.id === 'preload')
    expect(preload?.steps?.[0]?.env).toMatchObject({ PYTORCH_ENABLE_MPS_FALLBACK: '1', PYTHONUNBUFFERED: '1' })
    expect(r.order.filter((x) => x.status !== 'unchanged').map((x) => `${x.id}: ${x.status}`)).toEqual(['env: changed', 'preload: changed', 'service: pending', 'health: pending'])
  })
})
