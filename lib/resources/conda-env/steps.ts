import type { Change, Step } from '../../core/types.ts'
import { atomicWrite } from '../../shell/posix/write.ts'
import { psWrite } from '../../shell/powershell/lib.ts'
import { refuseConflicts } from '../installer.ts'
import { cleanSrc, psCleanSrc, psWriteStamp, writeStamp, type Where } from './scripts.ts'
import type { CondaEnvOp, CondaEnvOptions, Resolved } from './types.ts'
import { srcDirs, type EnvSpec } from './yml.ts'

const BUILD_IDLE_SECONDS = 60 * 60
const BUILDS = new Set(['create', 'update', 'recreate'])

export function where(d: CondaEnvOptions): Where {
  const w: Where = { conda: (d.resolved as Resolved).conda, file: d.file }
  if (d.name !== undefined) w.name = d.name
  if (d.prefix !== undefined) w.prefix = d.prefix
  return w
}

/**
 * The steps for `changes`, in order: the controller's yml written; pip's stale checkouts removed;
 * the env removed (recreate) and built; its record written, last, so a failed build leaves none.
 */
export function buildSteps(d: CondaEnvOptions, spec: EnvSpec, envExists: boolean, changes: Change<CondaEnvOp>[]): Step[] {
  refuseConflicts(changes)
  const r = d.resolved as Resolved
  const out: Step[] = []
  if (changes.some((c) => c.op === 'write')) out.push(r.windows ? psWrite(d.file, d.content as string) : atomicWrite(d.file, d.content as string, '0644'))
  const builds = changes.filter((c) => BUILDS.has(c.op))
  if (builds.length === 0) return out
  const target = d.name !== undefined ? ['-n', d.name] : ['-p', d.prefix as string]
  // The arm64 conda under arch -arm64: from a Rosetta shell, pip's compilers would build x86_64.
  const arch = r.appleSilicon ? ['/usr/bin/arch', '-arm64'] : []
  // Modern conda passes its own --exists-action to pip; PIP_EXISTS_ACTION=w is for the older ones.
  const build = (args: string[]): Step => ({
    argv: [...arch, r.conda, 'env', ...args],
    cwd: r.dir,
    env: { ...d.env, CONDA_SUBDIR: r.subdir, PIP_EXISTS_ACTION: 'w' },
    idleTimeout: (d.idleTimeout ?? BUILD_IDLE_SECONDS) * 1000,
    label: `conda env ${args[0]} ${target.join(' ')} -f ${d.file}`,
  })
  const dirs = srcDirs(spec.editables)
  if (dirs.length > 0) out.push(r.windows ? psCleanSrc(r.dir, dirs) : cleanSrc(r.dir, dirs))
  for (const ch of builds) {
    if (ch.op === 'recreate' && envExists) out.push({ argv: [r.conda, 'remove', ...target, '--all', '--yes'], label: `conda remove ${target.join(' ')} --all` })
    if (ch.op === 'create' || ch.op === 'recreate') out.push(build(['create', ...target, '-f', d.file]))
    if (ch.op === 'update') out.push(build(['update', ...target, '-f', d.file, '--prune']))
  }
  const stamp = JSON.stringify({ sha256: spec.sha256, file: d.file, subdir: r.subdir, variables: spec.variables })
  out.push(r.windows ? psWriteStamp(where(d), stamp) : writeStamp(where(d), stamp))
  return out
}
