import { ValidationError } from '../core/errors.ts'
import type { Change, Facts } from '../core/types.ts'
import type { Stat } from '../shell/stat.ts'

/** Builds errors that name the resource and the field. */
export function fail(where: string, field: string, problem: string): never {
  throw new ValidationError(`${where}: ${field} ${problem}`)
}

export function expandHome(p: string, facts: Facts): string {
  if (p === '~') return facts.home
  if (!p.startsWith('~/')) return p
  if (facts.os === 'windows') return `${facts.home.replace(/\\$/, '')}\\${p.slice(2).replaceAll('/', '\\')}`
  return `${facts.home.replace(/\/$/, '')}/${p.slice(2)}`
}

const WINDOWS_ABSOLUTE = /^([A-Za-z]:[\\/]|\\\\)/

/** Validates an absolute (or ~/) path and returns it with ~ expanded and trailing separators removed. */
export function checkPath(where: string, field: string, value: unknown, facts: Facts): string {
  if (typeof value !== 'string' || value === '') fail(where, field, 'must be a non-empty string path')
  if (value.includes('\0')) fail(where, field, 'must not contain a NUL byte')
  const p = expandHome(value, facts)
  if (facts.os === 'windows') {
    if (!WINDOWS_ABSOLUTE.test(p)) fail(where, field, `must be absolute (C:\\…) or start with ~/ on a Windows host (got ${JSON.stringify(value)})`)
    return p.length > 3 ? p.replace(/[\\/]+$/, '') : p
  }
  if (!p.startsWith('/')) fail(where, field, `must be absolute or start with ~/ (got ${JSON.stringify(value)})`)
  return p.length > 1 ? p.replace(/\/+$/, '') : p
}

/** mode and owner are POSIX permissions; Windows ACLs are not managed (yet). */
export function rejectPosixAttributes(where: string, d: { mode?: unknown; owner?: unknown }, facts: Facts): void {
  if (facts.os !== 'windows') return
  for (const f of ['mode', 'owner'] as const) {
    if (d[f] !== undefined) fail(where, f, 'is a POSIX permission and cannot be set on a Windows host (ACLs are not managed); leave it out there')
  }
}

export function checkMode(where: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !/^0?[0-7]{3,4}$/.test(value)) {
    const hint = typeof value === 'number' ? ': write it as a string so it is read as octal' : ''
    fail(where, 'mode', `must be an octal string like '0644' (got ${JSON.stringify(value)})${hint}`)
  }
  return value.padStart(4, '0').slice(-4)
}

export function checkOwner(where: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.@-]*$/.test(value)) {
    fail(where, 'owner', `must be a user name (got ${JSON.stringify(value)})`)
  }
  return value
}

export function checkState(where: string, value: unknown): 'present' | 'absent' {
  if (value === undefined || value === 'present') return 'present'
  if (value === 'absent') return 'absent'
  return fail(where, 'state', `must be 'present' or 'absent' (got ${JSON.stringify(value)})`)
}

export function checkString(where: string, field: string, value: unknown, optional = false): string | undefined {
  if (value === undefined && optional) return undefined
  if (typeof value !== 'string') fail(where, field, `must be a string (got ${JSON.stringify(value)})`)
  return value
}

export function rejectUnknown(where: string, d: object, known: readonly string[]): void {
  for (const k of Object.keys(d)) {
    if (!known.includes(k)) fail(where, k, `is not a known field; known fields: ${known.join(', ')}`)
  }
}

/** mode/owner changes shared by file and directory. */
export function attributeChanges(d: { mode?: string; owner?: string }, c: Stat, creating: boolean): Change[] {
  const out: Change[] = []
  if (d.mode && (creating || c.mode !== d.mode)) {
    out.push({ text: creating ? `set mode ${d.mode}` : `set mode ${d.mode} (was ${c.mode})` })
  }
  if (d.owner && (creating || c.owner !== d.owner)) {
    out.push({ text: creating ? `set owner ${d.owner}` : `set owner ${d.owner} (was ${c.owner})` })
  }
  return out
}

export function attributeSteps(path: string, d: { mode?: string; owner?: string }, changes: Change[]): string[][] {
  const steps: string[][] = []
  if (d.owner && changes.some((c) => c.text.startsWith('set owner'))) steps.push(['chown', '--', d.owner, path])
  if (d.mode && changes.some((c) => c.text.startsWith('set mode'))) steps.push(['chmod', '--', d.mode, path])
  return steps
}
