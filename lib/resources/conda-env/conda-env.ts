import * as v from 'valibot'
import { StatecraftError } from '../../core/errors.ts'
import type { Facts, Step } from '../../core/types.ts'
import { decodeHex } from '../../shell/protocol.ts'
import { env, normalisePath, path, positive, text } from '../fields.ts'
import { computed, refuseConflicts } from '../installer.ts'
import { defineResource } from '../kit.ts'
import { CONDA_DIRS, condaExecutable } from '../conda/conda.ts'
import { condaPlatform, SUBDIR } from '../conda/installers.ts'
import { cleanSrc, posixProbe, psCleanSrc, psProbe, psWriteStamp, writeStamp, YML_LIMIT, type Where } from './scripts.ts'
import { parseEnvFile, srcDirs, type EnvSpec } from './yml.ts'

export interface CondaEnvOptions {
  /** The env's name (`conda … -n`); give this or `prefix`. */
  name?: string
  /** The env's directory (`conda … -p`); give this or `name`. */
  prefix?: string
  /**
   * The environment file ON THE HOST, e.g. `~/invokeai/environment-mac.yml` in a checkout the
   * `git` resource made. The probe reads it (up to 256 KiB) and it is checked before any conda
   * command runs; conda runs pip in its directory, where `-e .` and the `src/` checkouts live.
   */
  file: string
  /** CONDA_SUBDIR for the build; default from the hardware: osx-arm64 on Apple Silicon (also under Rosetta), osx-64 on Intel Macs, linux-64, linux-aarch64, win-64. */
  subdir?: string
  /** More environment variables for the build commands (not for commands run inside). */
  env?: Record<string, string>
  /**
   * The yml's `variables:` as the recipe expects them: `condaRun` sets them explicitly on every
   * command run inside. A yml that sets one the recipe does not list (or to another value) is
   * refused, so no command runs without it.
   */
  variables?: Record<string, string>
  /** When the yml changed since the last build: 'update' (`conda env update --prune`, the default) or 'recreate' (remove, then create). */
  onDrift?: 'update' | 'recreate'
  /** The conda to use: its executable or its installation prefix; default ~/miniforge3 (the `conda` resource's default). */
  conda?: string
  /** Seconds a build may print nothing before it counts as hung (default 3600: pip compiles wheels silently). */
  idleTimeout?: number
  /** Filled in by statecraft from the facts. */
  resolved?: Resolved
}

interface Resolved {
  conda: string
  subdir: string
  /** The yml's directory: where conda runs pip, and where src/ is. */
  dir: string
  appleSilicon: boolean
  windows: boolean
}

type Yml = { kind: 'ok'; spec: EnvSpec } | { kind: 'absent' } | { kind: 'other' } | { kind: 'large'; size: number } | { kind: 'broken'; line: number; problem: string }

export interface CondaEnvCurrent {
  conda: boolean
  /** conda printed no JSON for `env list --json`. */
  broken?: boolean
  envPrefix?: string
  /** The sha256 recorded at the last successful build. */
  built?: string
  /** The subdir the env was built for: its stamp's, else that of the python conda linked into it. */
  builtFor?: string
  yml: Yml
}

type CondaEnvOp = { op: 'create' } | { op: 'update' } | { op: 'recreate' } | { op: 'conflict'; why: string }

const BUILD_IDLE_SECONDS = 60 * 60
const got = (x: unknown): string => JSON.stringify(x)
const label = (d: CondaEnvOptions): string => (d.name !== undefined ? d.name : (d.prefix as string))
const who = (i: Record<string, any>): string => `conda env ${String(i.name ?? i.prefix ?? '?')}`

/**
 * A conda environment built from an environment file on the host, with CONDA_SUBDIR from the
 * hardware and the yml's sha256 recorded inside the env at each successful build. Drift (a yml
 * whose hash differs from the record) is fixed by `conda env update --prune` or by recreating it;
 * pip's stale `src/<egg>` checkouts are removed before every build. Run commands inside with
 * `condaRun` (never `conda activate`). Notified: it updates.
 * @example
 * condaEnv({ name: 'invokeai', file: '~/invokeai/environment-mac.yml', variables: { PYTORCH_ENABLE_MPS_FALLBACK: '1' } })
 */
export const condaEnv = defineResource<CondaEnvOptions, CondaEnvCurrent, CondaEnvOp>({
  type: 'condaEnv',
  describe: who,
  fields: {
    name: v.optional(v.pipe(text(), v.regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, 'must be an env name (letters, digits, . _ -), like invokeai'))),
    prefix: v.optional(path()),
    file: path(),
    subdir: v.optional(v.pipe(text(), v.regex(/^(noarch|[a-z]+-[a-z0-9_]+)$/, 'must be a conda subdir like osx-arm64, osx-64, linux-64 or win-64'))),
    env: v.optional(env()),
    variables: v.optional(env()),
    onDrift: v.optional(v.picklist(['update', 'recreate'], (i) => `must be 'update' or 'recreate' (got ${got(i.input)})`)),
    conda: v.optional(path()),
    idleTimeout: v.optional(positive('seconds')),
    resolved: computed('is filled in by statecraft; leave it out'),
  },
  normalise(d, facts, fail) {
    if ((d.name === undefined) === (d.prefix === undefined)) fail('name/prefix', 'give exactly one: name (conda -n) or prefix (conda -p)')
    if (d.name === 'base') fail('name', "is 'base', conda's own installation: build the env under another name")
    const platform = condaPlatform(facts)
    const subdir = d.subdir ?? (platform ? SUBDIR[platform] : undefined)
    if (subdir === undefined) return fail('subdir', `is required on ${facts.os}/${facts.arch} (statecraft knows the subdirs of macOS, Linux x86_64/aarch64 and Windows x64)`)
    const file = normalisePath(d.file, 'file', facts, fail)
    const sep = facts.os === 'windows' ? '\\' : '/'
    const out: CondaEnvOptions = { ...d, file, onDrift: d.onDrift ?? 'update' }
    if (d.prefix !== undefined) out.prefix = normalisePath(d.prefix, 'prefix', facts, fail)
    out.resolved = {
      conda: condaPath(d.conda, facts, fail),
      subdir,
      dir: file.slice(0, file.lastIndexOf(sep)) || sep,
      appleSilicon: facts.appleSilicon,
      windows: facts.os === 'windows',
    }
    return out
  },
  defaultId: (d) => `condaEnv:${label(d)}`,
  paths: (d) => [
    { path: d.file, kind: 'uses' },
    { path: (d.resolved as Resolved).conda, kind: 'uses' },
    ...(d.prefix !== undefined ? [{ path: d.prefix, kind: 'directory' as const }] : []),
  ],
  parse(data): CondaEnvCurrent {
    const c: CondaEnvCurrent = { conda: data.get('conda') === '1', yml: readYml(data) }
    if (!c.conda) return c
    try {
      const envs = (JSON.parse(decodeHex(data.get('envs') ?? '')) as { envs?: unknown }).envs
      if (!Array.isArray(envs)) c.broken = true
    } catch {
      c.broken = true
    }
    if (!data.has('envprefix')) return c
    c.envPrefix = decodeHex(data.get('envprefix'))
    if (data.has('pysubdir')) c.builtFor = data.get('pysubdir')
    if (data.has('stamp')) {
      try {
        const s = JSON.parse(decodeHex(data.get('stamp'))) as { sha256?: unknown; subdir?: unknown }
        if (typeof s.sha256 === 'string') c.built = s.sha256
        if (typeof s.subdir === 'string') c.builtFor = s.subdir
      } catch {
        // An unreadable record is no record: the env is rebuilt from the yml.
      }
    }
    return c
  },
  diff(d, c) {
    const r = d.resolved as Resolved
    const conflict = (why: string, short: string) => [{ op: 'conflict' as const, why: `${who(d)}: ${why}`, text: `build conda env ${label(d)} from ${d.file}: ${short}` }]
    if (c.yml.kind === 'absent' || c.yml.kind === 'other') {
      return conflict(`${d.file} ${c.yml.kind === 'absent' ? 'is not on the host' : 'is not a regular file'}: when a git resource of this recipe brings it, list that resource in after (then this one is re-checked once it has run); else fix file`, `${d.file} is missing`)
    }
    if (c.yml.kind === 'large') return conflict(`${d.file} has ${c.yml.size} bytes, more than the ${YML_LIMIT} an environment file is read up to: is it the right file?`, `${d.file} is too large`)
    if (c.yml.kind === 'broken') return conflict(`${d.file} line ${c.yml.line}: ${c.yml.problem}. Nothing was run; fix the file`, `${d.file} line ${c.yml.line} is broken`)
    const spec = c.yml.spec
    const missing = Object.entries(spec.variables).filter(([k, val]) => d.variables?.[k] !== val)
    if (missing.length > 0) {
      const want = `{ ${Object.entries(spec.variables).map(([k, val]) => `${k}: ${got(val)}`).join(', ')} }`
      return conflict(`${d.file} sets ${missing.map(([k, val]) => `${k}=${val}`).join(', ')} for commands run inside, and condaRun would not (conda run on older condas does not apply them): add variables: ${want} to this condaEnv`, 'its variables are not declared')
    }
    if (!c.conda) return conflict(`no conda at ${r.conda}: when a conda resource of this recipe installs it, list that resource in after (then this one is re-checked once it has run); else give conda (the executable or its installation prefix)`, `no conda at ${r.conda}`)
    if (c.broken) return conflict(`the conda at ${r.conda} does not answer 'conda env list --json'; repair or remove it`, 'conda does not answer')
    const what = `conda env ${label(d)} with ${r.conda} (CONDA_SUBDIR=${r.subdir}) from ${d.file} (sha256 ${spec.sha256})`
    if (c.envPrefix === undefined) return [{ op: 'create', text: `create ${what}: missing` }]
    // Packages of another platform cannot be updated in place (an osx-64 env from a Rosetta shell on an M1).
    if (c.builtFor !== undefined && c.builtFor !== r.subdir) {
      return [{ op: 'recreate', text: `recreate ${what}: built for ${c.builtFor}, this host needs ${r.subdir}; packages of another platform cannot be updated in place` }]
    }
    if (c.built === spec.sha256) return []
    const why = c.built === undefined ? 'no record of the yml it was built from' : `yml changed, was ${c.built}`
    return d.onDrift === 'recreate' ? [{ op: 'recreate', text: `recreate ${what}: ${why}` }] : [{ op: 'update', text: `update ${what} with --prune: ${why}` }]
  },
  posix: {
    probe: (d) => posixProbe(where(d)),
    apply: (d, c, changes) => steps(d, c, changes),
  },
  powershell: {
    probe: (d) => psProbe(where(d)),
    apply: (d, c, changes) => steps(d, c, changes),
  },
  notified: (d, by) => ({ op: 'update', text: `update conda env ${label(d)} from ${d.file} (notified by ${by.join(', ')})` }),
  examples: ({ path, value }) => [
    { desired: { name: 'invokeai', file: path, env: { V: value }, onDrift: 'recreate', conda: path }, current: ok(['-e git+https://x.example/y.git#egg=k_diffusion'], '/e') },
    { desired: { prefix: path, file: path, variables: { V: value } }, current: ok([], undefined) },
  ],
})

export const condaEnvType = condaEnv.type

function ok(pip: string[], envPrefix: string | undefined): CondaEnvCurrent {
  const spec: EnvSpec = { channels: [], dependencies: ['python'], pip, variables: {}, editables: pip.length ? ['k_diffusion'] : [], sha256: 'b'.repeat(64) }
  return { conda: true, ...(envPrefix ? { envPrefix, built: 'a'.repeat(64) } : {}), yml: { kind: 'ok', spec } }
}

function readYml(data: Map<string, string>): Yml {
  const kind = data.get('ymlkind')
  if (kind !== 'file') return { kind: kind === 'other' ? 'other' : 'absent' }
  if (data.has('ymlsize')) return { kind: 'large', size: Number(data.get('ymlsize')) }
  const r = parseEnvFile(Buffer.from(data.get('yml') ?? '', 'hex'))
  return r.ok ? { kind: 'ok', spec: r.spec } : { kind: 'broken', line: r.line, problem: r.problem }
}

/** `conda`: an executable (…/conda, …\conda.exe) or an installation prefix; default the conda resource's ~/miniforge3. */
export function condaPath(given: string | undefined, facts: Facts, fail: (f: string, p: string) => never): string {
  const p = normalisePath(given ?? `~/${CONDA_DIRS.miniforge}`, 'conda', facts, fail)
  return /(^|[\\/])conda(\.exe)?$/i.test(p) ? p : condaExecutable(p, facts)
}

function where(d: CondaEnvOptions): Where {
  const w: Where = { conda: (d.resolved as Resolved).conda, file: d.file }
  if (d.name !== undefined) w.name = d.name
  if (d.prefix !== undefined) w.prefix = d.prefix
  return w
}

function steps(d: CondaEnvOptions, c: CondaEnvCurrent, changes: { op: string }[]): Step[] {
  refuseConflicts(changes as never)
  const r = d.resolved as Resolved
  if (c.yml.kind !== 'ok') throw new StatecraftError('E_CONFLICT', `${who(d)}: ${d.file} was not read and checked; run again`)
  const spec = c.yml.spec
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
  const out: Step[] = []
  const dirs = srcDirs(spec.editables)
  if (dirs.length > 0) out.push(r.windows ? psCleanSrc(r.dir, dirs) : cleanSrc(r.dir, dirs))
  for (const ch of changes) {
    if (ch.op === 'recreate' && c.envPrefix !== undefined) out.push({ argv: [r.conda, 'remove', ...target, '--all', '--yes'], label: `conda remove ${target.join(' ')} --all` })
    if (ch.op === 'create' || ch.op === 'recreate') out.push(build(['create', ...target, '-f', d.file]))
    if (ch.op === 'update') out.push(build(['update', ...target, '-f', d.file, '--prune']))
  }
  const stamp = JSON.stringify({ sha256: spec.sha256, file: d.file, subdir: r.subdir, variables: spec.variables })
  out.push(r.windows ? psWriteStamp(where(d), stamp) : writeStamp(where(d), stamp))
  return out
}
