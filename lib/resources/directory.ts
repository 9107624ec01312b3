import * as v from 'valibot'
import { StatecraftError } from '../core/errors.ts'
import type { Change } from '../core/types.ts'
import { quote } from '../shell/posix/quote.ts'
import { parseStat, type Stat, statProbe } from '../shell/stat.ts'
import { psScriptStep } from '../shell/powershell/lib.ts'
import { psQuote } from '../shell/powershell/quote.ts'
import { attributeChanges, attributeSteps, type AttributeOp } from './attributes.ts'
import { flag, mode, normalisePath, owner, path, rejectPosixAttributes, state } from './fields.ts'
import { defineResource } from './kit.ts'

export interface DirectoryOptions {
  path: string
  mode?: string
  owner?: string
  state?: 'present' | 'absent'
  /** With state 'absent': remove the directory with everything in it (otherwise only an empty one). */
  force?: boolean
}

interface DirectoryCurrent extends Stat {
  /** For state 'absent' without force: whether the directory has no entries; unknown when it cannot be read. */
  empty?: boolean | 'unknown'
}

/**
 * 'conflict': a change this resource will not make (a file where the directory should be, a
 * non-empty directory to remove without force). The plan shows it and fails the resource with
 * `why`, as apply does before any step runs; the same convention as line's and git's conflicts.
 */
type DirectoryOp = { op: 'remove'; recursive: boolean } | { op: 'create' } | { op: 'conflict'; why: string } | AttributeOp

/** Refuses a conflict change: E_CONFLICT with its reason, which names the path and the fix. */
function refuseConflict(changes: Change<DirectoryOp>[]): void {
  for (const ch of changes) if (ch.op === 'conflict') throw new StatecraftError('E_CONFLICT', ch.why)
}

/** What stands in the way of the directory, and what to do about it. */
function inTheWay(d: DirectoryOptions, kind: Stat['kind']): string {
  if (kind === 'link') return `directory ${d.path}: a symbolic link stands there; statecraft neither follows nor replaces it: remove the link, or manage the directory it points to`
  return `directory ${d.path}: a ${kind === 'file' ? 'regular file' : 'non-directory'} stands there; move or remove it first (statecraft never deletes it to make a directory)`
}

function notEmpty(d: DirectoryOptions, empty: 'unknown' | false): string {
  const what = empty === 'unknown' ? 'cannot be read to tell whether it is empty' : 'is not empty'
  return `directory ${d.path}: ${what}, so it is not removed without force; empty it first, or set force: true to remove it with everything in it`
}

/**
 * A directory (parents created as needed) with optional mode and owner; or absent.
 * @example
 * directory({ path: '~/invokeai/models/ldm/stable-diffusion-v1', mode: '0755' })
 */
export const directory = defineResource<DirectoryOptions, DirectoryCurrent, DirectoryOp>({
  type: 'directory',
  describe: (i) => `directory ${String(i.path)}`,
  fields: { path: path(), mode: v.optional(mode()), owner: v.optional(owner()), state: state(), force: v.optional(flag()) },
  normalise(d, facts, fail) {
    rejectPosixAttributes(d, facts, fail)
    return { ...d, path: normalisePath(d.path, 'path', facts, fail), force: d.force === true }
  },
  defaultId: (d) => `directory:${d.path}`,
  paths: (d) => [{ path: d.path, kind: 'directory' }],
  parse(data, d) {
    const c: DirectoryCurrent = parseStat(data)
    if (c.kind === 'directory' && d.state === 'absent' && !d.force) {
      const e = data.get('empty')
      c.empty = e === '1' ? true : e === '0' ? false : 'unknown'
    }
    return c
  },
  diff(d, c) {
    if (d.state === 'absent') {
      if (c.kind !== 'directory') return []
      if (d.force) return [{ op: 'remove', recursive: true, text: `remove directory ${d.path} and everything in it` }]
      if (c.empty !== true) return [{ op: 'conflict', why: notEmpty(d, c.empty ?? 'unknown'), text: `remove directory ${d.path}: ${c.empty === false ? 'not empty' : 'cannot tell whether it is empty'} (force is not set)` }]
      return [{ op: 'remove', recursive: false, text: `remove empty directory ${d.path}` }]
    }
    if (c.kind === 'absent') return [{ op: 'create', text: `create directory ${d.path}` }, ...attributeChanges(d, c, true)]
    if (c.kind !== 'directory') return [{ op: 'conflict', why: inTheWay(d, c.kind), text: `create directory ${d.path}: a ${c.kind} stands there` }]
    return attributeChanges(d, c, false)
  },
  posix: {
    probe(d) {
      if (d.state !== 'absent' || d.force) return statProbe(d.path, 'posix')
      const p = quote(d.path)
      // Globs (off in the probe script) see every name, newlines and dot files included; a
      // directory that cannot be listed is 'unknown', not empty.
      return `${statProbe(d.path, 'posix')}
if [ -d ${p} ] && [ ! -L ${p} ]; then
  if [ ! -r ${p} ] || [ ! -x ${p} ]; then echo 'empty=unknown'
  else set +f; e=1; for x in ${p}/* ${p}/.[!.]* ${p}/..?*; do if [ -e "$x" ] || [ -L "$x" ]; then e=0; break; fi; done; set -f; echo "empty=$e"; fi
fi`
    },
    apply(d, _c, changes) {
      refuseConflict(changes)
      const removal = changes.find((ch) => ch.op === 'remove')
      if (removal) return [{ argv: removal.recursive ? ['rm', '-rf', '--', d.path] : ['rmdir', '--', d.path], quick: true }]
      const mkdir = changes.some((ch) => ch.op === 'create') ? [{ argv: ['mkdir', '-p', '--', d.path], quick: true }] : []
      return [...mkdir, ...attributeSteps(d.path, changes)]
    },
  },
  powershell: {
    probe(d) {
      if (d.state !== 'absent' || d.force) return statProbe(d.path, 'powershell')
      const p = psQuote(d.path)
      return `${statProbe(d.path, 'powershell')}
$i = Get-Item -LiteralPath ${p} -Force -ErrorAction SilentlyContinue
if ($i -and $i.PSIsContainer -and -not ($i.Attributes -band [IO.FileAttributes]::ReparsePoint)) {
  try { if ([IO.Directory]::EnumerateFileSystemEntries(${p}).GetEnumerator().MoveNext()) { 'empty=0' } else { 'empty=1' } } catch { 'empty=unknown' }
}`
    },
    apply(d, _c, changes) {
      refuseConflict(changes)
      const p = psQuote(d.path)
      const removal = changes.find((ch) => ch.op === 'remove')
      if (removal) return [psScriptStep(`remove ${d.path}`, removal.recursive ? `Remove-Item -LiteralPath ${p} -Recurse -Force` : `[IO.Directory]::Delete(${p})`)]
      return changes.some((ch) => ch.op === 'create') ? [psScriptStep(`mkdir ${d.path}`, `$null = [IO.Directory]::CreateDirectory(${p})`)] : []
    },
  },
  examples: ({ path }) => [
    { desired: { path }, current: { kind: 'absent' } },
    { desired: { path, state: 'absent', force: true }, current: { kind: 'directory' } },
    { desired: { path, state: 'absent' }, current: { kind: 'directory', empty: true } },
  ],
})

export const directoryType = directory.type
