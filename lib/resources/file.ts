import { createHash } from 'node:crypto'
import * as v from 'valibot'
import { StatecraftError } from '../core/errors.ts'
import type { Change, ChangeText } from '../core/types.ts'
import { contentSnippet, CONTENT_READ_LIMIT } from '../shell/posix/lib.ts'
import { decodeHex } from '../shell/protocol.ts'
import { parseStat, type Stat, statProbe } from '../shell/stat.ts'
import { psContent, psScriptStep, psWrite } from '../shell/powershell/lib.ts'
import { psQuote } from '../shell/powershell/quote.ts'
import { atomicWrite } from '../shell/posix/write.ts'
import { attributeChanges, attributeSteps, type AttributeOp } from './attributes.ts'
import { flag, mode, normalisePath, owner, path, rejectPosixAttributes, state, text } from './fields.ts'
import { defineResource } from './kit.ts'

export interface FileOptions {
  path: string
  /** Exact content. Omit to manage only existence, mode and owner. */
  content?: string
  /** Octal string, e.g. '0644'. New files default to 0644. */
  mode?: string
  owner?: string
  state?: 'present' | 'absent'
  /** Content that must not be shown in plans or diffs. */
  sensitive?: boolean
}

interface FileCurrent extends Stat {
  /** Hex of the bytes when the file is small enough to read back. */
  contentHex?: string
  sha256?: string
  size?: number
}

/**
 * 'conflict': a directory stands where the file is (or is declared absent). A file resource never
 * removes a directory: the plan shows it and fails the resource with `why`, as apply does before
 * any step runs — the same convention as directory's, line's and git's conflicts.
 */
type FileOp = { op: 'remove'; kind: Stat['kind'] } | { op: 'replace'; kind: Stat['kind'] } | { op: 'create' } | { op: 'update' } | { op: 'conflict'; why: string } | AttributeOp

function refuseConflict(changes: Change<FileOp>[]): void {
  for (const ch of changes) if (ch.op === 'conflict') throw new StatecraftError('E_CONFLICT', ch.why)
}

const directoryThere = (d: FileOptions): string =>
  `file ${d.path}: a directory stands there, and a file resource never removes a directory: move it away, or declare it with directory({ state: 'absent', force: true }) if it should go`

/** Files up to this size are read back for comparison and diffs; larger ones are hashed. */
const READ_LIMIT = CONTENT_READ_LIMIT

const writes = (changes: Change<FileOp>[]): boolean => changes.some((ch) => ch.op === 'create' || ch.op === 'update' || ch.op === 'replace')

/**
 * A file with exact content, mode and owner, written atomically; or absent.
 * @example
 * file({ path: '~/.config/invokeai/invokeai.init', content: '--web\n', mode: '0644' })
 */
export const file = defineResource<FileOptions, FileCurrent, FileOp>({
  type: 'file',
  describe: (i) => `file ${String(i.path)}`,
  fields: { path: path(), content: v.optional(text()), mode: v.optional(mode()), owner: v.optional(owner()), state: state(), sensitive: v.optional(flag()) },
  normalise(d, facts, fail) {
    rejectPosixAttributes(d, facts, fail)
    if (d.state === 'absent' && (d.content !== undefined || d.mode || d.owner)) fail('state', "is 'absent': content, mode and owner cannot be set")
    return { ...d, path: normalisePath(d.path, 'path', facts, fail) }
  },
  defaultId: (d) => `file:${d.path}`,
  paths: (d) => [{ path: d.path, kind: 'file' }],
  parse(data): FileCurrent {
    const c: FileCurrent = parseStat(data)
    // PowerShell prints hex in upper case.
    if (data.has('content')) c.contentHex = data.get('content')?.toLowerCase()
    if (data.has('sha256')) c.sha256 = data.get('sha256')
    if (data.has('size')) c.size = Number(data.get('size'))
    return c
  },
  diff(d, c) {
    if (c.kind === 'directory') {
      if (d.state === 'absent') return [{ op: 'conflict', why: directoryThere(d), text: `remove file ${d.path}: it is a directory` }]
      return [{ op: 'conflict', why: directoryThere(d), text: `create file ${d.path}: a directory stands there` }]
    }
    if (d.state === 'absent') return c.kind === 'absent' ? [] : [{ op: 'remove', kind: c.kind, text: `remove ${c.kind} ${d.path}` }]
    if (c.kind !== 'absent' && c.kind !== 'file') {
      return [{ op: 'replace', kind: c.kind, text: `replace ${c.kind} ${d.path} with a file` }]
    }
    const creating = c.kind === 'absent'
    const out: Change<FileOp>[] = []
    const bytes = d.content === undefined ? undefined : Buffer.from(d.content, 'utf8')
    if (creating) {
      out.push({ op: 'create', text: `create file ${d.path}${bytes ? ` (${bytes.length} bytes)` : ''}`, ...contentDiff(d, '', bytes) })
    } else if (bytes && !sameContent(bytes, c)) {
      const was = c.size ?? (c.contentHex ? c.contentHex.length / 2 : 0)
      out.push({
        op: 'update',
        text: `update content of ${d.path} (${bytes.length} bytes, was ${was} bytes)`,
        ...contentDiff(d, c.contentHex === undefined ? undefined : decodeHex(c.contentHex), bytes),
      })
    }
    out.push(...attributeChanges(d, c, creating))
    return out
  },
  posix: {
    probe(d) {
      // Both lines are served for every file of the batch at once (shell/posix/batch.ts).
      return d.content === undefined ? statProbe(d.path, 'posix') : `${statProbe(d.path, 'posix')}\n${contentSnippet(d.path)}`
    },
    apply(d, c, changes) {
      refuseConflict(changes)
      if (changes.some((ch) => ch.op === 'remove')) return [{ argv: ['rm', '-f', '--', d.path], quick: true }]
      if (writes(changes)) {
        const mode = d.mode ?? (c.kind === 'file' ? c.mode : undefined) ?? '0644'
        const owner = d.owner ?? (c.kind === 'file' ? c.owner : undefined)
        return [atomicWrite(d.path, d.content ?? '', mode, owner, { fresh: c.kind === 'absent' })]
      }
      return attributeSteps(d.path, changes)
    },
  },
  powershell: {
    probe: (d) => [statProbe(d.path, 'powershell'), ...(d.content !== undefined ? [psContent(d.path, READ_LIMIT)] : [])].join('\n'),
    apply(d, _c, changes) {
      refuseConflict(changes)
      if (changes.some((ch) => ch.op === 'remove')) return [psScriptStep(`remove ${d.path}`, `Remove-Item -LiteralPath ${psQuote(d.path)} -Force`)]
      return writes(changes) ? [psWrite(d.path, d.content ?? '')] : []
    },
  },
  secrets: (d) => (d.sensitive && d.content ? [d.content] : []),
  // A snapshot keeps the hash and the size, never the bytes: the plan still tells equal content
  // from different content, and says how large it was (as for a file over READ_LIMIT).
  snapshotProbe(data) {
    const content = data.get('content')
    if (content === undefined) return data
    const bytes = Buffer.from(content, 'hex')
    const out = new Map([...data].filter(([k]) => k !== 'content'))
    out.set('sha256', createHash('sha256').update(bytes).digest('hex'))
    out.set('size', String(bytes.length))
    return out
  },
  examples: ({ path, value }) => [
    { desired: { path, content: `${value}\n` }, current: { kind: 'file', contentHex: '00' } },
    { desired: { path, state: 'absent' }, current: { kind: 'file' } },
  ],
})

export const fileType = file.type

function sameContent(bytes: Buffer, c: FileCurrent): boolean {
  if (c.contentHex !== undefined) return c.contentHex === bytes.toString('hex')
  if (c.sha256 !== undefined) return c.sha256 === createHash('sha256').update(bytes).digest('hex')
  return false
}

function contentDiff(d: FileOptions, before: string | undefined, after: Buffer | undefined): Partial<ChangeText> {
  if (!after || before === undefined) return {}
  if (d.sensitive) return { path: d.path, before: '(sensitive content hidden)', after: '(sensitive content hidden)' }
  return { path: d.path, before, after: after.toString('utf8') }
}
