import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseFacts } from '../../../lib/facts/gather.ts'
import type { Facts } from '../../../lib/index.ts'
import { chooseTorchBuild, refusalText, type TorchBuild, type TorchChoice } from '../../../recipes/invokeai-modern/backend.ts'
import { envCommands, smokeTest, SMOKE_TEST } from '../../../recipes/invokeai-modern/commands.ts'
import { hex, linuxFacts, windowsFacts } from '../../helpers/facts.ts'
import { h100OsRelease, h100Output } from '../../helpers/h100.ts'
import { macArmFacts, macIntelFacts, macRosettaFacts } from '../../helpers/mac-facts.ts'

/** The real H100 host's facts, from its captured nvidia-smi outputs through the real facts parser. */
function h100Facts(): Facts {
  const q = h100Output('nvidia-smi.txt', 'nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader,nounits').replace(/, 9\.0$/m, '')
  return parseFacts(['kernel=Linux', 'machine=x86_64', 'arm64=', 'user=ubuntu', 'uid=1000', `home=${hex('/home/ubuntu')}`, 'hostname=h100', 'bootid=b',
    `osrelease=${hex(h100OsRelease())}`, 'memkb=131595416', 'pkgmgrs= apt dpkg', 'gpu=1', `gpuquery=${hex(q)}`,
    `gpuversion=${hex(h100Output('nvidia-smi.txt', 'nvidia-smi --version'))}`].join('\n'), 'h100')
}
/** The real H200 host: what statecraft's own facts script printed there. */
const h200Facts = (): Facts => parseFacts(readFileSync(new URL('../../fixtures/gpu-linux-nvidia-h200/facts-gpu.out', import.meta.url), 'utf8'), 'h200')

/** An NVIDIA host as the facts script reports it: the --query-gpu row and `nvidia-smi --version`, as nvidia-smi prints them. */
function nvidiaHost(base: Facts, row: string, driver: string, cuda: string): Facts {
  const version = `NVIDIA-SMI version  : ${driver}\nNVML version        : ${driver.split('.').slice(0, 2).join('.')}\nDRIVER version      : ${driver}\nCUDA Version        : ${cuda}\n`
  const kernel = base.os === 'windows' ? 'Windows_NT' : 'Linux'
  const gpu = parseFacts(`kernel=${kernel}\ngpu=1\ngpuquery=${hex(`${row}\n`)}\ngpuversion=${hex(version)}\n`, 'x').gpu
  return { ...base, gpu: gpu! }
}

const rtx2070 = nvidiaHost(windowsFacts, 'NVIDIA GeForce RTX 2070, 566.36, 8192', '566.36', '12.7')
/** The table's rule for a Blackwell GPU under a driver that lists it but supports CUDA 12.7 only. */
const rtx5090Old = nvidiaHost({ ...linuxFacts, hostname: 'render-5090' }, 'NVIDIA GeForce RTX 5090, 565.57.01, 32607', '565.57.01', '12.7')
/** What a driver older than the card prints: nvidia-smi lists no GPU. */
const rtx5090Unknown: Facts = { ...linuxFacts, gpu: parseFacts(`kernel=Linux\ngpu=1\ngpuquery=${hex('No devices were found\n')}\ngpuversion=${hex('NVIDIA-SMI version  : 560.35.03\nCUDA Version        : 12.6\n')}\n`, 'x').gpu! }
const m1: Facts = { ...macArmFacts, cpu: 'Apple M1', gpu: { vendor: 'apple', devices: [{ name: 'Apple M1' }] } }
const intelMac: Facts = { ...macIntelFacts, cpu: 'Intel(R) Core(TM) i9-9880H CPU @ 2.30GHz', osVersion: '13.6.1', gpu: { vendor: 'none', devices: [] } }
const cpuBox: Facts = { ...linuxFacts, gpu: { vendor: 'none', devices: [] } }
const amdLinux: Facts = { ...linuxFacts, gpu: { vendor: 'amd', devices: [{ name: 'PCI 1002:73bf' }] } }
const amdWindows: Facts = { ...windowsFacts, gpu: { vendor: 'amd', devices: [{ name: 'AMD Radeon RX 6800 XT' }] } }
const gtx1080 = nvidiaHost(linuxFacts, 'NVIDIA GeForce GTX 1080, 580.95.05, 8192', '580.95.05', '13.0')
const kepler470 = nvidiaHost(linuxFacts, 'NVIDIA GeForce RTX 3090, 470.256.02, 24576', '470.256.02', '11.4')
const teslaK80 = nvidiaHost(linuxFacts, 'Tesla K80, 470.256.02, 11441', '470.256.02', '11.4')
/** The same Blackwell card on a Windows PC: the driver numbers of the fix are Windows ones. */
const rtx5090Windows = nvidiaHost(windowsFacts, 'NVIDIA GeForce RTX 5090, 566.36, 32607', '566.36', '12.7')
const rtx3090Windows470 = nvidiaHost(windowsFacts, 'NVIDIA GeForce RTX 3090, 472.12, 24576', '472.12', '11.4')
const v100 = nvidiaHost(linuxFacts, 'Tesla V100-SXM2-16GB, 580.95.05, 16384', '580.95.05', '13.0')
const gtx750ti = nvidiaHost(windowsFacts, 'NVIDIA GeForce GTX 750 Ti, 582.28, 2048', '582.28', '13.0')
/** A Pascal and a Blackwell card in one host: no single build has kernels for both. */
const mixed = nvidiaHost(linuxFacts, 'NVIDIA GeForce GTX 1080, 580.95.05, 8192\nNVIDIA GeForce RTX 5090, 580.95.05, 32607', '580.95.05', '13.0')

interface Row { name: string; facts: () => Facts; torch: string; override?: string; backend?: string; device?: TorchBuild['device']; refused?: RegExp }
const rows: Row[] = [
  { name: 'RTX 2070 Windows PC, driver 566.36 (CUDA 12.7), torch 2.7', facts: () => rtx2070, torch: '2.7', backend: 'cu126', device: 'cuda' },
  { name: 'RTX 2070 Windows PC, torch 2.9 (cu130, cu128 too new for the driver)', facts: () => rtx2070, torch: '2.9', backend: 'cu126', device: 'cuda' },
  { name: 'RTX 5090 Linux box, driver supports CUDA 12.7: refused', facts: () => rtx5090Old, torch: '2.7',
    refused: /NVIDIA GeForce RTX 5090, driver 565\.57\.01 \(CUDA 12\.7\): a Blackwell GPU needs a CUDA 12\.8\+ build, and the driver supports CUDA 12\.7 at most; update the NVIDIA driver to 570 or newer/ },
  { name: 'RTX 5090 Linux box, driver 560 lists no GPU: refused', facts: () => rtx5090Unknown, torch: '2.7',
    refused: /the NVIDIA driver does not answer: No devices were found; install or load the NVIDIA driver/ },
  { name: 'M1 Mac: PyPI wheels on MPS', facts: () => m1, torch: '2.7', backend: 'mps', device: 'mps' },
  { name: 'Intel Mac: refused, torch stopped shipping for it', facts: () => intelMac, torch: '2.7',
    refused: /an Intel Mac \(Intel\(R\) Core\(TM\) i9-9880H.*\), macOS 13\.6\.1: PyTorch publishes no macOS x86_64 wheels after 2\.2\.2, and this InvokeAI needs torch 2\.7/ },
  { name: 'Intel Mac: refused even with torchBackend: cpu', facts: () => intelMac, torch: '2.7', override: 'cpu', refused: /no macOS x86_64 wheels/ },
  { name: 'Apple Silicon under Rosetta: refused', facts: () => ({ ...macRosettaFacts, gpu: { vendor: 'apple', devices: [{ name: 'Apple M1 Pro' }] } }), torch: '2.7', refused: /under Rosetta.*no MPS.*native arm64 shell/ },
  { name: 'M1 on macOS 12.2: refused (MPS needs 12.3)', facts: () => ({ ...m1, osVersion: '12.2' }), torch: '2.7', refused: /macOS 12\.2 on Apple M1: PyTorch's MPS backend needs macOS 12\.3 or later/ },
  { name: 'CPU-only Debian box', facts: () => cpuBox, torch: '2.7', backend: 'cpu', device: 'cpu' },
  { name: 'H100 capture (driver 580, CUDA 13.0), torch 2.11 as captured', facts: h100Facts, torch: '2.11', backend: 'cu130', device: 'cuda' },
  { name: 'H100 capture, torch 2.7: its newest, cu128', facts: h100Facts, torch: '2.7', backend: 'cu128', device: 'cuda' },
  { name: 'H100 capture, torch 2.8: cu129', facts: h100Facts, torch: '2.8', backend: 'cu129', device: 'cuda' },
  { name: 'H200 capture (the facts script\'s own output), torch 2.9', facts: h200Facts, torch: '2.9', backend: 'cu130', device: 'cuda' },
  { name: 'AMD on Linux: ROCm', facts: () => amdLinux, torch: '2.7', backend: 'rocm6.3', device: 'cuda' },
  { name: 'AMD on Windows: refused', facts: () => amdWindows, torch: '2.7', refused: /AMD AMD Radeon RX 6800 XT on Windows: PyTorch publishes ROCm builds for Linux only/ },
  { name: 'GTX 1080 (Pascal) on driver 580, torch 2.9: cu126, the newest with its kernels', facts: () => gtx1080, torch: '2.9', backend: 'cu126', device: 'cuda' },
  { name: 'GTX 1080 on driver 580, torch 2.7: cu126 (2.7\'s Linux cu128 has no sm_61)', facts: () => gtx1080, torch: '2.7', backend: 'cu126', device: 'cuda' },
  { name: 'GTX 1080 on driver 580, torch 2.4: cu124 (every 2.4 build has Pascal)', facts: () => gtx1080, torch: '2.4', backend: 'cu124', device: 'cuda' },
  { name: 'GTX 750 Ti (Maxwell) Windows PC, torch 2.11: cu126', facts: () => gtx750ti, torch: '2.11', backend: 'cu126', device: 'cuda' },
  { name: 'V100 (Volta) on driver 580, torch 2.10: cu128 (its 12.8 build has sm_70, 13.0 has not)', facts: () => v100, torch: '2.10', backend: 'cu128', device: 'cuda' },
  { name: 'V100 on driver 580, torch 2.11: cu126 (2.11 dropped Volta from cu128)', facts: () => v100, torch: '2.11', backend: 'cu126', device: 'cuda' },
  { name: 'V100 on driver 580, torch 2.8: cu126 (sources disagree on Volta in 2.8 cu128: the safer build)', facts: () => v100, torch: '2.8', backend: 'cu126', device: 'cuda' },
  { name: 'V100 on driver 580, torch 2.7: cu126', facts: () => v100, torch: '2.7', backend: 'cu126', device: 'cuda' },
  { name: 'H100 capture, torch 2.10: cu130', facts: h100Facts, torch: '2.10', backend: 'cu130', device: 'cuda' },
  { name: 'H100 capture, torch 2.12: cu130 (the driver reports 13.0, cu132 is newer)', facts: h100Facts, torch: '2.12', backend: 'cu130', device: 'cuda' },
  { name: 'RTX 2070 Windows PC (CUDA 12.7), torch 2.12: cu126, its only build the driver supports', facts: () => rtx2070, torch: '2.12', backend: 'cu126', device: 'cuda' },
  { name: 'RTX 5090 Windows PC, driver 566.36 (CUDA 12.7): refused, names the Windows driver 571', facts: () => rtx5090Windows, torch: '2.7',
    refused: /NVIDIA GeForce RTX 5090, driver 566\.36 \(CUDA 12\.7\): a Blackwell GPU needs a CUDA 12\.8\+ build, and the driver supports CUDA 12\.7 at most; update the NVIDIA driver to 571 or newer/ },
  { name: 'RTX 3090 Windows PC on driver 472 (CUDA 11.4), torch 2.7: refused, names Windows driver 522', facts: () => rtx3090Windows470, torch: '2.7',
    refused: /oldest usable build is cu118 \(CUDA 11\.8\).*update the NVIDIA driver to 522 or newer/ },
  { name: 'RTX 2070 Windows PC, torch 2.11 needs cu126: the driver is new enough', facts: () => rtx2070, torch: '2.11', backend: 'cu126', device: 'cuda' },
  { name: 'GTX 1080 and RTX 5090 in one host, torch 2.9: refused, no build has kernels for both', facts: () => mixed, torch: '2.9',
    refused: /torch 2\.9 has no CUDA build with kernels for this GPU \(its builds: cu130, cu128, cu126\)/ },
  { name: 'AMD on Linux, torch 2.10: rocm7.1', facts: () => amdLinux, torch: '2.10', backend: 'rocm7.1', device: 'cuda' },
  { name: 'AMD on Linux, torch 2.11: rocm7.2', facts: () => amdLinux, torch: '2.11', backend: 'rocm7.2', device: 'cuda' },
  { name: 'AMD on Linux, torch 2.12: refused, its ROCm build is not in the table', facts: () => amdLinux, torch: '2.12',
    refused: /knows no ROCm build of torch 2\.12; name the build with torchBackend/ },
  { name: 'Intel Mac, torch 2.4 (InvokeAI 5.1–5.9): refused, 2.2.2 was the last', facts: () => intelMac, torch: '2.4', refused: /no macOS x86_64 wheels after 2\.2\.2, and this InvokeAI needs torch 2\.4/ },
  { name: 'RTX 3090 on driver 470 (CUDA 11.4), torch 2.7: refused, names driver 520', facts: () => kepler470, torch: '2.7', refused: /oldest usable build is cu118 \(CUDA 11\.8\), and the driver supports CUDA 11\.4 at most; update the NVIDIA driver to 520 or newer/ },
  { name: 'Tesla K80 (Kepler) on driver 470: refused without sending it to a driver it cannot run', facts: () => teslaK80, torch: '2.7', refused: /a Kepler GPU: its last driver \(470\).*set torchBackend: cpu.*a driver update cannot help/ },
  { name: 'NVIDIA on the PCI bus, no nvidia-smi: refused', facts: () => ({ ...linuxFacts, gpu: parseFacts('kernel=Linux\ngpu=1\ngpupci= 0x10de:0x2684\n', 'x').gpu! }), torch: '2.7', refused: /nvidia-smi is not installed/ },
  { name: 'a torch line the table does not know: refused by name', facts: () => cpuBox, torch: '3.0', refused: /knows no builds of torch 3\.0 \(it knows 2\.4, 2\.5, 2\.6, 2\.7, 2\.8, 2\.9, 2\.10, 2\.11, 2\.12\)/ },
  { name: 'torchBackend overrides the table', facts: () => rtx2070, torch: '2.7', override: 'cpu', backend: 'cpu', device: 'cpu' },
]

describe('the GPU -> torch build table', () => {
  it.each(rows)('$name', (r) => {
    const c: TorchChoice = chooseTorchBuild(r.facts(), r.torch, r.override)
    if (r.refused) {
      expect(c.ok).toBe(false)
      if (!c.ok) expect(refusalText(c)).toMatch(r.refused)
    } else {
      expect(c).toMatchObject({ ok: true, backend: r.backend, device: r.device })
    }
  })

  it('the real captures really are read as what the rows assume (not a hand-written GPU)', () => {
    expect(h100Facts().gpu).toEqual({ vendor: 'nvidia', devices: [{ name: 'NVIDIA H100 80GB HBM3', memoryBytes: 81559 * 2 ** 20 }], driver: '580.159.04', cuda: '13.0' })
    expect(h200Facts().gpu).toMatchObject({ vendor: 'nvidia', devices: [{ name: 'NVIDIA H200' }], driver: '580.159.04', cuda: '13.0' })
    expect(rtx2070.gpu).toEqual({ vendor: 'nvidia', devices: [{ name: 'NVIDIA GeForce RTX 2070', memoryBytes: 8192 * 2 ** 20 }], driver: '566.36', cuda: '12.7' })
  })
})

describe('the commands per route and OS', () => {
  const build = (facts: Facts, torch = '2.7'): TorchBuild => {
    const c = chooseTorchBuild(facts, torch)
    if (!c.ok) throw new Error(refusalText(c))
    return c
  }

  it('uv on the H100: uv venv --python 3.12, uv pip install with --torch-backend=cu130', () => {
    const c = envCommands(h100Facts(), { route: 'uv', env: '/home/ubuntu/invokeai/envs/6.0.0', version: '6.0.0', build: build(h100Facts(), '2.11') })
    expect(c.create).toEqual(['uv', 'venv', '--python', '3.12', '/home/ubuntu/invokeai/envs/6.0.0'])
    expect(c.install).toEqual(['uv', 'pip', 'install', '--python', '/home/ubuntu/invokeai/envs/6.0.0/bin/python', '--torch-backend=cu130', 'invokeai==6.0.0'])
    expect(c.web).toBe('/home/ubuntu/invokeai/envs/6.0.0/bin/invokeai-web')
  })

  it('uv for InvokeAI 5.9 and older: Python 3.11 (their pyproject requires < 3.12); 5.10 on: 3.12', () => {
    const at = (version: string): string[] => envCommands(h100Facts(), { route: 'uv', env: '/e', version, build: build(h100Facts(), '2.4') }).create
    expect(at('5.9.1')).toEqual(['uv', 'venv', '--python', '3.11', '/e'])
    expect(at('5.0.0')).toEqual(['uv', 'venv', '--python', '3.11', '/e'])
    expect(at('5.10.0')).toEqual(['uv', 'venv', '--python', '3.12', '/e'])
    expect(at('6.9.0')).toEqual(['uv', 'venv', '--python', '3.12', '/e'])
  })

  it('uv on the RTX 2070 Windows PC: Scripts\\python.exe, cu126', () => {
    const c = envCommands(rtx2070, { route: 'uv', env: 'C:\\Users\\ana\\invokeai\\envs\\6.0.0', version: '6.0.0', uv: 'C:\\Users\\ana\\.local\\bin\\uv.exe', build: build(rtx2070) })
    expect(c.install).toEqual(['C:\\Users\\ana\\.local\\bin\\uv.exe', 'pip', 'install', '--python', 'C:\\Users\\ana\\invokeai\\envs\\6.0.0\\Scripts\\python.exe', '--torch-backend=cu126', 'invokeai==6.0.0'])
    expect(c.web).toBe('C:\\Users\\ana\\invokeai\\envs\\6.0.0\\Scripts\\invokeai-web.exe')
  })

  it('uv on the M1: no --torch-backend (PyPI wheels carry MPS)', () => {
    const c = envCommands(m1, { route: 'uv', env: '/Users/ana/invokeai/envs/6.0.0', version: '6.0.0', build: build(m1) })
    expect(c.install).toEqual(['uv', 'pip', 'install', '--python', '/Users/ana/invokeai/envs/6.0.0/bin/python', 'invokeai==6.0.0'])
  })

  it('venv + pip on the CPU box: PyTorch\'s cpu index first, PyPI second; a local index replaces both', () => {
    const c = envCommands(cpuBox, { route: 'pip', env: '/home/ana/invokeai/envs/6.0.0', version: '6.0.0', build: build(cpuBox) })
    expect(c.create).toEqual(['python3', '-m', 'venv', '/home/ana/invokeai/envs/6.0.0'])
    expect(c.install).toEqual(['/home/ana/invokeai/envs/6.0.0/bin/python', '-m', 'pip', 'install', '--disable-pip-version-check',
      '--index-url', 'https://download.pytorch.org/whl/cpu', '--extra-index-url', 'https://pypi.org/simple', 'invokeai==6.0.0'])
    const local = envCommands(cpuBox, { route: 'pip', env: '/e', version: '6.0.1', build: build(cpuBox), index: 'http://127.0.0.1:8123/simple' })
    expect(local.install).toEqual(['/e/bin/python', '-m', 'pip', 'install', '--disable-pip-version-check', '--index-url', 'http://127.0.0.1:8123/simple', '--trusted-host', '127.0.0.1:8123', 'invokeai==6.0.1'])
  })

  it('the smoke test gets the device as argv; its code has no host value spliced in', () => {
    expect(smokeTest('/e/bin/python', build(h100Facts(), '2.11'))).toEqual(['/e/bin/python', '-c', SMOKE_TEST, 'cuda'])
    expect(smokeTest('/e/bin/python', build(m1))).toEqual(['/e/bin/python', '-c', SMOKE_TEST, 'mps'])
    expect(SMOKE_TEST).toContain('torch.arange(8, dtype=torch.float32, device=dev)')
    expect(SMOKE_TEST).not.toContain('${')
  })
})
