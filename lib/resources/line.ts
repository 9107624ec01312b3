import { declare, type Change, type CommonOptions, type Facts, type ProbeData, type Resource, type ResourceType, type Step } from '../core/types.ts'
import { StatecraftError } from '../core/errors.ts'
import { quote } from '../shell/posix/quote.ts'
import { decodeHex } from '../shell/protocol.ts'
import { checkMode, checkPath, checkState, checkString, fail, rejectPosixAttributes, rejectUnknown } from './common.ts'
import { parseStat, type Stat, statProbe } from '../shell/stat.ts'
import { psContent, psWrite } from '../shell/powershell/lib.ts'
import { atomicWrite } from '../shell/posix/write.ts'

export interface LineOptions {
  path: string
  /** The whole line, without the newline. */
  line: string
  /**
   * A regular expression (JavaScript syntax): the last line it matches is replaced by `line`
   * (with state 'absent': every matching line is removed). Without it, `line` is appended if missing.
   */
  match?: string
  state?: 'present' | 'absent'
  /** Mode for a file this resource has to create. */
  mode?: string
  sensitive?: boolean
}

interface LineCurrent extends Stat {
  content?: string
  tooLarge?: boolean
}

const READ_LIMIT = 1024 * 1024
const FIELDS = ['path', 'line', 'match', 'state', 'mode', 'sensitive'] as const

export const lineType: ResourceType<LineOptions, LineCurrent> = {
  type: 'line',
  defaultId: (d) => `line:${d.path}:${d.match ?? d.line}`,
  validate(d: LineOptions, facts: Facts): LineOptions {
    const w = `line in ${String(d.path)}`
    rejectUnknown(w, d, FIELDS)
    const line = checkString(w, 'line', d.line) as string
    if (line.includes('\n')) fail(w, 'line', 'must be a single line (it contains a newline)')
    const match = checkString(w, 'match', d.match, true)
    if (match !== undefined) {
      try {
        new RegExp(match)
      } catch (e) {
        fail(w, 'match', `is not a valid regular expression: ${(e as Error).message}`)
      }
    }
    const out: LineOptions = { path: checkPath(w, 'path', d.path, facts), line, state: checkState(w, d.state) }
    if (match !== undefined) out.match = match
    rejectPosixAttributes(w, d, facts)
    out.mode = checkMode(w, d.mode)
    if (d.sensitive) out.sensitive = true
    return out
  },
  paths: (d) => [{ path: d.path, kind: 'file' }],
  probe(d: LineOptions, facts: Facts): string {
    if (facts.dialect === 'powershell') return `${statProbe(d.path, facts.dialect)}\n${psContent(d.path, READ_LIMIT, 'toolarge')}`
    const p = quote(d.path)
    return [
      statProbe(d.path, facts.dialect),
      `if [ -f ${p} ]; then if [ "$(wc -c < ${p} | tr -d ' ')" -le ${READ_LIMIT} ]; then printf 'content='; sc_hex < ${p}; echo; else echo "toolarge=1"; fi; fi`,
    ].join('\n')
  },
  parse(data: ProbeData): LineCurrent {
    const c: LineCurrent = parseStat(data)
    if (data.has('content')) c.content = decodeHex(data.get('content'))
    if (data.get('toolarge') === '1') c.tooLarge = true
    return c
  },
  diff(d: LineOptions, c: LineCurrent): Change[] {
    if (c.kind === 'absent') return d.state === 'absent' ? [] : [{ text: `create ${d.path} with line ${show(d)}`, ...contentDiff(d, '', `${d.line}\n`) }]
    if (c.kind !== 'file') return [{ text: `edit ${d.path}: it is a ${c.kind}, not a file` }]
    if (c.tooLarge) return [{ text: `edit ${d.path}: larger than ${READ_LIMIT} bytes, too large to edit line by line` }]
    const before = c.content ?? ''
    const edit = editLines(d, before)
    return edit ? [{ text: edit.text, ...contentDiff(d, before, edit.after) }] : []
  },
  apply(d: LineOptions, c: LineCurrent, changes: Change[], facts: Facts): Step[] {
    if (changes.length === 0) return []
    if (c.kind !== 'absent' && (c.kind !== 'file' || c.tooLarge)) {
      throw new StatecraftError('E_CONFLICT', `line in ${d.path}: the path is not an editable regular file (${c.tooLarge ? 'too large' : c.kind})`)
    }
    const after = c.kind === 'absent' ? `${d.line}\n` : editLines(d, c.content ?? '')?.after
    if (after === undefined) return []
    if (facts.dialect === 'powershell') return [psWrite(d.path, after)]
    return [atomicWrite(d.path, after, c.mode ?? d.mode ?? '0644', c.owner)]
  },
  secrets: (d) => (d.sensitive ? [d.line] : []),
}

function show(d: LineOptions): string {
  return d.sensitive ? '(sensitive)' : JSON.stringify(d.line)
}

/** Pure: the edit `d` makes to `content`, or null when nothing changes. */
export function editLines(d: LineOptions, content: string): { text: string; after: string } | null {
  // Windows files keep their CRLF endings; the line is compared without its terminator.
  const eol = content.includes('\r\n') ? '\r\n' : '\n'
  const lines = content === '' ? [] : content.replace(/\r?\n$/, '').split(eol)
  const trailingNewline = content === '' || content.endsWith('\n')
  const re = d.match !== undefined ? new RegExp(d.match) : null
  const join = (ls: string[]): string => (ls.length === 0 ? '' : `${ls.join(eol)}${trailingNewline ? eol : ''}`)
  if (d.state === 'absent') {
    const keep = lines.filter((l) => !(re ? re.test(l) : l === d.line))
    const n = lines.length - keep.length
    return n === 0 ? null : { text: `remove ${n} line${n > 1 ? 's' : ''} from ${d.path}`, after: join(keep) }
  }
  let idx = -1
  if (re) lines.forEach((l, i) => (re.test(l) ? (idx = i) : undefined))
  if (idx >= 0) {
    if (lines[idx] === d.line) return null
    const old = d.sensitive ? '(sensitive)' : JSON.stringify(lines[idx])
    const next = [...lines]
    next[idx] = d.line
    return { text: `replace line ${idx + 1} of ${d.path}: ${old} with ${show(d)}`, after: join(next) }
  }
  if (lines.includes(d.line)) return null
  return { text: `append line ${show(d)} to ${d.path}`, after: `${join(lines)}${trailingNewline ? '' : eol}${d.line}${eol}` }
}

function contentDiff(d: LineOptions, before: string, after: string): Partial<Change> {
  return d.sensitive ? {} : { path: d.path, before, after }
}

/**
 * A line present in (or absent from) a text file, optionally replacing the line a pattern matches.
 * @example
 * line({ path: '~/.zprofile', match: '^export PYTORCH_ENABLE_MPS_FALLBACK=', line: 'export PYTORCH_ENABLE_MPS_FALLBACK=1' })
 */
export function line(opts: LineOptions & CommonOptions): Resource<LineOptions> {
  return declare(lineType, opts)
}
