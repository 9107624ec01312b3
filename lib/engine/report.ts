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

export interface HostReport {
  host: string
  ok: boolean
  error?: ErrorInfo
  /** Things the user should know that did not fail the run (a lock taken over from a dead run). */
  warnings: string[]
  /** The host must restart before the run can go on (Windows: a pending restart, installer exit 3010/1641). */
  rebootRequired: boolean
  connections: number
  roundTrips: number
  ms: number
  resources: ResourceReport[]
  summary: Summary
}

/**
 * The JSON report's shape version: bumped whenever a field is added, removed or changes meaning.
 * 2: HostReport.warnings. 3: HostReport.rebootRequired.
 */
export const SCHEMA_VERSION = 3

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
