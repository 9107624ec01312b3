export type ResourceStatus = 'changed' | 'unchanged' | 'pending' | 'failed' | 'skipped'

export interface ErrorInfo {
  code: string
  message: string
}

export interface ContentDiff {
  path: string
  before: string
  after: string
}

export interface ResourceReport {
  id: string
  type: string
  status: ResourceStatus
  changes: string[]
  ms: number
  error?: ErrorInfo
  /** Figures such as a download's `bytes` and `bytesPerSecond`. */
  details?: Record<string, number | string>
  /** Content changes, with `diff: true` only; secrets are redacted. */
  diffs?: ContentDiff[]
}

export interface Summary {
  changed: number
  unchanged: number
  pending: number
  failed: number
  skipped: number
}

/** ok: converged (or planned); reboot-required: stopped until the host restarts; failed: anything else. */
export type HostStatus = 'ok' | 'failed' | 'reboot-required'

/** A restart statecraft made (`--reboot`): when it began and how long until SSH answered again. */
export interface RebootRecord {
  /** ISO time the restart command was sent. */
  at: string
  /** Milliseconds until the host answered with a new boot id. */
  ms: number
  /** The boot id before, and after. */
  fromBootId: string
  toBootId: string
}

export interface HostReport {
  host: string
  ok: boolean
  status: HostStatus
  error?: ErrorInfo
  /** Things the user should know that did not fail the run (a lock taken over from a dead run). */
  warnings: string[]
  /**
   * The host must restart before the run can go on (Windows: a pending restart, installer exit
   * 3010/1641; any host: a command's rebootExitCodes). Kept beside `status` for schema 3 readers.
   */
  rebootRequired: boolean
  /** The restarts this run made, in order ([] without --reboot). */
  reboots: RebootRecord[]
  connections: number
  roundTrips: number
  ms: number
  resources: ResourceReport[]
  summary: Summary
}

/**
 * The JSON report's shape version: bumped whenever a field is added, removed or changes meaning.
 * 2: HostReport.warnings. 3: HostReport.rebootRequired. 4: HostReport.status
 * ('ok' | 'failed' | 'reboot-required') and HostReport.reboots (restarts made with --reboot).
 */
export const SCHEMA_VERSION = 4

export interface Report {
  schemaVersion: typeof SCHEMA_VERSION
  mode: 'plan' | 'apply'
  ok: boolean
  hosts: HostReport[]
  summary: Summary & { hosts: number; failedHosts: number }
}

export function summarise(resources: ResourceReport[]): Summary {
  const s: Summary = { changed: 0, unchanged: 0, pending: 0, failed: 0, skipped: 0 }
  for (const r of resources) s[r.status]++
  return s
}

export function hostStatus(ok: boolean, rebootRequired: boolean): HostStatus {
  return ok ? 'ok' : rebootRequired ? 'reboot-required' : 'failed'
}

export function fleetReport(mode: 'plan' | 'apply', hosts: HostReport[]): Report {
  const summary = { hosts: hosts.length, failedHosts: 0, changed: 0, unchanged: 0, pending: 0, failed: 0, skipped: 0 }
  for (const h of hosts) {
    if (!h.ok) summary.failedHosts++
    for (const k of ['changed', 'unchanged', 'pending', 'failed', 'skipped'] as const) summary[k] += h.summary[k]
  }
  return { schemaVersion: SCHEMA_VERSION, mode, ok: summary.failedHosts === 0, hosts, summary }
}

const MASK = '********'

/** Replaces every occurrence of every secret in every string of `value`, deeply. */
export function redact<T>(value: T, secrets: string[]): T {
  const list = secrets.filter((s) => s.length >= 3).sort((a, b) => b.length - a.length)
  if (list.length === 0) return value
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return list.reduce((acc, s) => acc.split(s).join(MASK), v)
    if (Array.isArray(v)) return v.map(walk)
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
    return v
  }
  return walk(value) as T
}
