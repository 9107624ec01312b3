import * as v from 'valibot'
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

type DirectoryOp = { op: 'remove'; recursive: boolean } | { op: 'create' } | { op: 'replace'; kind: Stat['kind'] } | AttributeOp

/**
 * A directory (parents created as needed) with optional mode and owner; or absent.
 * @example
 * directory({ path: '~/invokeai/models/ldm/stable-diffusion-v1', mode: '0755' })
 */
export const directory = defineResource<DirectoryOptions, Stat, DirectoryOp>({
  type: 'directory',
  describe: (i) => `directory ${String(i.path)}`,
  fields: { path: path(), mode: v.optional(mode()), owner: v.optional(owner()), state: state(), force: v.optional(flag()) },
  normalise(d, facts, fail) {
    rejectPosixAttributes(d, facts, fail)
    return { ...d, path: normalisePath(d.path, 'path', facts, fail), force: d.force === true }
  },
  defaultId: (d) => `directory:${d.path}`,
  paths: (d) => [{ path: d.path, kind: 'directory' }],
  parse: (data) => parseStat(data),
  diff(d, c) {
    if (d.state === 'absent') {
      if (c.kind !== 'directory') return []
      return [{ op: 'remove', recursive: d.force === true, text: d.force ? `remove directory ${d.path} and everything in it` : `remove empty directory ${d.path}` }]
    }
    if (c.kind === 'absent') return [{ op: 'create', text: `create directory ${d.path}` }, ...attributeChanges(d, c, true)]
    if (c.kind !== 'directory') return [{ op: 'replace', kind: c.kind, text: `replace ${c.kind} ${d.path} with a directory` }]
    return attributeChanges(d, c, false)
  },
  posix: {
    probe: (d) => statProbe(d.path, 'posix'),
    apply(d, _c, changes) {
      const removal = changes.find((ch) => ch.op === 'remove')
      if (removal) return [{ argv: removal.recursive ? ['rm', '-rf', '--', d.path] : ['rmdir', '--', d.path] }]
      // A file or link in the way is never removed implicitly: mkdir fails and says so.
      const mkdir = changes.some((ch) => ch.op === 'create' || ch.op === 'replace') ? [{ argv: ['mkdir', '-p', '--', d.path] }] : []
      return [...mkdir, ...attributeSteps(d.path, changes)]
    },
  },
  powershell: {
    probe: (d) => statProbe(d.path, 'powershell'),
    apply(d, _c, changes) {
      const p = psQuote(d.path)
      const removal = changes.find((ch) => ch.op === 'remove')
      if (removal) return [psScriptStep(`remove ${d.path}`, removal.recursive ? `Remove-Item -LiteralPath ${p} -Recurse -Force` : `[IO.Directory]::Delete(${p})`)]
      return changes.some((ch) => ch.op === 'create' || ch.op === 'replace') ? [psScriptStep(`mkdir ${d.path}`, `$null = [IO.Directory]::CreateDirectory(${p})`)] : []
    },
  },
  examples: ({ path }) => [
    { desired: { path }, current: { kind: 'absent' } },
    { desired: { path, state: 'absent', force: true }, current: { kind: 'directory' } },
  ],
})

export const directoryType = directory.type
