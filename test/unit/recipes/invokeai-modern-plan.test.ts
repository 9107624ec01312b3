import { describe, expect, it } from 'vitest'
import type { Facts } from '../../../lib/core/types.ts'
import modern from '../../../recipes/invokeai-modern.ts'
import { SMOKE_TEST } from '../../../recipes/invokeai-modern/commands.ts'
import { invokeaiYaml } from '../../../recipes/invokeai-modern/yaml.ts'
import { envSwap } from '../../../recipes/invokeai-modern/env-swap.ts'
import { room } from '../../../recipes/invokeai-modern/room.ts'
import { UV_INSTALLERS } from '../../../lib/resources/uv.ts'
import { hex, linuxFacts, macFacts, psHex, windowsFacts } from '../../helpers/facts.ts'
import { examplesOf, lintPosix, lintPowerShell, shellcheck, windowsFacts as lintWindows } from '../../helpers/lint.ts'
import { planRecipe } from '../../helpers/plan-recipe.ts'

const lintLinux: Facts = linuxFacts
const cpuDebian: Facts = { ...linuxFacts, gpu: { vendor: 'none', devices: [] } }
const h100: Facts = { ...linuxFacts, gpu: { vendor: 'nvidia', devices: [{ name: 'NVIDIA H100 80GB HBM3' }], driver: '580.159.04', cuda: '13.0' } }
const m1: Facts = { ...macFacts, gpu: { vendor: 'apple', devices: [{ name: 'Apple M1 Pro' }] } }
const rtx2070: Facts = { ...windowsFacts, gpu: { vendor: 'nvidia', devices: [{ name: 'NVIDIA GeForce RTX 2070' }], driver: '566.36', cuda: '12.7' } }
const rtx5090: Facts = { ...linuxFacts, gpu: { vendor: 'nvidia', devices: [{ name: 'NVIDIA GeForce RTX 5090' }], driver: '565.57.01', cuda: '12.7' } }
const brewInfo = (name: string, stable: string): string =>
  hex(JSON.stringify({ formulae: [{ name, full_name: name, tap: 'homebrew/core', versions: { stable, head: 'HEAD', bottle: true } }], casks: [] }))

/** python3-venv installed, as dpkg-query prints it (see the pkg resource's table). */
const VENV = { manager: 'apt', installed: hex('python3-venv\tinstall ok installed\t3.11.2-1+b1\n') }
const summary = (r: ReturnType<typeof planRecipe>): string[] => r.order.map((x) => `${x.id}: ${x.status === 'changed' ? x.changes.join('; ') : x.status === 'pending' ? x.changes[0] : x.status}`)
const ROOT = '/home/ana/invokeai-modern'

describe('recipes/invokeai-modern: --plan', () => {
  it('a fresh CPU-only Debian host: the venv + pip route (no manager ships uv), "build beside, swap after test"', () => {
    const r = planRecipe(modern, cpuDebian, { probes: { venv: { manager: 'apt', installed: '', available: hex('python3-venv | 3.11.2-1+b1 | http://deb.debian.org/debian bookworm/main amd64 Packages\n') } } })
    expect(summary(r)).toEqual([
      'room: unchanged',
      `envs: create directory ${ROOT}/envs`,
      'venv: install python3-venv 3.11.2 (apt)',
      'env: re-checked after envs',
      'config: re-checked after envs',
      'service: re-checked after env',
      'health: re-checked after service',
    ])
    // Planned as the apply would run it once envs exists: the env's own steps, in order.
    const env = planRecipe(modern, cpuDebian, { probes: { envs: { kind: 'directory' }, venv: VENV } }).order.find((x) => x.id === 'env')
    expect(env?.changes).toEqual([`build env invokeai-6.0.0-cpu first env, swap after test (a tensor op on cpu, torch build cpu; no GPU found: the CPU build (minutes per image))`])
    const e = `${ROOT}/envs/invokeai-6.0.0-cpu`
    expect(env?.steps?.map((s) => s.argv)).toEqual([
      ['rm', '-rf', '--', e],
      ['python3', '-m', 'venv', e],
      [`${e}/bin/python`, '-m', 'pip', 'install', '--disable-pip-version-check', '--index-url', 'https://download.pytorch.org/whl/cpu', '--extra-index-url', 'https://pypi.org/simple', 'invokeai==6.0.0'],
      [`${e}/bin/python`, '-c', SMOKE_TEST, 'cpu'],
      ['touch', '--', `${e}/.statecraft-ready`],
      ['sh', '-c', expect.stringContaining('mv -f -T -- "$2.swap" "$2"'), 'sh', e, `${ROOT}/current`, `${ROOT}/envs`, ''],
    ])
  })

  it('the H100 host: torch 2.7 -> cu128; the config holds bind, port and origins', () => {
    const set = { bind: '0.0.0.0', port: 9191, origins: 'http://studio.lan:9191, http://10.0.0.5:9191' }
    const r = planRecipe(modern, h100, { set, probes: { envs: { kind: 'directory' }, venv: VENV, config: { kind: 'absent' } } })
    const env = r.order.find((x) => x.id === 'env')
    expect(env?.changes[0]).toMatch(/^build env invokeai-6\.0\.0-cu128 first env, swap after test \(a tensor op on cuda, torch build cu128; NVIDIA H100 80GB HBM3, driver 580\.159\.04 \(CUDA 13\.0\)/)
    expect(env?.steps?.[2]?.argv).toContain('https://download.pytorch.org/whl/cu128')
    const config = r.order.find((x) => x.id === 'config')
    expect(config?.changes).toEqual([expect.stringMatching(new RegExp(`^create file ${ROOT}/invokeai\\.yaml \\(\\d+ bytes\\)$`))])
    expect(invokeaiYaml(set)).toBe([
      "# Written by statecraft (recipes/invokeai-modern); edit the recipe's options, not this file.",
      'schema_version: 4.0.2',
      'host: "0.0.0.0"',
      'port: 9191',
      'allow_origins: ["http://studio.lan:9191", "http://10.0.0.5:9191"]',
      '',
    ].join('\n'))
    // A value cannot break out of its YAML string.
    expect(invokeaiYaml({ bind: '127.0.0.1"\nport: 1', port: 9090, origins: '' })).toContain('host: "127.0.0.1\\"\\nport: 1"\nport: 9090\n')
  })

  it('converged: the link on the declared env, ready -> no change; a version bump builds beside and keeps the old one', () => {
    const old = `${ROOT}/envs/invokeai-6.0.0-cpu`
    const same = planRecipe(modern, cpuDebian, { probes: { envs: { kind: 'directory' }, venv: VENV, env: { target: hex(old), ready: '1' } } })
    expect(same.order.find((x) => x.id === 'env')?.status).toBe('unchanged')
    const bump = planRecipe(modern, cpuDebian, { set: { version: '6.0.1' }, probes: { envs: { kind: 'directory' }, venv: VENV, env: { target: hex(old), ready: '0' } } })
    const env = bump.order.find((x) => x.id === 'env')
    expect(env?.changes[0]).toMatch(new RegExp(`^build env invokeai-6\\.0\\.1-cpu beside ${old}, swap after test`))
    expect(env?.steps?.at(-1)?.argv.slice(-4)).toEqual([`${ROOT}/envs/invokeai-6.0.1-cpu`, `${ROOT}/current`, `${ROOT}/envs`, old])
    // Back to a version whose env is still there and passed its test: swapped, not rebuilt.
    const back = planRecipe(modern, cpuDebian, { probes: { envs: { kind: 'directory' }, venv: VENV, env: { target: hex(`${ROOT}/envs/invokeai-6.0.1-cpu`), ready: '1' } } })
    const b = back.order.find((x) => x.id === 'env')
    expect(b?.changes).toEqual([`swap to env invokeai-6.0.0-cpu (built and tested before; beside ${ROOT}/envs/invokeai-6.0.1-cpu)`])
    expect(b?.steps?.map((s) => s.argv[0])).toEqual(['sh'])
  })

  it('the M1 Mac: uv from brew, by its absolute path, no --torch-backend (MPS is PyPI\'s wheels)', () => {
    const r = planRecipe(modern, m1, { probes: { uv: { manager: 'brew', installed: hex(''), available: brewInfo('uv', '0.9.5') }, envs: { kind: 'directory' }, venv: VENV } })
    expect(r.order.find((x) => x.id === 'uv')?.changes).toEqual(['install uv 0.9.5 (brew)'])
    const env = r.order.find((x) => x.id === 'env')
    expect(env?.changes[0]).toMatch(/^re-checked after uv/)
    const after = planRecipe(modern, m1, { probes: { uv: { manager: 'brew', installed: hex('uv 0.9.5\n'), available: brewInfo('uv', '0.9.5') }, envs: { kind: 'directory' }, venv: VENV } })
    const e = '/Users/ana/invokeai-modern/envs/invokeai-6.0.0-mps'
    expect(after.order.find((x) => x.id === 'env')?.steps?.slice(1, 3).map((s) => s.argv)).toEqual([
      ['/opt/homebrew/bin/uv', 'venv', '--python', '3.12', e],
      ['/opt/homebrew/bin/uv', 'pip', 'install', '--python', `${e}/bin/python`, 'invokeai==6.0.0'],
    ])
    expect(after.order.find((x) => x.id === 'env')?.steps?.at(-1)?.argv[2]).toContain('mv -f -h --')
  })

  it('route uv on Debian 12 (no package ships uv): Astral\'s installer, pinned, into ~/.local/bin; the env uses that uv', () => {
    const r = planRecipe(modern, h100, { set: { route: 'uv' }, probes: { uv: { present: '0' } } })
    expect(r.order.map((x) => x.id)).toEqual(['room', 'envs', 'uv', 'env', 'config', 'service', 'health'])
    expect(r.order.find((x) => x.id === 'uv')?.changes).toEqual([`install uv ${UV_INSTALLERS[0]!.version} with ${UV_INSTALLERS[0]!.file} (sha256 ${UV_INSTALLERS[0]!.sha256.slice(0, 12)}…) into /home/ana/.local/bin`])
    expect(r.order.find((x) => x.id === 'uv')?.steps?.[1]).toEqual({ argv: ['sh', `/home/ana/.statecraft/installers/${UV_INSTALLERS[0]!.file}`], env: { UV_INSTALL_DIR: '/home/ana/.local/bin', UV_NO_MODIFY_PATH: '1' } })
    const after = planRecipe(modern, h100, { set: { route: 'uv' }, probes: { envs: { kind: 'directory' }, uv: { present: '1', version: hex(`uv ${UV_INSTALLERS[0]!.version}\n`) } } })
    const e = `${ROOT}/envs/invokeai-6.0.0-cu128`
    expect(after.order.find((x) => x.id === 'env')?.steps?.[1]?.argv).toEqual(['/home/ana/.local/bin/uv', 'venv', '--python', '3.12', e])
    // A mirror of the installer: its url and sha256, or it is refused before anything runs.
    expect(() => planRecipe(modern, h100, { set: { route: 'uv', uvInstallerUrl: 'https://mirror.lan/uv-installer.sh' } })).toThrow(/uv: sha256 is required with url: an installer is never run unchecked/)
  })

  it('a checkpoint from the model store: downloaded once into the store, linked under models/, registered at startup', () => {
    const STORE = '/home/ana/.local/share/statecraft/models'
    const CURL = { manager: 'apt', installed: hex('curl\tinstall ok installed\t7.88.1-10+deb12u5\n') }
    const r = planRecipe(modern, cpuDebian, { env: { HF_TOKEN: 'hf_modern' }, set: { checkpoint: 'sd-v1-4.ckpt' }, probes: { venv: VENV, curl: CURL } })
    // curl (the download runs it) from apt, then the one download into the store, then the link.
    expect(r.order.map((x) => x.id)).toEqual(['room', 'envs', 'venv', 'env', 'config', 'curl', `directory:${STORE}`, `download:${STORE}/sd-v1-4.ckpt`, 'models', 'checkpoint', 'service', 'health'])
    expect(r.order.find((x) => x.id === `download:${STORE}/sd-v1-4.ckpt`)?.changes).toEqual([`download https://huggingface.co/CompVis/stable-diffusion-v-1-4-original/resolve/main/sd-v1-4.ckpt to ${STORE}/sd-v1-4.ckpt (4.27 GB), sha256 from the recipe`])
    const linked = planRecipe(modern, cpuDebian, { env: { HF_TOKEN: 'hf_modern' }, set: { checkpoint: 'sd-v1-4.ckpt' }, probes: { venv: VENV, curl: CURL, models: { kind: 'directory', perm: 'drwxr-xr-x', owner: 'ana' }, [`directory:${STORE}`]: { kind: 'directory', perm: 'drwxr-xr-x', owner: 'ana' }, [`download:${STORE}/sd-v1-4.ckpt`]: { stampok: '1', exists: '1' }, checkpoint: { kind: 'absent' } } })
    expect(linked.order.find((x) => x.id === 'checkpoint')?.changes).toEqual([`create link ${ROOT}/models/statecraft/sd-v1-4.ckpt -> ${STORE}/sd-v1-4.ckpt`])
    expect(invokeaiYaml({ bind: '127.0.0.1', port: 9090, origins: '', scanModels: true })).toContain('\nscan_models_on_startup: true\n')
    expect(invokeaiYaml({ bind: '127.0.0.1', port: 9090, origins: '' })).not.toContain('scan_models')
    expect(JSON.stringify(r)).not.toContain('hf_modern')
  })

  it('free disk: env, cache and models together, each on its filesystem; a converged env needs none (the cases: invokeai-modern-room.test.ts)', () => {
    const oneDisk = (kib: number) => ({ ...Object.fromEntries(['root', 'cache', 'store'].flatMap((p) => [[`fs_${p}`, hex('/dev/nvme0n1p2')], [`avail_${p}`, String(kib)]])), ready: '0' })
    const tight = oneDisk(13 * 1024 * 1024) // 13 GiB free, as df -Pk prints it
    const r = planRecipe(modern, h100, { probes: { room: tight } })
    expect(r.order.find((x) => x.id === 'room')?.changes).toEqual([`refuse to build: not enough free disk for InvokeAI: 13.0 GB free on /dev/nvme0n1p2, 14.0 GB needed there (env ~8.0 GB in ${ROOT}, margin 2.0 GB, its wheels in the cache ~4.0 GB in /home/ana/.cache/pip, models 0.0 GB kept free (modelsGB) in /home/ana/.local/share/statecraft/models); free some space, or put a part on another disk (the root option for the env, modelStore for the models, UV_CACHE_DIR for uv's cache)`])
    expect(planRecipe(modern, cpuDebian, { probes: { room: tight } }).order.find((x) => x.id === 'room')?.status).toBe('unchanged')
    expect(planRecipe(modern, cpuDebian, { set: { modelsGB: 12 }, probes: { room: tight } }).order.find((x) => x.id === 'room')?.changes[0]).toMatch(/models 12\.0 GB kept free \(modelsGB\)/)
    expect(planRecipe(modern, h100, { probes: { room: { ...oneDisk(1024), ready: '1' } } }).order.find((x) => x.id === 'room')?.status).toBe('unchanged')
    const d = room.type.validate({ root: '/r', ready: '/r/x', cache: '/c', store: '/s', checkpointBytes: 0, envBytes: 1, cacheBytes: 1, modelsBytes: 0, marginBytes: 1 }, linuxFacts)
    expect(() => room.type.apply(d, { ready: false, checkpoint: false, fs: {} }, [{ op: 'refuse', problem: 'P', text: 't' }], linuxFacts)).toThrow(/^P; nothing was changed$/)
  })

  it('refusals stop before anything is planned, with what was detected, why and what to do', () => {
    expect(() => planRecipe(modern, rtx5090)).toThrow(/no torch build for NVIDIA GeForce RTX 5090, driver 565\.57\.01 \(CUDA 12\.7\): a Blackwell GPU needs a CUDA 12\.8\+ build.*update the NVIDIA driver to 570 or newer.*\(nothing was changed\)/)
    expect(() => planRecipe(modern, { ...macFacts, arch: 'x64', appleSilicon: false, cpu: 'Intel(R) Core(TM) i7', gpu: { vendor: 'none', devices: [] } })).toThrow(/no macOS x86_64 wheels after 2\.2\.2/)
  })

  it('the RTX 2070 Windows PC: uv from winget, cu126 (the driver is for CUDA 12.7), Scripts\\ paths, a junction swap', () => {
    const SPIN = '\r   - \r   \\ \r   | \r   / \r'
    const r = planRecipe(modern, rtx2070, { probes: { uv: { manager: 'winget', wingetpath: psHex('C:\\Users\\ana\\AppData\\Local\\Microsoft\\WindowsApps\\winget.exe'), installed_0: psHex(`${SPIN}No installed package found matching input criteria.\r\n`), available_0: psHex(`${SPIN}Found uv [astral-sh.uv]\r\nVersion\r\n-------\r\n0.9.5\r\n`) } } })
    expect(r.order.find((x) => x.id === 'uv')?.changes).toEqual(['install astral-sh.uv 0.9.5 (winget)'])
    const uv = 'C:\\tools\\uv.exe'
    const after = planRecipe(modern, rtx2070, { set: { uv }, probes: { envs: { kind: 'directory' } } })
    const env = after.order.find((x) => x.id === 'env')
    const e = 'C:\\Users\\ana\\invokeai-modern\\envs\\invokeai-6.0.0-cu126'
    expect(env?.changes[0]).toMatch(/^build env invokeai-6\.0\.0-cu126 first env, swap after test \(a tensor op on cuda, torch build cu126; NVIDIA GeForce RTX 2070, driver 566\.36 \(CUDA 12\.7\)/)
    expect(env?.steps?.slice(1, 4).map((s) => s.argv)).toEqual([
      [uv, 'venv', '--python', '3.12', e],
      [uv, 'pip', 'install', '--python', `${e}\\Scripts\\python.exe`, '--torch-backend=cu126', 'invokeai==6.0.0'],
      [`${e}\\Scripts\\python.exe`, '-c', SMOKE_TEST, 'cuda'],
    ])
  })

  it('envSwap\'s scripts: shellcheck-clean on POSIX, parsed by a real PowerShell grammar, hostile values quoted', () => {
    const samples = (pathOf: (v: string) => string) => examplesOf(envSwap.type, ["it's $(x) `y`", 'a b;c'], pathOf)
    expect(lintPosix([{ type: envSwap.type, samples: samples((v) => `/tmp/${v}`) }]).out).toBe('')
    const posix = samples((v) => `/tmp/${v}`).flatMap((s) => {
      const d = envSwap.type.validate(s.desired, lintLinux)
      return envSwap.type.apply(d, s.current, envSwap.type.diff(d, s.current), lintLinux)
    })
    const swap = posix.find((s) => s.argv[0] === 'sh')?.argv[2] as string
    expect(shellcheck(swap).out).toBe('')
    const roomSamples = (pathOf: (v: string) => string) => examplesOf(room.type, ["it's $(x) `y`"], pathOf)
    expect(lintPosix([{ type: room.type, samples: roomSamples((v) => `/tmp/${v}`) }]).out).toBe('')
    expect(lintPowerShell([{ type: room.type, samples: roomSamples((v) => `C:\\${v}`) }], lintWindows).probe).toBe('')
    const ps = lintPowerShell([{ type: envSwap.type, samples: samples((v) => `C:\\${v}`) }], lintWindows)
    expect(ps).toMatchObject({ probe: '', steps: [] })
    expect(ps.stepCount).toBeGreaterThan(4)
  })
})
