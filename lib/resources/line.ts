import * as v from 'valibot'
import { StatecraftError } from '../core/errors.ts'
import type { ChangeText, Step } from '../core/types.ts'
import { CONTENT_READ_LIMIT, contentSnippet, statSnippet } from '../shell/posix/lib.ts'
import { decodeHex } from '../shell/protocol.ts'
import { parseStat, type Stat, statProbe } from '../shell/stat.ts'
import { psContent, psWrite } from '../shell/powershell/lib.ts'
import { atomicWrite } from '../shell/posix/write.ts'
import { flag, mode, normalisePath, path, rejectPosixAttributes, state, text } from './fields.ts'
import { defineResource } from './kit.ts'
import { recipeRegex } from './regex.ts'

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

/** 'conflict': not an editable regular file; apply refuses it. */
type LineOp = { op: 'create' } | { op: 'edit' } | { op: 'conflict' }

const READ_LIMIT = CONTENT_READ_LIMIT

/** The content to write, or none; refuses a path that is not an editable regular file. */
function newContent(d: LineOptions, c: LineCurrent): string | undefined {
  if (c.kind !== 'absent' && (c.kind !== 'file' || c.tooLarge)) {
    throw new StatecraftError('E_CONFLICT', `line in ${d.path}: the path is not an editable regular file (${c.tooLarge ? 'too large' : c.kind})`)
  }
  return c.kind === 'absent' ? `${d.line}\n` : editLines(d, c.content ?? '')?.after
}

/**
 * A line present in (or absent from) a text file, optionally replacing the line a pattern matches.
 * @example
 * line({ path: '~/.zprofile', match: '^export PYTORCH_ENABLE_MPS_FALLBACK=', line: 'export PYTORCH_ENABLE_MPS_FALLBACK=1' })
 */
export const line = defineResource<LineOptions, LineCurrent, LineOp>({
  type: 'line',
  describe: (i) => `line in ${String(i.path)}`,
  fields: {
    path: path(),
    // A CR would end the line too: appended, it makes the file CRLF and the line unfindable.
    line: v.pipe(
      text(),
      v.check((l) => !l.includes('\n'), 'must be a single line (it contains a newline)'),
      v.check((l) => !l.includes('\r'), 'must be a single line without a carriage return (\\r); CRLF files keep their line endings without it'),
    ),
    match: v.optional(text()),
    state: state(),
    mode: v.optional(mode()),
    sensitive: v.optional(flag()),
  },
  normalise(d, facts, fail) {
    if (d.match !== undefined) {
      try {
        recipeRegex(d.match)
      } catch (e) {
        fail('match', `is not a valid RE2 regular expression (lookaround and backreferences are not available): ${(e as Error).message}`)
      }
    }
    rejectPosixAttributes(d, facts, fail)
    const out: LineOptions = { ...d, path: normalisePath(d.path, 'path', facts, fail) }
    if (!d.sensitive) delete out.sensitive
    return out
  },
  defaultId: (d) => `line:${d.path}:${d.match ?? d.line}`,
  paths: (d) => [{ path: d.path, kind: 'file' }],
  parse(data) {
    const c: LineCurrent = parseStat(data)
    if (data.has('content')) c.content = decodeHex(data.get('content'))
    // POSIX: sc_content prints a hash instead of the bytes past its limit; PowerShell: toolarge=1.
    if (data.get('toolarge') === '1' || data.has('sha256')) c.tooLarge = true
    return c
  },
  diff(d, c) {
    if (c.kind === 'absent') return d.state === 'absent' ? [] : [{ op: 'create', text: `create ${d.path} with line ${show(d)}`, ...contentDiff(d, '', `${d.line}\n`) }]
    if (c.kind !== 'file') return [{ op: 'conflict', text: `edit ${d.path}: it is a ${c.kind}, not a file` }]
    if (c.tooLarge) return [{ op: 'conflict', text: `edit ${d.path}: larger than ${READ_LIMIT} bytes, too large to edit line by line` }]
    const before = c.content ?? ''
    const edit = editLines(d, before)
    return edit ? [{ op: 'edit', text: edit.text, ...contentDiff(d, before, edit.after) }] : []
  },
  posix: {
    // Both reads lead the probe, so the batch serves them with its shared `stat` and `od`
    // launches (shell/posix/batch.ts): no program starts per line resource, nor per file.
    probe: (d) => `${statSnippet(d.path)}\n${contentSnippet(d.path)}`,
    apply(d, c): Step[] {
      const after = newContent(d, c)
      return after === undefined ? [] : [atomicWrite(d.path, after, c.mode ?? d.mode ?? '0644', c.owner, { fresh: c.kind === 'absent' })]
    },
  },
  powershell: {
    probe: (d) => `${statProbe(d.path, 'powershell')}\n${psContent(d.path, READ_LIMIT, 'toolarge')}`,
    apply(d, c): Step[] {
      const after = newContent(d, c)
      return after === undefined ? [] : [psWrite(d.path, after)]
    },
  },
  secrets: (d) => (d.sensitive ? [d.line] : []),
  // The edit needs only the lines it could touch and where they are: the others are kept empty,
  // so line numbers, line endings and the plan's text stay as a live plan prints them.
  snapshotProbe(data, d) {
    const content = data.get('content')
    if (content === undefined) return data
    return new Map([...data].map(([k, v]) => [k, k === 'content' ? Buffer.from(relevantLines(d, decodeHex(v)), 'utf8').toString('hex') : v]))
  },
  examples: ({ path, value }) => [{ desired: { path, line: value.replace(/[\r\n]/g, ' '), match: '^x' }, current: { kind: 'file', content: 'x=1\r\n' } }],
})

export const lineType = line.type

function show(d: LineOptions): string {
  return d.sensitive ? '(sensitive)' : JSON.stringify(d.line)
}

/** Pure: the edit `d` makes to `content`, or null when nothing changes. */
export function editLines(d: LineOptions, content: string): { text: string; after: string } | null {
  // Windows files keep their CRLF endings; the line is compared without its terminator.
  const eol = content.includes('\r\n') ? '\r\n' : '\n'
  const lines = content === '' ? [] : content.replace(/\r?\n$/, '').split(eol)
  const trailingNewline = content === '' || content.endsWith('\n')
  const re = d.match !== undefined ? recipeRegex(d.match) : null
  // An empty last line needs its terminator even when the file had none, or it reads back as no line.
  const join = (ls: string[]): string => (ls.length === 0 ? '' : `${ls.join(eol)}${trailingNewline || ls.at(-1) === '' ? eol : ''}`)
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

/** `content` with every line that neither matches nor equals the line emptied (its ending kept). */
export function relevantLines(d: LineOptions, content: string): string {
  const re = d.match !== undefined ? recipeRegex(d.match) : null
  return content
    .split('\n')
    .map((l) => {
      const bare = l.endsWith('\r') ? l.slice(0, -1) : l
      return (re ? re.test(bare) : false) || bare === d.line ? l : l.endsWith('\r') ? '\r' : ''
    })
    .join('\n')
}

function contentDiff(d: LineOptions, before: string, after: string): Partial<ChangeText> {
  return d.sensitive ? {} : { path: d.path, before, after }
}
