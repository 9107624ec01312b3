import { createHash } from 'node:crypto'
import { declare, type Change, type CommonOptions, type Facts, type ProbeData, type Resource, type ResourceType, type Step } from '../core/types.ts'
import { quote } from '../shell/posix/quote.ts'
import { decodeHex } from '../shell/protocol.ts'
import { attributeChanges, attributeSteps, checkMode, checkOwner, checkPath, checkState, checkString, fail, rejectPosixAttributes, rejectUnknown } from './common.ts'
import { parseStat, type Stat, statProbe } from '../shell/stat.ts'
import { psContent, psScriptStep, psWrite } from '../shell/powershell/lib.ts'
import { psQuote } from '../shell/powershell/quote.ts'
import { atomicWrite } from '../shell/posix/write.ts'

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

/** Files up to this size are read back for comparison and diffs; larger ones are hashed. */
const READ_LIMIT = 1024 * 1024
const FIELDS = ['path', 'content', 'mode', 'owner', 'state', 'sensitive'] as const

export const fileType: ResourceType<FileOptions, FileCurrent> = {
  type: 'file',
  defaultId: (d) => `file:${d.path}`,
  validate(d: FileOptions, facts: Facts): FileOptions {
    const w = `file ${String(d.path)}`
    rejectUnknown(w, d, FIELDS)
    rejectPosixAttributes(w, d, facts)
    const state = checkState(w, d.state)
    const out: FileOptions = { path: checkPath(w, 'path', d.path, facts), state }
    out.content = checkString(w, 'content', d.content, true)
    out.mode = checkMode(w, d.mode)
    out.owner = checkOwner(w, d.owner)
    if (d.sensitive !== undefined) out.sensitive = Boolean(d.sensitive)
    if (state === 'absent' && (out.content !== undefined || out.mode || out.owner)) {
      fail(w, 'state', "is 'absent': content, mode and owner cannot be set")
    }
    return out
  },
  paths: (d) => [{ path: d.path, kind: 'file' }],
  probe(d: FileOptions, facts: Facts): string {
    if (facts.dialect === 'powershell') return [statProbe(d.path, facts.dialect), ...(d.content !== undefined ? [psContent(d.path, READ_LIMIT)] : [])].join('\n')
    const p = quote(d.path)
    const lines = [statProbe(d.path, facts.dialect)]
    if (d.content !== undefined) {
      lines.push(
        `if [ -f ${p} ] && [ ! -L ${p} ]; then sz=$(wc -c < ${p} | tr -d ' '); echo "size=$sz"`,
        `  if [ "$sz" -le ${READ_LIMIT} ]; then printf 'content='; sc_hex < ${p}; echo; else echo "sha256=$(sc_sha256 ${p})"; fi`,
        'fi',
      )
    }
    return lines.join('\n')
  },
  parse(data: ProbeData): FileCurrent {
    const c: FileCurrent = parseStat(data)
    // Hex is compared as text: PowerShell's Sc-Hex ([BitConverter]) prints it upper case, od lower case.
    if (data.has('content')) c.contentHex = data.get('content')?.toLowerCase()
    if (data.has('sha256')) c.sha256 = data.get('sha256')
    if (data.has('size')) c.size = Number(data.get('size'))
    return c
  },
  diff(d: FileOptions, c: FileCurrent): Change[] {
    if (d.state === 'absent') return c.kind === 'absent' ? [] : [{ text: `remove ${c.kind} ${d.path}` }]
    if (c.kind !== 'absent' && c.kind !== 'file') {
      return [{ text: `replace ${c.kind} ${d.path} with a file` }]
    }
    const creating = c.kind === 'absent'
    const out: Change[] = []
    const bytes = d.content === undefined ? undefined : Buffer.from(d.content, 'utf8')
    if (creating) {
      out.push({ text: `create file ${d.path}${bytes ? ` (${bytes.length} bytes)` : ''}`, ...contentDiff(d, '', bytes) })
    } else if (bytes && !sameContent(bytes, c)) {
      const was = c.size ?? (c.contentHex ? c.contentHex.length / 2 : 0)
      out.push({
        text: `update content of ${d.path} (${bytes.length} bytes, was ${was} bytes)`,
        ...contentDiff(d, c.contentHex === undefined ? undefined : decodeHex(c.contentHex), bytes),
      })
    }
    out.push(...attributeChanges(d, c, creating))
    return out
  },
  apply(d: FileOptions, c: FileCurrent, changes: Change[], facts: Facts): Step[] {
    if (changes.length === 0) return []
    const writes = changes.some((ch) => ch.text.startsWith('create') || ch.text.startsWith('update') || ch.text.startsWith('replace'))
    if (facts.dialect === 'powershell') {
      if (d.state === 'absent') return [psScriptStep(`remove ${d.path}`, `Remove-Item -LiteralPath ${psQuote(d.path)} -Force`)]
      return writes ? [psWrite(d.path, d.content ?? '')] : []
    }
    if (d.state === 'absent') return [{ argv: c.kind === 'directory' ? ['rmdir', '--', d.path] : ['rm', '-f', '--', d.path] }]
    if (writes) {
      const mode = d.mode ?? (c.kind === 'file' ? c.mode : undefined) ?? '0644'
      const owner = d.owner ?? (c.kind === 'file' ? c.owner : undefined)
      return [atomicWrite(d.path, d.content ?? '', mode, owner)]
    }
    return attributeSteps(d.path, d, changes).map((argv) => ({ argv }))
  },
  secrets: (d) => (d.sensitive && d.content ? [d.content] : []),
}

function sameContent(bytes: Buffer, c: FileCurrent): boolean {
  if (c.contentHex !== undefined) return c.contentHex === bytes.toString('hex')
  if (c.sha256 !== undefined) return c.sha256 === createHash('sha256').update(bytes).digest('hex')
  return false
}

function contentDiff(d: FileOptions, before: string | undefined, after: Buffer | undefined): Partial<Change> {
  if (!after || before === undefined) return {}
  if (d.sensitive) return { path: d.path, before: '(sensitive content hidden)', after: '(sensitive content hidden)' }
  return { path: d.path, before, after: after.toString('utf8') }
}

/**
 * A file with exact content, mode and owner, written atomically; or absent.
 * @example
 * file({ path: '~/.config/invokeai/invokeai.init', content: '--web\n', mode: '0644' })
 */
export function file(opts: FileOptions & CommonOptions): Resource<FileOptions> {
  return declare(fileType, opts)
}
