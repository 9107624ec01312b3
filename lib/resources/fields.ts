import { posix, win32 } from 'node:path'
import * as v from 'valibot'
import type { Facts } from '../core/types.ts'

/**
 * Field schemas that resources share. A message is the problem and its fix, worded to follow
 * `<resource>: <field> ` (the kit adds that prefix): `must be an octal string like '0644' (got 420)`.
 * What needs the host's facts (`~/` expansion, Windows paths) is in the normalise helpers below.
 */

const got = (x: unknown): string => JSON.stringify(x)

/** A string; anything else is refused with the value it got. */
export const text = (): v.GenericSchema<unknown, string> => v.string((i) => `must be a string (got ${got(i.input)})`)

/** true or false; `1` or `'yes'` are refused rather than guessed. */
export const flag = (): v.GenericSchema<unknown, boolean> => v.boolean((i) => `must be true or false (got ${got(i.input)})`)

/** A path as written in the recipe; `normalisePath` makes it absolute for the host. */
export const path = (): v.GenericSchema<unknown, string> =>
  v.pipe(
    v.custom<string>((x) => typeof x === 'string' && x !== '', (i) => `must be a non-empty string path (got ${got(i.input)})`),
    v.check((s) => !s.includes('\0'), 'must not contain a NUL byte'),
  )

/** Octal permission bits as a string, normalised to four digits ('644' -> '0644'). */
export const mode = (): v.GenericSchema<unknown, string> =>
  v.pipe(
    v.custom<string>(
      (x) => typeof x === 'string' && /^0?[0-7]{3,4}$/.test(x),
      (i) => `must be an octal string like '0644' (got ${got(i.input)})${typeof i.input === 'number' ? ': write it as a string so it is read as octal' : ''}`,
    ),
    v.transform((s) => s.padStart(4, '0').slice(-4)),
  )

/** A user name. */
export const owner = (): v.GenericSchema<unknown, string> =>
  v.custom<string>((x) => typeof x === 'string' && /^[A-Za-z0-9_][A-Za-z0-9_.@-]*$/.test(x), (i) => `must be a user name (got ${got(i.input)})`)

export type State = 'present' | 'absent'

/** 'present' (the default) or 'absent'. */
export const state = (): v.GenericSchema<unknown, State> =>
  v.optional(v.picklist(['present', 'absent'], (i) => `must be 'present' or 'absent' (got ${got(i.input)})`), 'present') as v.GenericSchema<unknown, State>

/** A program and its arguments, never one string for a shell to split. */
export const argv = (): v.GenericSchema<unknown, string[]> =>
  v.custom<string[]>(
    (x) => Array.isArray(x) && x.length > 0 && x.every((a) => typeof a === 'string'),
    (i) => `must be a non-empty array of strings, e.g. ['make', 'install'] (got ${got(i.input)})`,
  )

/** Environment variables for a command: valid names, string values. */
export const env = (): v.GenericSchema<unknown, Record<string, string>> =>
  v.record(
    v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not a valid environment variable name')),
    v.string((i) => `must be a string (got ${got(i.input)})`),
    (i) => `must be an object of strings (got ${got(i.input)})`,
  )

/** A positive number (seconds, bytes…). */
export const positive = (what: string): v.GenericSchema<unknown, number> =>
  v.custom<number>((x) => typeof x === 'number' && x > 0, (i) => `must be a positive number of ${what} (got ${got(i.input)})`)

/** Builds errors that name the resource and the field; the kit hands one to `normalise`. */
export type Fail = (field: string, problem: string) => never

export function expandHome(p: string, facts: Facts): string {
  if (p === '~') return facts.home
  if (!p.startsWith('~/')) return p
  if (facts.os === 'windows') return `${facts.home.replace(/\\$/, '')}\\${p.slice(2).replaceAll('/', '\\')}`
  return `${facts.home.replace(/\/$/, '')}/${p.slice(2)}`
}

const WINDOWS_ABSOLUTE = /^([A-Za-z]:[\\/]|\\\\)/

/**
 * A `path()` made absolute for the host and normalised, so one path has one spelling: `~`
 * expanded, `.`, `..` and repeated separators resolved (`/x/a/../same.txt` and `/x//same.txt` are
 * `/x/same.txt`), no trailing separator; on Windows, backslashes and an upper-case drive letter.
 * Ids, the duplicate check and the ordering edges are all computed from this form.
 */
export function normalisePath(value: string, field: string, facts: Facts, fail: Fail): string {
  const p = expandHome(value, facts)
  if (facts.os === 'windows') {
    if (!WINDOWS_ABSOLUTE.test(p)) fail(field, `must be absolute (C:\\…) or start with ~/ on a Windows host (got ${got(value)})`)
    const n = win32.normalize(p).replace(/^[a-z]:/, (d) => d.toUpperCase())
    // A drive root keeps its separator (C:\ is not C:, the current directory on drive C).
    return /^[A-Z]:\\$/.test(n) ? n : n.replace(/\\+$/, '')
  }
  if (!p.startsWith('/')) fail(field, `must be absolute or start with ~/ (got ${got(value)})`)
  const n = posix.normalize(p)
  return n.length > 1 ? n.replace(/\/+$/, '') : n
}

/** mode and owner are POSIX permissions; Windows ACLs are not managed (yet). */
export function rejectPosixAttributes(d: { mode?: unknown; owner?: unknown }, facts: Facts, fail: Fail): void {
  if (facts.os !== 'windows') return
  for (const f of ['mode', 'owner'] as const) {
    if (d[f] !== undefined) fail(f, 'is a POSIX permission and cannot be set on a Windows host (ACLs are not managed); leave it out there')
  }
}
