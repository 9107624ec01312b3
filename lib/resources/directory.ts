import { declare, type Change, type CommonOptions, type Facts, type ProbeData, type Resource, type ResourceType, type Step } from '../core/types.ts'
import { attributeChanges, attributeSteps, checkMode, checkOwner, checkPath, checkState, rejectPosixAttributes, rejectUnknown } from './common.ts'
import { parseStat, type Stat, statProbe } from '../shell/stat.ts'
import { psScriptStep } from '../shell/powershell/lib.ts'
import { psQuote } from '../shell/powershell/quote.ts'

export interface DirectoryOptions {
  path: string
  mode?: string
  owner?: string
  state?: 'present' | 'absent'
  /** With state 'absent': remove the directory with everything in it (otherwise only an empty one). */
  force?: boolean
}

const FIELDS = ['path', 'mode', 'owner', 'state', 'force'] as const

export const directoryType: ResourceType<DirectoryOptions, Stat> = {
  type: 'directory',
  defaultId: (d) => `directory:${d.path}`,
  validate(d: DirectoryOptions, facts: Facts): DirectoryOptions {
    const w = `directory ${String(d.path)}`
    rejectUnknown(w, d, FIELDS)
    rejectPosixAttributes(w, d, facts)
    return {
      path: checkPath(w, 'path', d.path, facts),
      mode: checkMode(w, d.mode),
      owner: checkOwner(w, d.owner),
      state: checkState(w, d.state),
      force: d.force === true,
    }
  },
  paths: (d) => [{ path: d.path, kind: 'directory' }],
  probe: (d, facts) => statProbe(d.path, facts.dialect),
  parse: (data: ProbeData) => parseStat(data),
  diff(d: DirectoryOptions, c: Stat): Change[] {
    if (d.state === 'absent') {
      if (c.kind !== 'directory') return []
      return [{ text: d.force ? `remove directory ${d.path} and everything in it` : `remove empty directory ${d.path}` }]
    }
    if (c.kind === 'absent') return [{ text: `create directory ${d.path}` }, ...attributeChanges(d, c, true)]
    if (c.kind !== 'directory') return [{ text: `replace ${c.kind} ${d.path} with a directory` }]
    return attributeChanges(d, c, false)
  },
  apply(d: DirectoryOptions, c: Stat, changes: Change[], facts: Facts): Step[] {
    if (changes.length === 0) return []
    if (facts.dialect === 'powershell') {
      const p = psQuote(d.path)
      if (d.state === 'absent') return [psScriptStep(`remove ${d.path}`, d.force ? `Remove-Item -LiteralPath ${p} -Recurse -Force` : `[IO.Directory]::Delete(${p})`)]
      return c.kind === 'directory' ? [] : [psScriptStep(`mkdir ${d.path}`, `$null = [IO.Directory]::CreateDirectory(${p})`)]
    }
    if (d.state === 'absent') return [{ argv: d.force ? ['rm', '-rf', '--', d.path] : ['rmdir', '--', d.path] }]
    // A file or link in the way is never removed implicitly: mkdir fails and says so.
    const steps: Step[] = c.kind === 'directory' ? [] : [{ argv: ['mkdir', '-p', '--', d.path] }]
    return [...steps, ...attributeSteps(d.path, d, changes).map((argv) => ({ argv }))]
  },
}

/**
 * A directory (parents created as needed) with optional mode and owner; or absent.
 * @example
 * directory({ path: '~/invokeai/models/ldm/stable-diffusion-v1', mode: '0755' })
 */
export function directory(opts: DirectoryOptions & CommonOptions): Resource<DirectoryOptions> {
  return declare(directoryType, opts)
}
