import { z } from 'zod'

const name = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'names use letters, digits, dot, dash and underscore')
const vars = z.record(z.string(), z.unknown())

export const hostSchema = z.strictObject({
  /** DNS name or IP; omit together with `connection: local`. */
  address: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  user: z.string().min(1).optional(),
  /** A hint only; the facts gathered from the host decide. */
  os: z.enum(['linux', 'darwin', 'windows']).optional(),
  connection: z.enum(['ssh', 'local']).optional(),
  identityFile: z.string().min(1).optional(),
  groups: z.array(name).optional(),
  vars: vars.optional(),
  /** Run every resource with sudo (a resource can opt out with become: false). */
  become: z.boolean().optional(),
  becomeUser: z.string().min(1).optional(),
  /** Name of the environment variable holding the sudo password (never the password itself). */
  becomePasswordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
})

export const groupSchema = z.strictObject({
  vars: vars.optional(),
})

export const inventorySchema = z.strictObject({
  // An empty entry (`linux:` with nothing under it) means no fields, not an error.
  hosts: z.record(name, z.preprocess((v) => v ?? {}, hostSchema)).optional(),
  groups: z.record(name, z.preprocess((v) => v ?? {}, groupSchema)).optional(),
})

export type HostEntry = z.infer<typeof hostSchema>
export type GroupEntry = z.infer<typeof groupSchema>
export const HOST_FIELDS = Object.keys(hostSchema.shape)
export const GROUP_FIELDS = Object.keys(groupSchema.shape)
