import type { Facts } from '../../lib/index.ts'
import { versionSatisfies } from '../../lib/index.ts'
import { BLACKWELL_CUDA, CUDA_DRIVER, generationOf, LAST_INTEL_MAC_TORCH, PRE_TURING_MAX_CUDA_MAJOR, TORCH_LINES, type TorchLine } from './torch-lines.ts'

/** The torch build for a host: what uv's `--torch-backend` (or pip's index) gets, and the device the smoke test uses. */
export interface TorchBuild {
  ok: true
  /** `cu128`, `rocm6.3`, `cpu`, or `mps` (PyPI's default macOS wheels: no flag, no extra index). */
  backend: string
  device: 'cuda' | 'mps' | 'cpu'
  /** What was detected and why this build, for the plan. */
  why: string
}

/** A known-bad combination: what was detected, why it cannot work, what to do. */
export interface TorchRefusal {
  ok: false
  detected: string
  reason: string
  fix: string
}

export type TorchChoice = TorchBuild | TorchRefusal

const cmp = (a: string, b: string): number => {
  const x = a.split('.').map(Number)
  const y = b.split('.').map(Number)
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}
const tag = (cuda: string): string => `cu${cuda.replace('.', '')}`

/**
 * Picks the torch build for the host's GPU from facts (pure). NVIDIA: the newest CUDA build of
 * the torch line that the driver supports (its own reported CUDA version, not minor-version
 * compatibility, which breaks on new GPUs that need PTX; uv's `--torch-backend=auto` uses it) and
 * that has kernels for the GPU (Blackwell from cu128 on; Maxwell/Pascal and Volta up to the line's
 * `pascalUpTo` / `voltaUpTo`, never CUDA 13); AMD on Linux: the line's ROCm build; Apple Silicon: PyPI's wheels on MPS; none: CPU.
 * `override` (the recipe's `torchBackend` option) wins, except where torch does not ship at all.
 */
export function chooseTorchBuild(facts: Facts, torch: string, override?: string): TorchChoice {
  const line = TORCH_LINES[torch]
  const gpu = facts.gpu
  if (facts.os === 'darwin' && !facts.appleSilicon && cmp(torch, LAST_INTEL_MAC_TORCH) > 0) {
    return refuse(`an Intel Mac (${facts.cpu ?? facts.arch}), macOS ${facts.osVersion ?? '?'}`,
      `PyTorch publishes no macOS x86_64 wheels after ${LAST_INTEL_MAC_TORCH}.2, and this InvokeAI needs torch ${torch}`,
      'run InvokeAI on an Apple Silicon Mac or a Linux/Windows PC, or keep the 2022 flow (recipes/invokeai) on this Mac')
  }
  if (override !== undefined) return { ok: true, backend: override, device: deviceOf(override), why: `torchBackend: ${override} (set by the recipe's options)` }
  if (!line) {
    return refuse(`torch ${torch}`, `this recipe's table knows no builds of torch ${torch} (it knows ${Object.keys(TORCH_LINES).join(', ')})`,
      'set the torch option to a known line, or name the build with torchBackend (cu128, rocm6.3, cpu)')
  }
  if (facts.os === 'darwin') {
    if (facts.arch !== 'arm64') {
      return refuse(`an Apple Silicon Mac whose shell runs under Rosetta (uname -m: x86_64)`,
        'an x86_64 Python there installs x86 wheels, which cannot use the GPU (no MPS)',
        'use a native arm64 shell for the SSH login (not one started with arch -x86_64), then run again')
    }
    if (!versionSatisfies(facts.osVersion ?? '0', '>=12.3')) {
      return refuse(`macOS ${facts.osVersion ?? '(unknown version)'} on ${facts.cpu ?? 'Apple Silicon'}`, "PyTorch's MPS backend needs macOS 12.3 or later", 'update macOS first')
    }
    return { ok: true, backend: 'mps', device: 'mps', why: `${facts.cpu ?? 'Apple Silicon'}: PyPI's macOS arm64 wheels, on the MPS device` }
  }
  if (!gpu || gpu.vendor === 'none') return { ok: true, backend: 'cpu', device: 'cpu', why: `no GPU found${gpu ? '' : ' (not read)'}: the CPU build (minutes per image)` }
  if (gpu.vendor === 'amd') {
    const names = gpu.devices.map((d) => d.name).join(', ')
    if (facts.os !== 'linux') {
      return refuse(`AMD ${names} on Windows`, 'PyTorch publishes ROCm builds for Linux only', 'run the host on Linux for the GPU, or set torchBackend: cpu to run on the CPU')
    }
    if (!line.rocm) return refuse(`AMD ${names}`, `this recipe's table knows no ROCm build of torch ${torch}`, 'name the build with torchBackend (for instance rocm6.4)')
    return { ok: true, backend: `rocm${line.rocm}`, device: 'cuda', why: `AMD ${names} on Linux: torch ${torch}'s ROCm ${line.rocm} build` }
  }
  if (gpu.vendor === 'apple') return { ok: true, backend: 'mps', device: 'mps', why: 'Apple Silicon: MPS' }
  return nvidia(facts, torch, line)
}

function nvidia(facts: Facts, torch: string, line: TorchLine): TorchChoice {
  const gpu = facts.gpu!
  const names = gpu.devices.map((d) => d.name)
  const detected = `${names.join(', ') || 'an NVIDIA GPU'}, driver ${gpu.driver ?? '?'} (CUDA ${gpu.cuda ?? '?'})`
  if (gpu.problem || names.length === 0 || !gpu.cuda) {
    return refuse(detected, `the NVIDIA driver does not answer: ${gpu.problem ?? 'nvidia-smi printed no CUDA version'}`,
      'install or load the NVIDIA driver (nvidia-smi must list the GPU), or set torchBackend: cpu to run on the CPU')
  }
  const gens = names.map(generationOf)
  if (gens.includes('kepler')) {
    return refuse(detected, 'a Kepler GPU: its last driver (470) supports CUDA 11.4 and no torch build this recipe can install has its kernels',
      'set torchBackend: cpu to run on the CPU, or use a newer GPU (a driver update cannot help a Kepler card)')
  }
  const blackwell = gens.includes('blackwell')
  // Every GPU of the host must find its kernels in the build (one env serves them all).
  const hasKernels = (b: string): boolean =>
    !(blackwell && cmp(b, BLACKWELL_CUDA) < 0) &&
    !(gens.some((g) => g === 'volta' || g === 'pascal' || g === 'maxwell') && Number(b.split('.')[0]) > PRE_TURING_MAX_CUDA_MAJOR) &&
    !(gens.some((g) => g === 'pascal' || g === 'maxwell') && line.pascalUpTo !== undefined && cmp(b, line.pascalUpTo) > 0) &&
    !(gens.includes('volta') && line.voltaUpTo !== undefined && cmp(b, line.voltaUpTo) > 0)
  const usable = line.cuda.filter(hasKernels)
  const best = usable.find((b) => cmp(b, gpu.cuda!) <= 0)
  if (best) return { ok: true, backend: tag(best), device: 'cuda', why: `${detected}: torch ${torch}'s newest build the driver supports, ${tag(best)}` }
  const need = usable[usable.length - 1]
  if (need === undefined) {
    return refuse(detected, `torch ${torch} has no CUDA build with kernels for this GPU (its builds: ${line.cuda.map(tag).join(', ')})`,
      'pin an older InvokeAI and its torch line (the torch option), or set torchBackend: cpu')
  }
  const why = blackwell && cmp(gpu.cuda, BLACKWELL_CUDA) < 0
    ? `a Blackwell GPU needs a CUDA ${BLACKWELL_CUDA}+ build, and the driver supports CUDA ${gpu.cuda} at most`
    : `torch ${torch}'s oldest usable build is ${tag(need)} (CUDA ${need}), and the driver supports CUDA ${gpu.cuda} at most`
  // Windows drivers are numbered apart from Linux ones (12.8: 571 vs 570), so the fix names the host's own.
  const driver = CUDA_DRIVER[facts.os === 'windows' ? 'windows' : 'linux'][need]
  return refuse(detected, why, `update the NVIDIA driver to ${driver ?? `one for CUDA ${need}`} or newer, then run again`)
}

function deviceOf(backend: string): TorchBuild['device'] {
  return backend === 'cpu' ? 'cpu' : backend === 'mps' ? 'mps' : 'cuda'
}

function refuse(detected: string, reason: string, fix: string): TorchRefusal {
  return { ok: false, detected, reason, fix }
}

/** One line for an error or a plan: detected, reason, what to do. */
export function refusalText(r: TorchRefusal): string {
  return `no torch build for ${r.detected}: ${r.reason}; ${r.fix}`
}
