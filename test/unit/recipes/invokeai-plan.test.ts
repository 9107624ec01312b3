import { describe, expect, it } from 'vitest'
import invokeai, { FORK_COMMIT } from '../../../recipes/invokeai.ts'
import type { Facts, GpuFacts } from '../../../lib/core/types.ts'
import { linuxFacts, macFacts, windowsFacts, hex, psHex } from '../../helpers/facts.ts'
import { planRecipe } from '../../helpers/plan-recipe.ts'

// Probe outputs of a fresh host, shaped as the tools print them (see the resources' own tables).
const madison = (...rows: [string, string][]): string => hex(rows.map(([n, v]) => `${n.padStart(10)} | ${v} | http://deb.debian.org/debian bookworm/main amd64 Packages\n`).join(''))
const SPIN = '\r   - \r   \\ \r   | \r   / \r'
const LIST = 'Software Update Tool\n\nFinding available software\nSoftware Update found the following new or updated software:\n* Label: Command Line Tools for Xcode-15.3\n\tTitle: Command Line Tools for Xcode, Version: 15.3, Size: 707501KiB, Recommended: YES, \n'
const NO_DIR = 'xcode-select: error: unable to get active developer directory. Use `sudo xcode-select --switch path/to/Xcode.app` to select the active developer directory, or install Xcode and run this command again.\n'
const GiB = 1024 ** 3
const roomy = { avail: String(500 * 1024 * 1024) } // 500 GiB free, in KiB as df -Pk prints it

const nvidia: GpuFacts = { vendor: 'nvidia', devices: [{ name: 'NVIDIA H100 80GB HBM3', memoryBytes: 80 * GiB }], driver: '580.159.04', cuda: '13.0' }
const linux: Facts = { ...linuxFacts, gpu: nvidia }
const mac: Facts = { ...macFacts, gpu: { vendor: 'apple', devices: [{ name: 'Apple M1 Pro' }] } }
const windows: Facts = { ...windowsFacts, gpu: { vendor: 'nvidia', devices: [{ name: 'NVIDIA GeForce RTX 2070', memoryBytes: 8 * GiB }], driver: '566.36', cuda: '12.7' } }
const TOKEN = { HF_TOKEN: 'hf_secretvalue' }
/** The model store's download (a default id: the same in recipes/invokeai-modern, so kept once when both are included). */
const STORE = '/home/ana/.local/share/statecraft/models'
const DL = `download:${STORE}/sd-v1-4-full-ema.ckpt`
/** git, curl and build-essential installed, as dpkg-query prints them. */
const TOOLS = { manager: 'apt', installed: hex('git\tinstall ok installed\t1:2.39.5-0+deb12u1\ncurl\tinstall ok installed\t7.88.1-10+deb12u5\nbuild-essential\tinstall ok installed\t12.9\n') }

const fresh: Record<string, Record<string, Record<string, string>>> = {
  linux: {
    preflight: { ...roomy, ckpt: '0', env: '0', hosttoken: '0', condax86: '0', portused: '0' },
    'prereq/tools': { manager: 'apt', installed: '', available: madison(['git', '1:2.39.5-0+deb12u1'], ['curl', '7.88.1-10+deb12u5'], ['build-essential', '12.9']) },
  },
  darwin: {
    preflight: { ...roomy, ckpt: '0', env: '0', hosttoken: '0', condax86: '0', portused: '0' },
    'prereq/xcode': { uid: '0', selectrc: '2', path: hex(NO_DIR), updates: hex(LIST) },
  },
  windows: {
    preflight: { ...roomy, ckpt: '0', env: '0', hosttoken: '0', condax86: '0', longpaths: '1', portused: '0' },
    'prereq/git': { manager: 'winget', wingetpath: psHex('C:\\Users\\ana\\AppData\\Local\\Microsoft\\WindowsApps\\winget.exe'), installed_0: psHex(`${SPIN}No installed package found matching input criteria.\r\n`), available_0: psHex(`${SPIN}Found Git [Git.Git]\r\nVersion\r\n-------\r\n2.43.0\r\n`) },
  },
}

const summary = (r: ReturnType<typeof planRecipe>): string[] => r.order.map((x) => `${x.id}: ${x.status === 'changed' ? 'will change' : x.status === 'pending' ? x.changes[0] : x.status}`)

describe('recipes/invokeai: --plan against a fresh host of each OS', () => {
  it('Linux (Debian 12, H100): every resource, in dependency order, will change or is re-checked', () => {
    const r = planRecipe(invokeai, linux, { env: TOKEN, probes: fresh.linux })
    expect(summary(r)).toEqual([
      'preflight: unchanged',
      'prereq/tools: will change',
      'prereq/conda: will change',
      'prereq/rustup: will change',
      'invokeai: re-checked after prereq/tools',
      'models: re-checked after invokeai',
      'directory:/home/ana/.local/share/statecraft/models: will change',
      'download:/home/ana/.local/share/statecraft/models/sd-v1-4-full-ema.ckpt: re-checked after prereq/tools',
      'checkpoint: re-checked after models',
      'model-sha256: re-checked after checkpoint',
      'env: re-checked after invokeai',
      'preload: re-checked after env',
      'service: re-checked after model-sha256',
      'health: re-checked after service',
    ])
    const get = (id: string) => r.order.find((x) => x.id === id)
    expect(get('prereq/tools')?.changes).toEqual(['install git 2.39.5 (apt)', 'install curl 7.88.1 (apt)', 'install build-essential 12.9 (apt)'])
    // The checkpoint lands in the model store once (after the tools that bring curl); the checkout gets a link to it.
    expect(planRecipe(invokeai, linux, { env: TOKEN, probes: { ...fresh.linux, 'prereq/tools': TOOLS } }).order.find((x) => x.id === DL)?.changes).toEqual([`download https://huggingface.co/CompVis/stable-diffusion-v-1-4-original/resolve/main/sd-v1-4-full-ema.ckpt to ${STORE}/sd-v1-4-full-ema.ckpt (7.70 GB), sha256 from the recipe`])
    expect(r.warnings).toEqual([])
    expect(JSON.stringify(r)).not.toContain('hf_secretvalue')
  })

  it('macOS (Apple Silicon): the Command Line Tools first, then the same flow', () => {
    const r = planRecipe(invokeai, mac, { env: TOKEN, probes: fresh.darwin })
    expect(summary(r)).toEqual([
      'preflight: unchanged',
      'prereq/xcode: will change',
      'prereq/conda: will change',
      'prereq/rustup: re-checked after prereq/xcode',
      'invokeai: re-checked after prereq/xcode',
      'models: re-checked after invokeai',
      'directory:/Users/ana/Library/Application Support/statecraft/models: will change',
      'download:/Users/ana/Library/Application Support/statecraft/models/sd-v1-4-full-ema.ckpt: will change',
      'checkpoint: re-checked after models',
      'model-sha256: re-checked after checkpoint',
      'env: re-checked after invokeai',
      'preload: re-checked after env',
      'service: re-checked after model-sha256',
      'health: re-checked after service',
    ])
    expect(r.order.find((x) => x.id === 'prereq/conda')?.changes[0]).toMatch(/MacOSX-arm64\.sh/)
  })

  it('Windows 11 (RTX 2070): git by winget, conda and rustup by their installers', () => {
    const r = planRecipe(invokeai, windows, { env: TOKEN, probes: fresh.windows })
    expect(summary(r)).toEqual([
      'preflight: unchanged',
      'prereq/git: will change',
      'prereq/conda: will change',
      'prereq/rustup: will change',
      'invokeai: re-checked after prereq/git',
      'models: re-checked after invokeai',
      'directory:C:\\Users\\ana\\AppData\\Local\\statecraft\\models: will change',
      'download:C:\\Users\\ana\\AppData\\Local\\statecraft\\models\\sd-v1-4-full-ema.ckpt: will change',
      'checkpoint: re-checked after models',
      'model-sha256: re-checked after checkpoint',
      'env: re-checked after invokeai',
      'preload: re-checked after env',
      'service: re-checked after model-sha256',
      'health: re-checked after service',
    ])
    expect(r.order.find((x) => x.id === 'prereq/conda')?.changes[0]).toMatch(/Windows-x86_64\.exe/)
  })

  it('a bind that is not loopback adds the firewall openings (ufw, firewalld), guarded by "no such firewall is active"', () => {
    const r = planRecipe(invokeai, linux, { env: TOKEN, probes: fresh.linux, set: { bind: '0.0.0.0' } })
    expect(r.order.map((x) => x.id)).toEqual(expect.arrayContaining(['firewall-ufw', 'firewall-firewalld']))
  })

  it('--skip prerequisites (a host that has them): the checkout is planned at once', () => {
    const r = planRecipe(invokeai, linux, { env: TOKEN, probes: fresh.linux, skip: ['prerequisites'] })
    expect(r.order.map((x) => x.id).filter((id) => id.startsWith('prereq/'))).toEqual([])
    expect(r.order.find((x) => x.id === 'invokeai')?.changes).toEqual([`clone https://github.com/nunocoracao/InvokeAI.git to /home/ana/invokeai at ${FORK_COMMIT}`])
  })

  it('service: false plans no service and no health check', () => {
    const r = planRecipe(invokeai, linux, { env: TOKEN, probes: fresh.linux, set: { service: false } })
    expect(r.order.map((x) => x.id)).not.toContain('service')
    expect(r.order.map((x) => x.id)).not.toContain('health')
  })
})

describe('recipes/invokeai: preflight lists every problem at once, before any change', () => {
  it('disk, token, port, long paths, driver, path with spaces: one failure, everything else skipped', () => {
    const old: Facts = { ...windows, memoryBytes: 8 * GiB, gpu: { ...nvidia, driver: '456.71', cuda: '11.1' } }
    const r = planRecipe(invokeai, old, { probes: { ...fresh.windows, preflight: { avail: String(3 * 1024 * 1024), ckpt: '0', env: '0', hosttoken: '0', condax86: '0', longpaths: '0', portused: '1' } }, set: { root: 'C:\\Users\\ana\\My Stuff\\invokeai' } })
    const pre = r.order.find((x) => x.id === 'preflight')
    expect(pre?.status).toBe('failed')
    const msg = pre?.error ?? ''
    expect(msg).toMatch(/^InvokeAI preflight found 6 problems; nothing was changed/)
    for (const re of [/driver 456\.71 supports CUDA 11\.1/, /contains a space/, /not enough free disk .* 3\.0 GB free/, /no Hugging Face token/, /port 9090 is taken/, /long paths are off/]) expect(msg).toMatch(re)
    expect(r.warnings).toEqual([expect.stringMatching(/^preflight: 8\.6 GB of memory/)])
    expect(r.order.filter((x) => x.id !== 'preflight').every((x) => x.status === 'skipped')).toBe(true)
  })

  it('a gated checkpoint stops the run in the preflight, before the prerequisites: its HEAD answered 403 GatedRepo', () => {
    const head = 'HTTP/2 403\r\nx-error-code: GatedRepo\r\nx-error-message: Access to model CompVis/stable-diffusion-v-1-4-original is restricted and you are not in the authorized list.\r\n\r\n'
    const r = planRecipe(invokeai, linux, { env: TOKEN, probes: { ...fresh.linux, preflight: { ...fresh.linux!.preflight, head: hex(head) } } })
    const pre = r.order.find((x) => x.id === 'preflight')
    expect(pre?.status).toBe('failed')
    expect(pre?.error).toMatch(/1\. https:\/\/huggingface\.co\/CompVis\/stable-diffusion-v-1-4-original\/resolve\/main\/sd-v1-4-full-ema\.ckpt is gated \(Access to model .* authorized list\.\): accept the licence at https:\/\/huggingface\.co\/CompVis\/stable-diffusion-v-1-4-original with the account the token \(HF_TOKEN\) belongs to/)
    expect(r.order.find((x) => x.id === 'prereq/tools')?.status).toBe('skipped')
    // Unreachable: no problem here (the checkpoint's own probe warns "not checked").
    const offline = planRecipe(invokeai, linux, { env: TOKEN, probes: { ...fresh.linux, preflight: { ...fresh.linux!.preflight, head: hex('curl: (6) Could not resolve host: huggingface.co\n') } } })
    expect(offline.order.find((x) => x.id === 'preflight')?.status).toBe('unchanged')
  })

  it('macOS older than 12.3 and an x86_64 conda on Apple Silicon', () => {
    const r = planRecipe(invokeai, { ...mac, osVersion: '12.2.1' }, { env: TOKEN, probes: { ...fresh.darwin, preflight: { ...fresh.darwin!.preflight, condax86: '1' } } })
    const msg = r.order.find((x) => x.id === 'preflight')?.error ?? ''
    expect(msg).toMatch(/macOS 12\.2\.1: PyTorch's MPS backend needs macOS 12\.3/)
    expect(msg).toMatch(/x86_64 \(osx-64\) one on Apple Silicon/)
  })

  it('no NVIDIA GPU: a "CPU only" warning, not a failure; our own InvokeAI on the port is not a problem', () => {
    const r = planRecipe(invokeai, { ...linuxFacts, gpu: { vendor: 'none', devices: [] } }, { env: TOKEN, probes: { ...fresh.linux, preflight: { ...fresh.linux!.preflight, portused: '1', portours: '1' } } })
    expect(r.order.find((x) => x.id === 'preflight')?.status).toBe('unchanged')
    expect(r.warnings).toEqual(['preflight: no NVIDIA GPU found (none): InvokeAI will run on the CPU only, minutes per image'])
  })

  it('a token on the host (~/.cache/huggingface/token) is enough; so is a checkpoint already there', () => {
    expect(planRecipe(invokeai, linux, { probes: { ...fresh.linux, preflight: { ...fresh.linux!.preflight, hosttoken: '1' } } }).order[0]?.status).toBe('unchanged')
    expect(planRecipe(invokeai, linux, { probes: { ...fresh.linux, preflight: { ...fresh.linux!.preflight, ckpt: '1' } } }).order[0]?.status).toBe('unchanged')
  })

  it('a checkpoint an earlier install downloaded into the checkout is reported (move it into the store), never deleted', () => {
    const LINK = '/home/ana/invokeai/models/ldm/stable-diffusion-v1/model.ckpt'
    const moved = planRecipe(invokeai, linux, { env: TOKEN, probes: { ...fresh.linux, preflight: { ...fresh.linux!.preflight, fileatlink: '1' } } }).order[0]
    expect(moved?.changes).toEqual([`refuse to start: 1 problem: (1) ${LINK} is a checkpoint from an earlier install, not a link to the model store: move it there (mv ${LINK} ${STORE}/sd-v1-4-full-ema.ckpt) so it is not downloaded again, then run again; statecraft never deletes a checkpoint to make a link`])
    const twice = planRecipe(invokeai, linux, { env: TOKEN, probes: { ...fresh.linux, preflight: { ...fresh.linux!.preflight, ckpt: '1', fileatlink: '1' } } }).order[0]
    expect(twice?.changes[0]).toContain(`${LINK} is a file from an earlier install, and the model store already holds the checkpoint (${STORE}/sd-v1-4-full-ema.ckpt): delete ${LINK}`)
  })
})

describe('recipes/invokeai: hub and options', () => {
  it('the checkpoint comes from HF_ENDPOINT when set; --set/inventory still win', () => {
    const url = (env: Record<string, string>, set = {}) => {
      const r = planRecipe(invokeai, linux, { env: { ...TOKEN, ...env }, set, probes: { ...fresh.linux, 'prereq/tools': TOOLS, invokeai: { git: 'present', exists: 'repo', head: FORK_COMMIT, dirty: '0', origin: hex('https://github.com/nunocoracao/InvokeAI.git') }, models: { kind: 'directory', perm: 'drwxr-xr-x', owner: 'ana' } } })
      return r.order.find((x) => x.id === DL)?.changes[0] ?? ''
    }
    expect(url({})).toContain('download https://huggingface.co/CompVis/stable-diffusion-v-1-4-original/resolve/main/sd-v1-4-full-ema.ckpt')
    expect(url({ HF_ENDPOINT: 'https://hf-mirror.example/' })).toContain('download https://hf-mirror.example/CompVis/stable-diffusion-v-1-4-original/resolve/main/sd-v1-4-full-ema.ckpt')
    expect(url({ HF_ENDPOINT: 'https://hf-mirror.example' }, { hubUrl: 'https://other.example' })).toContain('https://other.example/CompVis/')
  })

  it('an unreachable hub is a warning ("not checked"), not a failure', () => {
    const probes = { ...fresh.linux, 'prereq/tools': TOOLS, invokeai: { git: 'present', exists: 'repo', head: FORK_COMMIT, dirty: '0', origin: hex('https://github.com/nunocoracao/InvokeAI.git') }, models: { kind: 'directory', perm: 'drwxr-xr-x', owner: 'ana' }, [DL]: { stampok: '0', exists: '0', head: hex('curl: (6) Could not resolve host: huggingface.co\n') } }
    const r = planRecipe(invokeai, linux, { env: TOKEN, probes })
    expect(r.order.find((x) => x.id === DL)?.status).toBe('changed')
    expect(r.warnings).toEqual([expect.stringMatching(/^download:.*: https:\/\/huggingface\.co\/.* not checked \(curl: \(6\) Could not resolve host: huggingface\.co\)/)])
  })

  it('a gated checkpoint without accepted licence fails the plan in seconds, with the model page', () => {
    const head = 'HTTP/2 403\r\nx-error-code: GatedRepo\r\nx-error-message: Access to model CompVis/stable-diffusion-v-1-4-original is restricted. You must have access to it and be authenticated to access it. Please log in.\r\n\r\n'
    const probes = { ...fresh.linux, 'prereq/tools': TOOLS, invokeai: { git: 'present', exists: 'repo', head: FORK_COMMIT, dirty: '0', origin: hex('https://github.com/nunocoracao/InvokeAI.git') }, models: { kind: 'directory', perm: 'drwxr-xr-x', owner: 'ana' }, [DL]: { stampok: '0', exists: '0', head: hex(head) } }
    const c = planRecipe(invokeai, linux, { env: TOKEN, probes }).order.find((x) => x.id === DL)
    expect(c?.status).toBe('failed')
    expect(c?.error).toMatch(/huggingface\.co\/CompVis\/stable-diffusion-v-1-4-original/)
  })

  it('test-only overrides: a stand-in hub (HF_ENDPOINT) with its small file, or another URL; the model.sha256 follows the hash', () => {
    const probes = { ...fresh.linux, 'prereq/tools': TOOLS, invokeai: { git: 'present', exists: 'repo', head: FORK_COMMIT, dirty: '0', origin: hex('https://github.com/nunocoracao/InvokeAI.git') }, models: { kind: 'directory', perm: 'drwxr-xr-x', owner: 'ana' } }
    const small = planRecipe(invokeai, linux, { env: { ...TOKEN, HF_ENDPOINT: 'http://10.0.0.1:8080' }, set: { checkpointSha256: 'A'.repeat(64), checkpointSize: 1024 }, probes })
    expect(small.order.find((x) => x.id === DL)?.changes).toEqual([`download http://10.0.0.1:8080/CompVis/stable-diffusion-v-1-4-original/resolve/main/sd-v1-4-full-ema.ckpt to ${STORE}/sd-v1-4-full-ema.ckpt (1024 bytes), sha256 from the recipe`])
    expect(small.order.find((x) => x.id === 'model-sha256')?.status).toBe('pending')
    const other = planRecipe(invokeai, linux, { env: TOKEN, set: { checkpointUrl: 'http://10.0.0.1:8080/x.ckpt' }, probes })
    expect(other.order.find((x) => x.id === DL)?.changes[0]).toMatch(/^download http:\/\/10\.0\.0\.1:8080\/x\.ckpt to .*sd-v1-4-full-ema\.ckpt, no checksum: size only$|^download http:\/\/10\.0\.0\.1:8080\/x\.ckpt to .*, /)
    // Without a hash there is no model.sha256 to write: InvokeAI hashes it at first start.
    expect(other.order.map((x) => x.id)).not.toContain('model-sha256')
  })
})
