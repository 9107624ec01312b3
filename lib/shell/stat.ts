import type { Dialect, ProbeData } from '../core/types.ts'
import { statSnippet } from './posix/lib.ts'
import { psStat } from './powershell/lib.ts'

/** Parses what sc_stat (POSIX) and Sc-Stat (PowerShell) print. */

/** `ls -l` permission text (`drwxr-sr-x`, `-rw-r--r--@`) to a four-digit octal mode. */
export function modeFromPerm(perm: string): string {
  const p = perm.slice(1, 10)
  let mode = 0
  const bit = (i: number, v: number): void => {
    const c = p[i]
    if (c && c !== '-' && c !== 'S' && c !== 'T') mode |= v
  }
  ;[256, 128, 64, 32, 16, 8, 4, 2, 1].forEach((v, i) => bit(i, v))
  if (/[sS]/.test(p[2] ?? '')) mode |= 0o4000
  if (/[sS]/.test(p[5] ?? '')) mode |= 0o2000
  if (/[tT]/.test(p[8] ?? '')) mode |= 0o1000
  return mode.toString(8).padStart(4, '0')
}

export interface Stat {
  kind: 'absent' | 'file' | 'directory' | 'link' | 'other'
  mode?: string
  owner?: string
}

export function parseStat(data: ProbeData): Stat {
  const kind = (data.get('kind') ?? 'absent') as Stat['kind']
  if (kind === 'absent') return { kind }
  const perm = data.get('perm')
  return { kind, mode: perm ? modeFromPerm(perm) : undefined, owner: data.get('owner') }
}


/** The stat probe for a path in the host's dialect. */
export function statProbe(path: string, dialect: Dialect): string {
  return dialect === 'powershell' ? psStat(path) : statSnippet(path)
}
