/**
 * What PyTorch publishes per release line: the CUDA builds (newest first), the ROCm build for
 * Linux, and which GPUs the newer builds dropped. Data only; backend.ts decides from it.
 * A torch line missing here is refused by name (no guessing): add it, or set `torchBackend`.
 *
 * Sources (checked 2026-12, each entry names its own):
 * - [prev] pytorch.org/get-started/previous-versions ("Previous PyTorch Versions"): the cuXYZ and
 *   rocmX.Y wheel indexes per release.
 * - [matrix] RELEASE.md "PyTorch CUDA Support Matrix" in pytorch/pytorch, as changed by PRs #164471
 *   (2.9), #175253 (2.11) and #182849 (2.12): the GPU architectures of each CUDA build.
 * - [arch] the TORCH_CUDA_ARCH_LIST of .ci/manywheel/build_cuda.sh, and torch.cuda.get_arch_list()
 *   of the published wheels as measured in nikopueringer/CorridorKey PR #141 (2.7.1 and 2.10,
 *   Linux and Windows).
 * - [uv] astral-sh/uv docs/guides/integration/pytorch.md, "Update PyTorch documentation for
 *   PyTorch 2.11" (#19095).
 * Where only the safer value could be confirmed, the comment says so and the safer value is kept.
 */
export interface TorchLine {
  /** CUDA versions of the `cuXYZ` builds, newest first. */
  cuda: string[]
  /** The `rocmX.Y` build for AMD GPUs on Linux (the newest the line lists); undefined where unconfirmed. */
  rocm?: string
  /** The newest CUDA build of this line with Maxwell/Pascal kernels (sm_50–sm_61); undefined: all of them. */
  pascalUpTo?: string
  /** The newest CUDA build of this line with Volta kernels (sm_70); undefined: all of them. */
  voltaUpTo?: string
}

export const TORCH_LINES: Record<string, TorchLine> = {
  // [prev] v2.4.0/2.4.1: cu118, cu121, cu124, rocm6.1. For 2.4–2.6 no build is reported without
  // sm_50–sm_70 (users name 2.6 the last line whose every build runs on Pascal); not measured here.
  '2.4': { cuda: ['12.4', '12.1', '11.8'], rocm: '6.1' },
  // [prev] v2.5.0/2.5.1: cu118, cu121, cu124; rocm6.1 and rocm6.2 (the newer is taken).
  '2.5': { cuda: ['12.4', '12.1', '11.8'], rocm: '6.2' },
  // [prev] v2.6.0: cu118, cu124, cu126; rocm6.1 and rocm6.2.4.
  '2.6': { cuda: ['12.6', '12.4', '11.8'], rocm: '6.2.4' },
  // [prev] v2.7.0/2.7.1: cu118, cu126, cu128, rocm6.3 (InvokeAI 6.3+ pins 2.7.1+rocm6.3 too).
  // [arch] 2.7.1+cu128 on Linux lists sm_75 and up only (Windows still had sm_50–sm_70): Maxwell,
  // Pascal and Volta take cu126 on both, which has them.
  '2.7': { cuda: ['12.8', '12.6', '11.8'], rocm: '6.3', pascalUpTo: '12.6', voltaUpTo: '12.6' },
  // [prev] v2.8.0: cu126, cu128, cu129, rocm6.4. The 2.8.0 release notes say cu128/cu129 dropped
  // sm_50–sm_70; PyTorch's dev-discuss post of 2025-07-14 says they re-added Volta. Conflicting, so
  // the safer value: Volta takes cu126 too.
  '2.8': { cuda: ['12.9', '12.8', '12.6'], rocm: '6.4', pascalUpTo: '12.6', voltaUpTo: '12.6' },
  // [prev] v2.9.0/2.9.1: cu126, cu128, cu130, rocm6.4. [matrix] 2.9: 12.6 Maxwell–Hopper, 12.8 Volta–
  // Blackwell, 13.0 Turing–Blackwell.
  '2.9': { cuda: ['13.0', '12.8', '12.6'], rocm: '6.4', pascalUpTo: '12.6', voltaUpTo: '12.8' },
  // [prev] v2.10.0: cu126, cu128, cu130, rocm7.1 (InvokeAI 6.13.5+ pins 2.10.0+rocm7.1). [arch] 2.10
  // cu128 lists sm_70 and up on Linux and Windows; [matrix] #175253 keeps Volta in 12.8 for 2.10.
  '2.10': { cuda: ['13.0', '12.8', '12.6'], rocm: '7.1', pascalUpTo: '12.6', voltaUpTo: '12.8' },
  // [matrix] #175253: 2.11 builds 12.6.3, 12.8.1 (Volta dropped, RFC #172352) and 13.0.2.
  // [uv] #19095 documents rocm7.2 for 2.11 (ROCm/pytorch #3111 builds release/2.11 on ROCm 7.2).
  // The H100 capture (shared/fixtures/gpu-linux-nvidia-h100) ran torch 2.11.0+cu130 on driver 580.
  '2.11': { cuda: ['13.0', '12.8', '12.6'], rocm: '7.2', pascalUpTo: '12.6', voltaUpTo: '12.6' },
  // [matrix] #182849: 2.12 builds 12.6.3 (legacy, Maxwell–Hopper), 13.0.2 and 13.2.1; 12.8 removed
  // (RFC #178665). Its ROCm build could not be confirmed: AMD hosts name it with torchBackend.
  '2.12': { cuda: ['13.2', '13.0', '12.6'], pascalUpTo: '12.6', voltaUpTo: '12.6' },
}

/**
 * macOS on Intel: 2.2.x is the last line with macOS x86_64 wheels (2.2.0 release notes; RFC
 * pytorch/pytorch #114602; #127870: no 2.3.0 wheel). Of InvokeAI 5/6 only 5.0.x pins a torch that
 * old (2.2.2), and that line is not in TORCH_LINES: an Intel Mac is refused either way.
 */
export const LAST_INTEL_MAC_TORCH = '2.2'

/**
 * The driver branch that reports each CUDA version (nvidia-smi's "CUDA Version"), so a refusal can
 * say which driver to install; Linux and Windows number their drivers differently, so each has its
 * column. The values are the branches of the drivers NVIDIA's own CUDA installers ship (the download
 * names cuda_<version>_<driver>_linux.run / _windows.exe on developer.download.nvidia.com). The CUDA
 * release notes' "CUDA Toolkit and Corresponding Driver Versions" table could not be read through the
 * search tool; a driver shipped with the toolkit is never older than that table's minimum, so it is
 * the safer value. (uv's `--torch-backend=auto` uses the lower minor-version-compatibility minimums,
 * 525.60.13 / 528.33 for 12.x; backend.ts deliberately does not, see there.)
 */
export const CUDA_DRIVER: Record<'linux' | 'windows', Record<string, string>> = {
  linux: {
    '11.8': '520', // cuda_11.8.0_520.61.05_linux.run
    '12.1': '530', // cuda_12.1.0_530.30.02_linux.run
    '12.4': '550', // cuda_12.4.0_550.54.14_linux.run
    '12.6': '560', // cuda_12.6.0_560.28.03_linux.run
    '12.8': '570', // cuda_12.8.0_570.86.10_linux.run
    '12.9': '575', // cuda_12.9.0_575.51.03_linux.run
    '13.0': '580', // cuda_13.0.0_580.65.06_linux.run; the data-center table: R580 is the first branch for 13.x
  },
  windows: {
    '11.8': '522', // cuda_11.8.0_522.06_windows.exe
    '12.1': '531', // cuda_12.1.0_531.14_windows.exe
    '12.4': '551', // cuda_12.4.0_551.61_windows.exe
    '12.6': '560', // cuda_12.6.0_560.76_windows.exe
    '12.8': '571', // cuda_12.8.0_571.96_windows.exe (a 570.65 minimum is quoted elsewhere, unconfirmed)
    '12.9': '576', // cuda_12.9.0_576.02_windows.exe
    // cuda_13.0.0_windows.exe ships no driver; 580.88 reports CUDA 13.0 (a Q&A thread), the official
    // Windows minimum is unconfirmed: the branch is what the message names.
    '13.0': '580',
  },
}

/**
 * Blackwell (sm_100, sm_120) kernels first appear in the cu128 builds (2.7: [arch] sm_100 sm_120 in
 * 2.7.1+cu128; [matrix] every later 12.8/12.9/13.x row); no cu126 build has them.
 * CUDA 13 cannot build for Maxwell, Pascal or Volta (CUDA 12.9 release notes, "Deprecated
 * Architectures"; [matrix] 13.0 rows start at Turing), whatever a line's fields say.
 */
export const BLACKWELL_CUDA = '12.8'
export const PRE_TURING_MAX_CUDA_MAJOR = 12

/** Which generation a GPU name belongs to where it matters to the builds; undefined for the rest. */
export function generationOf(name: string): 'blackwell' | 'volta' | 'pascal' | 'maxwell' | 'kepler' | undefined {
  if (/\bRTX\s+50[5-9]0\b|\bRTX PRO\s+\d+\s+Blackwell\b|\bG?B[123]00\b/i.test(name)) return 'blackwell'
  if (/\bV100\b|\bTitan V\b|\bQuadro GV100\b/i.test(name)) return 'volta'
  if (/\bGTX\s+10[5-8]0\b|\bGT\s+1030\b|\bTitan Xp?\b|\bTesla P\d+\b|\bQuadro P\d+\b|\bP100\b/i.test(name)) return 'pascal'
  if (/\bGTX\s+(?:7[45]0|9[5-8]0)\b|\bTesla M\d+\b|\bQuadro M\d+\b/i.test(name)) return 'maxwell'
  // Kepler (sm_30-sm_37): its last driver branch is 470 (CUDA 11.4), older than any build of the
  // lines above (cu118 at least), and CUDA 12 dropped its kernels: no driver update can help it.
  if (/\bGTX\s+(?:6[5-9]0|7[6-8]0)(?:\s*Ti)?\b|\bGTX\s+TITAN(?:\s+(?:Black|Z))?\b|\bTesla K\d+\b|\bQuadro K\d+\b/i.test(name)) return 'kepler'
  return undefined
}
