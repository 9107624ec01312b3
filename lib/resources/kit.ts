import * as v from 'valibot'
import { ValidationError } from '../core/errors.ts'
import { declare, type Change, type ChangeOp, type CommonOptions, type Dialect, type Example, type Facts, type ManagedPath, type ProbeData, type Resource, type ResourceType, type RunFlags, type Step } from '../core/types.ts'
import type { Fail } from './fields.ts'

/** One dialect's half of a resource: the snippet that reads the state, and the steps that fix it. */
export interface DialectHalf<D, C, O extends ChangeOp> {
  probe(d: D, facts: Facts, run?: RunFlags): string
  /** Pure: the steps for `changes`, chosen by their `op`, never by their text. */
  apply(d: D, c: C, changes: Change<O>[], facts: Facts): Step[]
}

/** A schema for each field of the options; an unknown field is refused listing these. */
export type Fields<D> = { [K in keyof D]-?: v.GenericSchema<unknown, D[K] | undefined> }

/** Everything about one resource type, in one place. `D`: its options, `C`: its probed state, `O`: its ops. */
export interface ResourceSpec<D extends object, C, O extends ChangeOp> {
  type: string
  /** How messages name a resource, from the author's unchecked input: `file ~/x`, `line in ~/.zprofile`. */
  describe(input: Record<string, any>): string
  fields: Fields<D>
  /** After the field schemas: what needs the host's facts (`~/`, Windows paths) and rules across fields. */
  normalise?(d: D, facts: Facts, fail: Fail): D
  defaultId(d: D): string
  /** Paths it manages or uses, for implicit ordering; none by default. */
  paths?(d: D): ManagedPath[]
  parse(data: ProbeData, d: D): C
  /** Pure. Empty when converged. Only properties the author set are compared. */
  diff(d: D, c: C): Change<O>[]
  /** The halves per shell dialect; a host whose dialect has none is refused at validation. */
  posix?: DialectHalf<D, C, O>
  powershell?: DialectHalf<D, C, O>
  /** True for handlers: resources that act only when notified, and are never probed. */
  onlyIfNotified?(d: D): boolean
  /** The change to make when a resource that notifies this one changed; without it, it cannot be notified. */
  notified?(d: D, by: string[]): Change<O>
  secrets?(d: D): string[]
  /** What the probe could not check, shown as host warnings (see ResourceType.warnings). */
  warnings?(d: D, c: C): string[]
  /** Its steps may call `sudo -A` themselves (see ResourceType.askpass). */
  askpass?(d: D): boolean
  examples?(v: { path: string; value: string }): Example<D, C>[]
}

/** The declaring function a recipe calls, with the engine-facing type attached. */
export interface Declarer<D extends object, C, O extends ChangeOp> {
  /** A resource whose fields are all optional can be declared with no argument: `homebrew()`. */
  (...opts: {} extends D ? [opts?: D & CommonOptions] : [opts: D & CommonOptions]): Resource<D>
  readonly type: ResourceType<D, C, O>
}

const SHELL: Record<Dialect, string> = { posix: 'POSIX sh', powershell: 'PowerShell' }

/**
 * Defines a resource: fields as valibot schemas, probe and apply per dialect, and whether it can
 * be notified. Returns the declaring function (`file(opts)`) with its `ResourceType` as `.type`.
 * @example
 * const marker = defineResource<{ path: string }, { present: boolean }, { op: 'touch' }>({
 *   type: 'marker',
 *   describe: (i) => `marker ${String(i.path)}`,
 *   fields: { path: path() },
 *   normalise: (d, facts, fail) => ({ path: normalisePath(d.path, 'path', facts, fail) }),
 *   defaultId: (d) => `marker:${d.path}`,
 *   parse: (data) => ({ present: data.get('kind') === 'file' }),
 *   diff: (d, c) => (c.present ? [] : [{ op: 'touch', text: `create marker ${d.path}` }]),
 *   posix: { probe: (d) => statProbe(d.path, 'posix'), apply: (d) => [{ argv: ['touch', '--', d.path] }] },
 * })
 * marker({ path: '~/.ready' })
 */
export function defineResource<D extends object, C, O extends ChangeOp>(spec: ResourceSpec<D, C, O>): Declarer<D, C, O> {
  const known = Object.keys(spec.fields)
  const half = (facts: Facts): DialectHalf<D, C, O> => {
    const h = spec[facts.dialect]
    // validate() already refused this host; reaching here means validate was skipped.
    if (!h) throw new ValidationError(`${spec.type}: not supported on ${facts.os} (no ${SHELL[facts.dialect]} half)`)
    return h
  }
  const type: ResourceType<D, C, O> = {
    type: spec.type,
    defaultId: (d) => spec.defaultId(d),
    validate(input: D, facts: Facts): D {
      const raw = (input ?? {}) as Record<string, unknown>
      const where = spec.describe(raw)
      const fail: Fail = (field, problem) => {
        throw new ValidationError(`${where}: ${field} ${problem}`)
      }
      if (!spec[facts.dialect]) {
        throw new ValidationError(
          `${where}: not supported on ${facts.os} (the ${spec.type} resource has no ${SHELL[facts.dialect]} implementation); leave it out for this host, e.g. by checking facts.os in the recipe`,
        )
      }
      for (const k of Object.keys(raw)) {
        if (!known.includes(k)) fail(k, `is not a known field; known fields: ${known.join(', ')}`)
      }
      const out: Record<string, unknown> = {}
      for (const k of known) {
        const r = v.safeParse(spec.fields[k as keyof D], raw[k], { abortEarly: true })
        if (!r.success) {
          const issue = r.issues[0]
          const sub = (issue.path ?? []).map((p) => String(p.key)).join('.')
          fail(sub ? `${k}.${sub}` : k, issue.message)
        }
        if (r.output !== undefined) out[k] = r.output
      }
      return spec.normalise ? spec.normalise(out as D, facts, fail) : (out as D)
    },
    paths: (d) => spec.paths?.(d) ?? [],
    probe: (d, facts, run) => half(facts).probe(d, facts, run),
    parse: (data, d) => spec.parse(data, d),
    diff: (d, c) => spec.diff(d, c),
    // Converged means no steps, whatever state a half would otherwise act on.
    apply: (d, c, changes, facts) => (changes.length === 0 ? [] : half(facts).apply(d, c, changes, facts)),
  }
  if (spec.onlyIfNotified) type.onlyIfNotified = spec.onlyIfNotified
  if (spec.notified) type.notified = spec.notified
  if (spec.secrets) type.secrets = spec.secrets
  if (spec.warnings) type.warnings = spec.warnings
  if (spec.askpass) type.askpass = spec.askpass
  if ('sensitive' in spec.fields) type.markSensitive = (d) => ({ ...d, sensitive: true })
  if (spec.examples) type.examples = spec.examples
  const declarer = (opts?: D & CommonOptions): Resource<D> => declare(type, opts ?? ({} as D & CommonOptions))
  return Object.assign(declarer, { type }) as Declarer<D, C, O>
}
