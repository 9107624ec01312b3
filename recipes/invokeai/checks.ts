import type { Facts } from '../../lib/index.ts'
import { versionSatisfies } from '../../lib/index.ts'

/** The 2.0 files' `cudatoolkit=11.3`: the NVIDIA driver must support CUDA 11.3 or later. */
export const CUDA_TOOLKIT = '11.3'
const GB = 1e9

/** What the facts alone say about this host: problems (refused) and notes (warned). */
export function factChecks(facts: Facts, o: { root: string; condaPrefix: string }): { problems: string[]; notes: string[] } {
  const problems: string[] = []
  const notes: string[] = []
  if (facts.memoryBytes !== undefined && facts.memoryBytes < 12 * GB) {
    notes.push(`${(facts.memoryBytes / GB).toFixed(1)} GB of memory: InvokeAI 2.x wants at least 12 GB; expect swapping or an out-of-memory stop`)
  }
  if (facts.os === 'darwin' && !versionSatisfies(facts.osVersion ?? '0', '>=12.3')) {
    problems.push(`macOS ${facts.osVersion ?? '(unknown version)'}: PyTorch's MPS backend needs macOS 12.3 or later; update macOS first`)
  }
  if (facts.os !== 'darwin') {
    const gpu = facts.gpu
    if (!gpu || gpu.vendor !== 'nvidia') {
      notes.push(`no NVIDIA GPU found (${gpu ? gpu.vendor : 'not read'}): InvokeAI will run on the CPU only, minutes per image`)
    } else if (gpu.problem) {
      notes.push(`an NVIDIA GPU is there but ${gpu.problem}: InvokeAI will run on the CPU only until the driver works`)
    } else if (!gpu.cuda || !versionSatisfies(gpu.cuda, `>=${CUDA_TOOLKIT}`)) {
      problems.push(`NVIDIA driver ${gpu.driver ?? '?'} supports CUDA ${gpu.cuda ?? '?'}, and the env's cudatoolkit is ${CUDA_TOOLKIT}: install a driver for CUDA ${CUDA_TOOLKIT} or later (465 or newer)`)
    }
  }
  const limit = facts.os === 'windows' ? 80 : 200
  for (const [name, p] of [['root', o.root], ['condaPrefix', o.condaPrefix]] as const) {
    if (/\s/.test(p)) problems.push(`${name} ${JSON.stringify(p)} contains a space, which conda's and pip's build scripts do not survive; choose a path without spaces`)
    if (p.length > limit) problems.push(`${name} ${JSON.stringify(p)} is ${p.length} characters long; the env's packages nest deep below it (keep it under ${limit} on ${facts.os})`)
  }
  return { problems, notes }
}

/** Whether an address only this machine can reach: the web UI then needs no firewall opening. */
export function isLoopback(bind: string): boolean {
  return bind === 'localhost' || bind === '::1' || /^127\./.test(bind)
}

/** `~/…` made absolute for argv words no shell expands (a firewall's program, a removal's path). */
export function absolute(p: string, facts: Pick<Facts, 'home' | 'os'>): string {
  return p === '~' ? facts.home : p.startsWith('~/') || p.startsWith('~\\') ? `${facts.home}${facts.os === 'windows' ? '\\' : '/'}${p.slice(2)}` : p
}
