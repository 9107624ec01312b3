import * as v from 'valibot'
import { StatecraftError } from '../core/errors.ts'
import type { Step } from '../core/types.ts'
import { quote } from '../shell/posix/quote.ts'
import { decodeHex } from '../shell/protocol.ts'
import { parseStat, type Stat, statProbe } from '../shell/stat.ts'
import { psScriptStep } from '../shell/powershell/lib.ts'
import { psQuote } from '../shell/powershell/quote.ts'
import { flag, normalisePath, path, state, text } from './fields.ts'
import { defineResource } from './kit.ts'

export interface SymlinkOptions {
  path: string
  /** What the link points to, stored as given (relative targets stay relative). */
  target?: string
  state?: 'present' | 'absent'
  /** Replace a regular file that stands where the link should be. Directories are never replaced. */
  force?: boolean
}

interface SymlinkCurrent extends Stat {
  target?: string
}

type SymlinkOp = { op: 'remove' } | { op: 'create' } | { op: 'point' } | { op: 'replace'; kind: Stat['kind'] }

/** What stands in the way of the link, refused before any step runs (plan shows it too). */
function refuseObstacle(d: SymlinkOptions, c: SymlinkCurrent): void {
  if (c.kind === 'directory') {
    throw new StatecraftError('E_CONFLICT', `symlink ${d.path}: a directory stands there; remove it first (statecraft never deletes a directory to make a link)`)
  }
  if (c.kind === 'file' && !d.force) {
    throw new StatecraftError('E_CONFLICT', `symlink ${d.path}: a regular file stands there; set force: true to replace it`)
  }
}

/**
 * A symbolic link; or absent.
 * @example
 * symlink({ path: '~/invokeai/models/ldm/stable-diffusion-v1/model.ckpt', target: '/data/sd-v1-4-full-ema.ckpt' })
 */
export const symlink = defineResource<SymlinkOptions, SymlinkCurrent, SymlinkOp>({
  type: 'symlink',
  describe: (i) => `symlink ${String(i.path)}`,
  fields: { path: path(), target: v.optional(text()), state: state(), force: v.optional(flag()) },
  normalise(d, facts, fail) {
    if (d.state === 'present' && (d.target === undefined || d.target === '')) fail('target', 'is required when state is present')
    const out: SymlinkOptions = { path: normalisePath(d.path, 'path', facts, fail), state: d.state, force: d.force === true }
    if (d.target !== undefined) out.target = d.target.startsWith('~/') ? normalisePath(d.target, 'target', facts, fail) : d.target
    return out
  },
  defaultId: (d) => `symlink:${d.path}`,
  paths: (d) => [{ path: d.path, kind: 'file' }],
  parse(data) {
    const c: SymlinkCurrent = parseStat(data)
    if (data.has('target')) c.target = decodeHex(data.get('target'))
    return c
  },
  diff(d, c) {
    if (d.state === 'absent') return c.kind === 'link' ? [{ op: 'remove', text: `remove link ${d.path} (was -> ${c.target})` }] : []
    if (c.kind === 'absent') return [{ op: 'create', text: `create link ${d.path} -> ${d.target}` }]
    if (c.kind === 'link') return c.target === d.target ? [] : [{ op: 'point', text: `point ${d.path} -> ${d.target} (was -> ${c.target})` }]
    return [{ op: 'replace', kind: c.kind, text: `replace ${c.kind} ${d.path} with link -> ${d.target}` }]
  },
  posix: {
    probe(d) {
      const p = quote(d.path)
      // $(…) strips every trailing newline, and a target may end in some: a sentinel after
      // readlink's output keeps them, then the sentinel and readlink's own newline are cut.
      return `${statProbe(d.path, 'posix')}\nif [ -L ${p} ]; then t=$(readlink -- ${p}; echo .); t=\${t%.}; sc_kv_hex target "\${t%?}"; fi`
    },
    apply(d, c): Step[] {
      if (d.state === 'absent') return [{ argv: ['rm', '-f', '--', d.path], quick: true }]
      refuseObstacle(d, c)
      // -n: an existing link to a directory is replaced, not descended into.
      return [{ argv: ['ln', '-sfn', '--', d.target ?? '', d.path], quick: true }]
    },
  },
  powershell: {
    probe(d) {
      const q = psQuote(d.path)
      return `${statProbe(d.path, 'powershell')}\n$i = Get-Item -LiteralPath ${q} -Force -ErrorAction SilentlyContinue\nif ($i -and ($i.Attributes -band [IO.FileAttributes]::ReparsePoint)) { Sc-KvHex 'target' ([string]@($i.Target)[0]) }`
    },
    apply(d, c): Step[] {
      if (d.state === 'absent') return [psScriptStep(`remove ${d.path}`, `(Get-Item -LiteralPath ${psQuote(d.path)} -Force).Delete()`)]
      refuseObstacle(d, c)
      // Creating symbolic links needs Developer Mode or an elevated session on Windows.
      const remove = c.kind === 'absent' ? '' : `(Get-Item -LiteralPath ${psQuote(d.path)} -Force).Delete()\n`
      return [psScriptStep(`link ${d.path}`, `${remove}$null = New-Item -ItemType SymbolicLink -Path ${psQuote(d.path)} -Target ${psQuote(d.target ?? '')}`)]
    },
  },
  examples: ({ path, value }) => [
    { desired: { path, target: value, force: true }, current: { kind: 'link', target: 'x' } },
    { desired: { path, state: 'absent' }, current: { kind: 'link', target: 'x' } },
  ],
})

export const symlinkType = symlink.type
