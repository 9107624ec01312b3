import { setMaxListeners } from 'node:events'
import { ValidationError } from '../core/errors.ts'
import { checkSetKeys, type Recipe } from '../core/recipe.ts'
import type { Inventory } from '../inventory/load.ts'
import { inventoryOf, selectTargets } from '../inventory/targets.ts'
import { LocalTransport } from '../transport/local.ts'
import type { Transport } from '../transport/types.ts'
import type { SshHostSpec } from '../transport/ssh/config.ts'
import type { OsName } from '../core/types.ts'
import { DEFAULT_REBOOT, runHostRebooting } from './reboot.ts'
import { DEFAULT_LOCK_PATH } from './lock.ts'
import { fleetReport, type HostReport, type Report, type ResourceReport } from './report.ts'
import type { BecomeSettings, Log } from './session.ts'
import type { HostSnapshot } from './snapshot.ts'
import { SnapshotTransport } from '../transport/snapshot.ts'

export interface HostTarget {
  name: string
  /** How to reach the host; `local` gets a LocalTransport when omitted. */
  transport?: Transport
  /** This machine (an inventory host with `connection: local`); the name `local` implies it. */
  local?: boolean
  /** Reach the host over SSH (when no transport is given). */
  ssh?: SshHostSpec
  /** The inventory's os hint: Windows hosts are asked in PowerShell first. */
  os?: OsName
  /** The run lock's path on this host (overrides ConvergeOptions.lockPath). */
  lockPath?: string
  /** Privileges: `default` makes every resource use sudo unless it says `become: false`. */
  become?: { default?: boolean; user?: string; password?: string; passwordEnv?: string }
  vars?: Record<string, unknown>
  /** Vars of the host's groups, lowest precedence first. */
  groupVars?: Record<string, unknown>[]
  /** Plan against this recorded host (`--simulate`): nothing is sent anywhere; plan mode only. */
  snapshot?: HostSnapshot
}

export interface ConvergeOptions {
  recipe: Recipe<any>
  /**
   * Host names or targets; `['local']` runs on this machine. Names are looked up in `inventory`
   * as the CLI's `--host` does (vars, groups, SSH, become).
   */
  hosts?: (string | HostTarget)[]
  /** hosts.yaml: a path (relative to the working directory) or a loaded `Inventory`. */
  inventory?: string | Inventory
  /** Every host of this inventory group, like `--group`. */
  group?: string
  mode?: 'plan' | 'apply'
  /** `--set` values, highest precedence. */
  set?: Record<string, unknown>
  /** Where secret options are read from; defaults to process.env. */
  env?: Record<string, string | undefined>
  only?: string[]
  skip?: string[]
  /** Include before/after content in the report (secrets redacted). */
  diff?: boolean
  /** Hosts converged at once. */
  concurrency?: number
  /** Start no further host once one has failed. */
  failFast?: boolean
  /** Re-hash downloaded artifacts even when their recorded stamp matches. */
  verifyArtifacts?: boolean
  /** Independent resources applied at once on one host. */
  resourceConcurrency?: number
  /** Seconds the batched probe (guards included) may take on a host; default 120. */
  probeTimeout?: number
  /**
   * Asks for a host's sudo password when its first exec found that sudo needs one and the
   * inventory gives none ('' for none). Called at most once per host, before anything changes.
   */
  askBecomePassword?: (host: string, user: string) => Promise<string>
  /**
   * When a host's apply stops as reboot required, restart it (as root: become when the login user
   * is not root), wait for SSH to answer with a new boot id, and run it again from the facts; the
   * run keeps the host's lock across. Plans never restart. Default false: the host is reported
   * as `reboot-required`.
   */
  reboot?: boolean
  /** Seconds a restarted host may take to answer again (default 600); then the host fails with E_REBOOT. */
  rebootTimeout?: number
  /** Restarts per host per run (default 3): a resource that asks every time cannot loop forever. */
  maxReboots?: number
  /** The lock's path on each host; `~/` means the login user's home there. */
  lockPath?: string
  signal?: AbortSignal
  /** Verbose lines (commands run, lock takeovers). */
  log?: Log
  onResource?: (host: string, r: ResourceReport) => void
  onHost?: (r: HostReport) => void
  /** Bytes of a running transfer (downloads), a few times a second at most. */
  onProgress?: (host: string, id: string, bytes: number, total?: number) => void
  /** Each host's facts and probe outputs, redacted, once probed (`--snapshot`; see snapshot.ts). */
  onSnapshot?: (s: HostSnapshot) => void
  /** Controller-side SSH settings. */
  ssh?: { home?: string; acceptNewHostKeys?: boolean; agentSocket?: string; connectTimeoutMs?: number }
}

/**
 * Plans or applies a recipe on hosts and returns the report. Never exits the process; a host's
 * failure is in its report, and `report.ok` is false.
 * @example
 * const report = await converge({ recipe, hosts: ['local'], mode: 'plan' })
 * const fleet = await converge({ recipe, inventory: 'hosts.yaml', hosts: ['box'], set: { port: 9091 } })
 */
export async function converge(opts: ConvergeOptions): Promise<Report> {
  const mode = opts.mode ?? 'apply'
  checkSetKeys(opts.recipe, opts.set ?? {})
  if (opts.rebootTimeout !== undefined && !(opts.rebootTimeout > 0)) throw new ValidationError(`rebootTimeout must be a positive number of seconds (got ${opts.rebootTimeout})`)
  if (opts.maxReboots !== undefined && !(Number.isInteger(opts.maxReboots) && opts.maxReboots >= 1)) throw new ValidationError(`maxReboots must be a whole number of at least 1 (got ${opts.maxReboots})`)
  // Every running command listens for the abort: a fleet legitimately has hundreds at once.
  if (opts.signal) setMaxListeners(0, opts.signal)
  const targets = resolveTargets(opts)
  const results: HostReport[] = new Array(targets.length)
  let next = 0
  let firstFailure: string | undefined
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++
      const t = targets[i] as HostTarget
      const r = firstFailure && opts.failFast ? notStarted(t.name, `not started: --fail-fast after host ${firstFailure} failed`) : await runTarget(t, opts, mode)
      if (!r.ok) firstFailure ??= t.name
      results[i] = r
      opts.onHost?.(r)
    }
  }
  const n = Math.max(1, Math.min(opts.concurrency ?? 10, targets.length))
  await Promise.all(Array.from({ length: n }, worker))
  return fleetReport(mode, results)
}

/** Names go through the inventory (or the built-in `local`); targets given as objects are kept. */
function resolveTargets(opts: ConvergeOptions): HostTarget[] {
  const hosts = opts.hosts ?? []
  const names = hosts.filter((h): h is string => typeof h === 'string')
  if (names.length === 0 && opts.group === undefined) return hosts as HostTarget[]
  const named = selectTargets(inventoryOf(opts.inventory), names, opts.group)
  const byName = new Map(named.map((t) => [t.name, t]))
  const out: HostTarget[] = hosts.map((h) => (typeof h === 'string' ? (byName.get(h) as HostTarget) : h))
  // Group members not also named come after the listed hosts, in the group's (sorted) order.
  for (const t of named) if (!names.includes(t.name)) out.push(t)
  return out
}

async function runTarget(t: HostTarget, opts: ConvergeOptions, mode: 'plan' | 'apply'): Promise<HostReport> {
  const transport = t.snapshot ? new SnapshotTransport(t.name) : t.transport ?? (t.local || (!t.ssh && t.name === 'local') ? new LocalTransport() : t.ssh ? await sshTransport(t.ssh, opts) : undefined)
  if (!transport) {
    return notStarted(t.name, `host ${t.name}: no way to reach it: give an address (SSH) or connection: local`, 'E_CONNECT')
  }
  try {
    const policy = opts.reboot ? { timeout: opts.rebootTimeout ?? DEFAULT_REBOOT.timeout, max: opts.maxReboots ?? DEFAULT_REBOOT.max } : undefined
    return await runHostRebooting({
      mode,
      recipe: opts.recipe,
      name: t.name,
      transport,
      vars: t.vars ?? {},
      groupVars: t.groupVars ?? [],
      set: opts.set ?? {},
      env: opts.env ?? process.env,
      only: opts.only ?? [],
      skip: opts.skip ?? [],
      diff: opts.diff ?? false,
      lockPath: t.lockPath ?? opts.lockPath ?? DEFAULT_LOCK_PATH,
      ...(t.os || transport.osHint ? { osHint: t.os ?? transport.osHint } : {}),
      ...(t.become ? { become: becomeSettings(t, opts.env ?? process.env) } : {}),
      resourceConcurrency: opts.resourceConcurrency ?? 4,
      ...(opts.probeTimeout ? { probeTimeout: opts.probeTimeout } : {}),
      ...(opts.askBecomePassword ? { askBecomePassword: opts.askBecomePassword } : {}),
      verifyArtifacts: opts.verifyArtifacts ?? false,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.onResource ? { onResource: opts.onResource } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.onSnapshot ? { onSnapshot: opts.onSnapshot } : {}),
      ...(t.snapshot ? { replay: t.snapshot } : {}),
    }, policy)
  } finally {
    if (!t.transport) await transport.close()
  }
}

function becomeSettings(t: HostTarget, env: Record<string, string | undefined>): BecomeSettings & { default: boolean } {
  const b = t.become ?? {}
  const fromEnv = b.passwordEnv ? env[b.passwordEnv] : undefined
  const password = b.password ?? (fromEnv === '' ? undefined : fromEnv)
  const source = b.password !== undefined ? 'the caller' : b.passwordEnv ? `the environment variable ${b.passwordEnv}` : 'nowhere'
  return { default: b.default ?? false, user: b.user ?? 'root', source, ...(password !== undefined ? { password } : {}) }
}

function notStarted(host: string, message: string, code = 'E_NOT_STARTED'): HostReport {
  return {
    host, ok: false, status: 'failed', error: { code, message }, warnings: [], rebootRequired: false, reboots: [], connections: 0, roundTrips: 0, ms: 0, resources: [],
    summary: { changed: 0, unchanged: 0, pending: 0, failed: 0, skipped: 0 },
  }
}

/** The SSH stack is imported only when a host needs it: local runs start faster without it. */
async function sshTransport(spec: SshHostSpec, opts: ConvergeOptions): Promise<Transport> {
  const { SshTransport } = await import('../transport/ssh/transport.ts')
  const s = opts.ssh ?? {}
  return new SshTransport({
    spec,
    ...(s.home ? { home: s.home } : {}),
    ...(s.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
    ...(s.agentSocket ? { agentSocket: s.agentSocket } : {}),
    ...(s.connectTimeoutMs ? { connectTimeoutMs: s.connectTimeoutMs } : {}),
  })
}
