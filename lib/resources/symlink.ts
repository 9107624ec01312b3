import { declare, type Change, type CommonOptions, type Facts, type ProbeData, type Resource, type ResourceType, type Step } from '../core/types.ts'
import { StatecraftError } from '../core/errors.ts'
import { quote } from '../shell/posix/quote.ts'
import { decodeHex } from '../shell/protocol.ts'
import { checkPath, checkState, checkString, fail, rejectUnknown } from './common.ts'
import { parseStat, type Stat, statProbe } from '../shell/stat.ts'
import { psScriptStep } from '../shell/powershell/lib.ts'
import { psQuote } from '../shell/powershell/quote.ts'

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

const FIELDS = ['path', 'target', 'state', 'force'] as const

export const symlinkType: ResourceType<SymlinkOptions, SymlinkCurrent> = {
  type: 'symlink',
  defaultId: (d) => `symlink:${d.path}`,
  validate(d: SymlinkOptions, facts: Facts): SymlinkOptions {
    const w = `symlink ${String(d.path)}`
    rejectUnknown(w, d, FIELDS)
    const state = checkState(w, d.state)
    if (state === 'present' && (d.target === undefined || d.target === '')) fail(w, 'target', 'is required when state is present')
    const target = checkString(w, 'target', d.target, true)
    const out: SymlinkOptions = { path: checkPath(w, 'path', d.path, facts), state, force: d.force === true }
    if (target !== undefined) out.target = target.startsWith('~/') ? checkPath(w, 'target', target, facts) : target
    return out
  },
  paths: (d) => [{ path: d.path, kind: 'file' }],
  probe(d: SymlinkOptions, facts: Facts): string {
    if (facts.dialect === 'powershell') {
      const q = psQuote(d.path)
      return `${statProbe(d.path, facts.dialect)}\n$i = Get-Item -LiteralPath ${q} -Force -ErrorAction SilentlyContinue\nif ($i -and ($i.Attributes -band [IO.FileAttributes]::ReparsePoint)) { Sc-KvHex 'target' ([string]@($i.Target)[0]) }`
    }
    const p = quote(d.path)
    return `${statProbe(d.path, facts.dialect)}\nif [ -L ${p} ]; then printf 'target='; readlink -- ${p} | tr -d '\\n' | sc_hex; echo; fi`
  },
  parse(data: ProbeData): SymlinkCurrent {
    const c: SymlinkCurrent = parseStat(data)
    if (data.has('target')) c.target = decodeHex(data.get('target'))
    return c
  },
  diff(d: SymlinkOptions, c: SymlinkCurrent): Change[] {
    if (d.state === 'absent') return c.kind === 'link' ? [{ text: `remove link ${d.path} (was -> ${c.target})` }] : []
    if (c.kind === 'absent') return [{ text: `create link ${d.path} -> ${d.target}` }]
    if (c.kind === 'link') return c.target === d.target ? [] : [{ text: `point ${d.path} -> ${d.target} (was -> ${c.target})` }]
    return [{ text: `replace ${c.kind} ${d.path} with link -> ${d.target}` }]
  },
  apply(d: SymlinkOptions, c: SymlinkCurrent, changes: Change[], facts: Facts): Step[] {
    if (changes.length === 0) return []
    const ps = facts.dialect === 'powershell'
    if (d.state === 'absent') return [ps ? psScriptStep(`remove ${d.path}`, `(Get-Item -LiteralPath ${psQuote(d.path)} -Force).Delete()`) : { argv: ['rm', '-f', '--', d.path] }]
    const target = d.target ?? ''
    if (c.kind === 'directory') {
      throw new StatecraftError('E_CONFLICT', `symlink ${d.path}: a directory stands there; remove it first (statecraft never deletes a directory to make a link)`)
    }
    if (c.kind === 'file' && !d.force) {
      throw new StatecraftError('E_CONFLICT', `symlink ${d.path}: a regular file stands there; set force: true to replace it`)
    }
    if (ps) {
      // Creating symbolic links needs Developer Mode or an elevated session on Windows.
      const remove = c.kind === 'absent' ? '' : `(Get-Item -LiteralPath ${psQuote(d.path)} -Force).Delete()\n`
      return [psScriptStep(`link ${d.path}`, `${remove}$null = New-Item -ItemType SymbolicLink -Path ${psQuote(d.path)} -Target ${psQuote(target)}`)]
    }
    // -n: an existing link to a directory is replaced, not descended into.
    return [{ argv: ['ln', '-sfn', '--', target, d.path] }]
  },
}

/**
 * A symbolic link; or absent.
 * @example
 * symlink({ path: '~/invokeai/models/ldm/stable-diffusion-v1/model.ckpt', target: '/data/sd-v1-4-full-ema.ckpt' })
 */
export function symlink(opts: SymlinkOptions & CommonOptions): Resource<SymlinkOptions> {
  return declare(symlinkType, opts)
}
