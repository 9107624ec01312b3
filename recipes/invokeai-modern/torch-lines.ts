/**
 * What PyTorch publishes per release line: the CUDA builds (newest first), the ROCm build for
 * Linux, and which GPUs the newest builds dropped. Data only; backend.ts decides from it.
 * A torch line missing here is refused by name (no guessing): add it, or set `torchBackend`.
 */
export interface TorchLine {
  /** CUDA versions of the `cuXYZ` builds, newest first. */
  cuda: string[]
  /** The `rocmX.Y` build for AMD GPUs on Linux; undefined where this table does not know one. */
  rocm?: string
  /**
   * Builds of this line newer than this CUDA version carry no Maxwell/Pascal kernels
   * (sm_50–sm_61); undefined: every build still has them.
   */
  pascalUpTo?: string
}

export const TORCH_LINES: Record<string, TorchLine> = {
  '2.4': { cuda: ['12.4', '12.1', '11.8'], rocm: '6.1' },
  '2.5': { cuda: ['12.4', '12.1', '11.8'], rocm: '6.2' },
  '2.6': { cuda: ['12.6', '12.4', '11.8'], rocm: '6.2.4' },
  '2.7': { cuda: ['12.8', '12.6', '11.8'], rocm: '6.3' },
  '2.8': { cuda: ['12.9', '12.8', '12.6'], rocm: '6.4', pascalUpTo: '12.6' },
  '2.9': { cuda: ['13.0', '12.8', '12.6'], rocm: '6.4', pascalUpTo: '12.6' },
  // The H100 capture (test/fixtures/gpu-linux-nvidia-h100) ran torch 2.11.0+cu130.
  '2.11': { cuda: ['13.0', '12.8', '12.6'], pascalUpTo: '12.6' },
}

/** macOS on Intel: PyTorch's last x86_64 macOS wheels are 2.2.2; every later line lacks them. */
export const LAST_INTEL_MAC_TORCH = '2.2'

/**
 * The oldest driver branch that supports each CUDA version (the toolkit's own driver), so a
 * refusal can say which driver to install. The driver reports its CUDA version itself, in facts.
 */
export const CUDA_DRIVER: Record<string, string> = {
  '11.8': '520', '12.1': '530', '12.4': '550', '12.6': '560', '12.8': '570', '12.9': '575', '13.0': '580',
}

/** CUDA 13 builds carry no kernels for GPUs before Turing (sm_75); CUDA 12.8 is the first with Blackwell. */
export const BLACKWELL_CUDA = '12.8'
export const PRE_TURING_MAX_CUDA_MAJOR = 12

/** Which generation a GPU name belongs to where it matters to the builds; undefined for the rest. */
export function generationOf(name: string): 'blackwell' | 'volta' | 'pascal' | 'maxwell' | undefined {
  if (/\bRTX\s+50[5-9]0\b|\bRTX PRO\s+\d+\s+Blackwell\b|\bG?B[123]00\b/i.test(name)) return 'blackwell'
  if (/\bV100\b|\bTitan V\b|\bQuadro GV100\b/i.test(name)) return 'volta'
  if (/\bGTX\s+10[5-8]0\b|\bTitan Xp?\b|\bTesla P\d+\b|\bQuadro P\d+\b|\bP100\b/i.test(name)) return 'pascal'
  if (/\bGTX\s+9[5-8]0\b|\bTesla M\d+\b|\bQuadro M\d+\b/i.test(name)) return 'maxwell'
  return undefined
}
