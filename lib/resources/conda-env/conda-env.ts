import * as v from 'valibot'
import { StatecraftError } from '../../core/errors.ts'
import type { Change, Facts, Step } from '../../core/types.ts'
import { decodeHex } from '../../shell/protocol.ts'
import { env, normalisePath, path, positive, text, type Fail } from '../fields.ts'
import { computed, refuseConflicts } from '../installer.ts'
import { defineResource } from '../kit.ts'
import { CONDA_DIRS, condaExecutable } from '../conda/conda.ts'
import { condaPlatform, SUBDIR } from '../conda/installers.ts'
import { posixProbe, psProbe, YML_LIMIT } from './scripts.ts'
import { buildSteps, where } from './steps.ts'
import { label, who, type CondaEnvCurrent, type CondaEnvOp, type CondaEnvOptions, type Resolved, type Yml } from './types.ts'
import { parseEnvFile, sha256Of, type EnvSpec } from './yml.ts'

export type { CondaEnvOptions } from './types.ts'

const got = (x: unknown): string => JSON.stringify(x)

/**
 * A conda environment built from an environment file on the host (or one the recipe gives as
 * `content`), with CONDA_SUBDIR from the hardware and the yml's sha256 recorded inside the env at
 * each successful build. Drift (a yml whose hash differs from the record) is fixed by
 * `conda env update --prune` or by recreating it; pip's stale `src/<egg>` checkouts are removed
 * before every build. Run commands inside with `condaRun` (never `conda activate`). Notified: it updates.
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
    content: v.optional(text()),
    subdir: v.optional(v.pipe(text(), v.regex(/^[a-z]+-[a-z0-9_]+$/, 'must be a conda subdir like osx-arm64, osx-64, linux-64 or win-64'))),
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
    const resolved: Resolved = { conda: condaPath(d.conda, facts, fail), subdir, dir: dirOf(file, sep), appleSilicon: facts.appleSilicon, windows: facts.os === 'windows' }
    if (d.content !== undefined) {
      const r = parseEnvFile(d.content)
      if (!r.ok) return fail('content', `line ${r.line}: ${r.problem}. Nothing was run; fix the yml`)
      const missing = undeclared(r.spec, d)
      if (missing) fail('variables', `lacks what the yml sets: ${missing}`)
      resolved.spec = r.spec
    }
    out.resolved = resolved
    return out
  },
  defaultId: (d) => `condaEnv:${label(d)}`,
  paths: (d) => [
    { path: d.file, kind: d.content !== undefined ? 'file' : 'uses' },
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
    const conflict = (why: string, short: string): Change<CondaEnvOp>[] => [{ op: 'conflict', why: `${who(d)}: ${why}`, text: `build conda env ${label(d)} from ${d.file}: ${short}` }]
    const out: Change<CondaEnvOp>[] = []
    let spec: EnvSpec
    if (r.spec !== undefined) {
      spec = r.spec
      const was = 'sha256' in c.yml ? `was sha256 ${c.yml.sha256}` : c.yml.kind === 'large' ? `was ${c.yml.size} bytes` : 'missing'
      if (!('sha256' in c.yml) || c.yml.sha256 !== spec.sha256) out.push({ op: 'write', text: `write ${d.file} (${Buffer.byteLength(d.content as string)} bytes, sha256 ${spec.sha256}; ${was})` })
    } else {
      if (c.yml.kind === 'absent' || c.yml.kind === 'other') {
        return conflict(`${d.file} ${c.yml.kind === 'absent' ? 'is not on the host' : 'is not a regular file'}: when a git resource of this recipe brings it, list that resource in after (then this one is re-checked once it has run); else fix file`, `${d.file} is missing`)
      }
      if (c.yml.kind === 'large') return conflict(`${d.file} has ${c.yml.size} bytes, more than the ${YML_LIMIT} an environment file is read up to: is it the right file?`, `${d.file} is too large`)
      if (c.yml.kind === 'broken') return conflict(`${d.file} line ${c.yml.line}: ${c.yml.problem}. Nothing was run; fix the file`, `${d.file} line ${c.yml.line} is broken`)
      spec = c.yml.spec
      const missing = undeclared(spec, d)
      if (missing) return conflict(`${d.file} sets ${missing}`, 'its variables are not declared')
    }
    if (!c.conda) return conflict(`no conda at ${r.conda}: when a conda resource of this recipe installs it, list that resource in after (then this one is re-checked once it has run); else give conda (the executable or its installation prefix)`, `no conda at ${r.conda}`)
    if (c.broken) return conflict(`the conda at ${r.conda} does not answer 'conda env list --json'; repair or remove it`, 'conda does not answer')
    const what = `conda env ${label(d)} with ${r.conda} (CONDA_SUBDIR=${r.subdir}) from ${d.file} (sha256 ${spec.sha256})`
    if (c.envPrefix === undefined) return [...out, { op: 'create', text: `create ${what}: missing` }]
    // Packages of another platform cannot be updated in place (an osx-64 env from a Rosetta shell on an M1).
    if (c.builtFor !== undefined && c.builtFor !== r.subdir) {
      return [...out, { op: 'recreate', text: `recreate ${what}: built for ${c.builtFor}, this host needs ${r.subdir}; packages of another platform cannot be updated in place` }]
    }
    if (c.built === spec.sha256) return out
    const why = c.built === undefined ? 'no record of the yml it was built from' : `yml changed, was ${c.built}`
    return [...out, d.onDrift === 'recreate' ? { op: 'recreate', text: `recreate ${what}: ${why}` } : { op: 'update', text: `update ${what} with --prune: ${why}` }]
  },
  posix: {
    probe: (d) => posixProbe(where(d)),
    apply,
  },
  powershell: {
    probe: (d) => psProbe(where(d)),
    apply,
  },
  // Just created, updated or recreated from the file: an update on top would redo the same build.
  notifiedCoveredBy: (own) => own.some((c) => c.op === 'create' || c.op === 'update' || c.op === 'recreate'),
  notified: (d, by) => ({ op: 'update', text: `update conda env ${label(d)} from ${d.file} (notified by ${by.join(', ')})` }),
  examples: ({ path, value }) => [
    { desired: { name: 'invokeai', file: path, env: { V: value }, onDrift: 'recreate', conda: path }, current: example(['-e git+https://x.example/y.git#egg=k_diffusion'], '/e') },
    { desired: { prefix: path, file: path, variables: { V: value } }, current: example([], undefined) },
    { desired: { name: 'e', file: path, content: `name: e\ndependencies:\n  - python\nvariables:\n  V: ${JSON.stringify(value)}\n`, variables: { V: value } }, current: { conda: true, yml: { kind: 'absent' } } },
  ],
})

export const condaEnvType = condaEnv.type

function example(pip: string[], envPrefix: string | undefined): CondaEnvCurrent {
  const spec: EnvSpec = { channels: [], dependencies: ['python'], pip, variables: {}, editables: pip.length ? ['k_diffusion'] : [], sha256: 'b'.repeat(64) }
  return { conda: true, ...(envPrefix ? { envPrefix, built: 'a'.repeat(64) } : {}), yml: { kind: 'ok', spec, sha256: spec.sha256 } }
}

/** The yml's variables that the declaration lacks or sets otherwise, and what to add; undefined when none. */
function undeclared(spec: EnvSpec, d: CondaEnvOptions): string | undefined {
  const missing = Object.entries(spec.variables).filter(([k, val]) => d.variables?.[k] !== val)
  if (missing.length === 0) return undefined
  const want = `{ ${Object.entries(spec.variables).map(([k, val]) => `${k}: ${got(val)}`).join(', ')} }`
  return `${missing.map(([k, val]) => `${k}=${val}`).join(', ')} for commands run inside, and condaRun would not (conda run on older condas does not apply them): add variables: ${want} to this condaEnv`
}

function apply(d: CondaEnvOptions, c: CondaEnvCurrent, changes: Change<CondaEnvOp>[]): Step[] {
  refuseConflicts(changes)
  return buildSteps(d, specOf(d, c), c.envPrefix !== undefined, changes)
}

function specOf(d: CondaEnvOptions, c: CondaEnvCurrent): EnvSpec {
  const spec = (d.resolved as Resolved).spec ?? (c.yml.kind === 'ok' ? c.yml.spec : undefined)
  if (!spec) throw new StatecraftError('E_CONFLICT', `${who(d)}: ${d.file} was not read and checked; run again`)
  return spec
}

function readYml(data: Map<string, string>): Yml {
  const kind = data.get('ymlkind')
  if (kind !== 'file') return { kind: kind === 'other' ? 'other' : 'absent' }
  if (data.has('ymlsize')) return { kind: 'large', size: Number(data.get('ymlsize')) }
  const bytes = Buffer.from(data.get('yml') ?? '', 'hex')
  const r = parseEnvFile(bytes)
  return r.ok ? { kind: 'ok', spec: r.spec, sha256: r.spec.sha256 } : { kind: 'broken', line: r.line, problem: r.problem, sha256: sha256Of(bytes) }
}

/** The yml's directory; a drive root keeps its separator (C: alone is drive C's current directory). */
function dirOf(file: string, sep: string): string {
  const d = file.slice(0, file.lastIndexOf(sep)) || sep
  return /^[A-Za-z]:$/.test(d) ? `${d}\\` : d
}

/** `conda`: an executable (…/conda, …\conda.exe) or an installation prefix; default the conda resource's ~/miniforge3. */
export function condaPath(given: string | undefined, facts: Facts, fail: Fail): string {
  const p = normalisePath(given ?? `~/${CONDA_DIRS.miniforge}`, 'conda', facts, fail)
  return /(^|[\\/])conda(\.exe)?$/i.test(p) ? p : condaExecutable(p, facts)
}
