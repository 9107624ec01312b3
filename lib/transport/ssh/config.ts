import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import SSHConfig from 'ssh-config'
import { ConnectError } from '../../core/errors.ts'

/** What the inventory says about a host; every field beats ~/.ssh/config, as a command line does. */
export interface SshHostSpec {
  name: string
  address: string
  port?: number
  user?: string
  identityFile?: string
}

export interface SshTarget {
  name: string
  /** The name connected to (HostName from ssh_config, else the address). */
  host: string
  port: number
  user: string
  identityFiles: string[]
  /** Only the identity files given explicitly are required to exist. */
  explicitIdentity: boolean
  proxyJump?: string
  knownHostsFiles: string[]
  strictHostKeyChecking: 'yes' | 'accept-new' | 'no'
}

function expand(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p
}

function first(v: unknown): string | undefined {
  if (Array.isArray(v)) return v.length ? String(v[0]) : undefined
  return v === undefined ? undefined : String(v)
}

/**
 * Resolves how to reach a host: inventory fields, then ~/.ssh/config (Host aliases, HostName,
 * User, Port, IdentityFile, ProxyJump, UserKnownHostsFile, StrictHostKeyChecking), then OpenSSH's
 * defaults.
 */
export function resolveSshTarget(spec: SshHostSpec, home: string, localUser: string): SshTarget {
  const cfgPath = join(home, '.ssh', 'config')
  let computed: Record<string, unknown> = {}
  if (existsSync(cfgPath)) {
    try {
      computed = SSHConfig.parse(readFileSync(cfgPath, 'utf8')).compute(spec.address) as Record<string, unknown>
    } catch (e) {
      throw new ConnectError(`host ${spec.name}: cannot parse ${cfgPath}: ${(e as Error).message}`, { cause: e })
    }
  }
  const cfgPort = first(computed.Port)
  const port = spec.port ?? (cfgPort ? Number(cfgPort) : 22)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConnectError(`host ${spec.name}: bad Port ${cfgPort} in ${cfgPath}`)
  const cfgIds = ([] as unknown[]).concat(computed.IdentityFile ?? []).map(String)
  const explicit = spec.identityFile ? [spec.identityFile] : cfgIds
  const identityFiles = (explicit.length ? explicit : ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa']).map((p) => expand(p, home))
  const known = first(computed.UserKnownHostsFile)
  const strict = (first(computed.StrictHostKeyChecking) ?? 'yes').toLowerCase()
  const target: SshTarget = {
    name: spec.name,
    host: first(computed.HostName) ?? spec.address,
    port,
    user: spec.user ?? first(computed.User) ?? localUser,
    identityFiles,
    explicitIdentity: explicit.length > 0,
    knownHostsFiles: (known ? known.split(/\s+/) : ['~/.ssh/known_hosts']).map((p) => expand(p, home)),
    strictHostKeyChecking: strict === 'no' || strict === 'off' ? 'no' : strict === 'accept-new' ? 'accept-new' : 'yes',
  }
  const jump = first(computed.ProxyJump)
  if (jump && jump.toLowerCase() !== 'none') target.proxyJump = jump
  return target
}

/** `user@host:port` of a ProxyJump hop (the first of a comma list). */
export function parseJump(jump: string): { user?: string; address: string; port?: number } {
  const hop = jump.split(',')[0]?.trim() ?? ''
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hop)
  if (!m) throw new ConnectError(`ProxyJump ${JSON.stringify(jump)} is not of the form [user@]host[:port]`)
  const out: { user?: string; address: string; port?: number } = { address: (m[2] as string).replace(/^\[|\]$/g, '') }
  if (m[1]) out.user = m[1]
  if (m[3]) out.port = Number(m[3])
  return out
}
