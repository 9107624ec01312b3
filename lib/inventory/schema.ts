import * as v from 'valibot'

// valibot rather than zod: the same checks, but it imports in ~13 ms instead of ~116 ms, and the
// CLI loads the inventory on every run (../shared/PERF.md: keep the start lean).
const name = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]+$/, 'names use letters, digits, dot, dash and underscore'))
const vars = v.record(v.string(), v.unknown())
const text = v.pipe(v.string(), v.minLength(1))

export const hostSchema = v.strictObject({
  /** DNS name or IP; omit together with `connection: local`. */
  address: v.optional(text),
  port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535))),
  user: v.optional(text),
  /** A hint only; the facts gathered from the host decide. */
  os: v.optional(v.picklist(['linux', 'darwin', 'windows'])),
  connection: v.optional(v.picklist(['ssh', 'local'])),
  identityFile: v.optional(text),
  groups: v.optional(v.array(name)),
  vars: v.optional(vars),
  /** The run lock's path on the host (default ~/.statecraft/run.lock). */
  lockPath: v.optional(text),
  /** Run every resource with sudo (a resource can opt out with become: false). */
  become: v.optional(v.boolean()),
  becomeUser: v.optional(text),
  /** Name of the environment variable holding the sudo password (never the password itself). */
  becomePasswordEnv: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'))),
})

export const groupSchema = v.strictObject({
  vars: v.optional(vars),
})

/** An empty entry (`linux:` with nothing under it) means no fields, not an error. */
const orEmpty = <S extends v.GenericSchema>(s: S) => v.pipe(v.nullish(v.unknown()), v.transform((x) => x ?? {}), s)

export const inventorySchema = v.strictObject({
  hosts: v.optional(v.record(name, orEmpty(hostSchema))),
  groups: v.optional(v.record(name, orEmpty(groupSchema))),
})

export type HostEntry = v.InferOutput<typeof hostSchema>
export type GroupEntry = v.InferOutput<typeof groupSchema>
export const HOST_FIELDS = Object.keys(hostSchema.entries)
export const GROUP_FIELDS = Object.keys(groupSchema.entries)
