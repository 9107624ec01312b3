import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { StatecraftError } from '../core/errors.ts'
import type { Facts, ProbeData } from '../core/types.ts'
import type { PlanNode } from './node.ts'
import { redact } from './report.ts'

/**
 * A recorded host: its facts and what each resource's probe printed, so a recipe can be planned
 * against it with no connection (`--simulate`). Recorded by `--snapshot` from a live plan, or built
 * from replayed outputs (scripts/snapshots.ts). Redacted before it is written: secrets masked
 * (also inside hex values), file content reduced by each type's snapshotProbe to what the plan needs.
 */
export interface HostSnapshot {
  host: string
  facts: Facts
  /** The inventory vars the options were resolved from (secret options never come from vars). */
  vars: Record<string, unknown>
  groupVars: Record<string, unknown>[]
  /** Per resource id: its type, the sha256 of the probe snippet that was run, and what it printed. */
  probes: Record<string, ProbedRecord>
}

export interface ProbedRecord {
  type: string
  probe: string
  data: Record<string, string>
  /** A secret was masked in what it printed: a plan from it would compare against the mask. */
  masked?: true
}

/** The file `--snapshot` writes: one host, and what recorded it. */
export interface SnapshotFile extends HostSnapshot {
  statecraftSnapshot: typeof SNAPSHOT_FORMAT
  /** The statecraft version that recorded it. */
  statecraft: string
  recipe: string
  /** ISO time of the recording. */
  recorded: string
  /** How it was made: a live host, or replayed outputs. */
  origin: string
}

export const SNAPSHOT_FORMAT = 1

/** What the plan of a resource says when the snapshot cannot answer its probe. */
export const NOT_IN_SNAPSHOT = 'unknown: not in snapshot'

export class SnapshotError extends StatecraftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_SNAPSHOT', message, options)
  }
}

/**
 * Which probe answered: the script's hash with the run's secrets masked first, so a simulation
 * with another token (CI's, not the recording host's) still finds the recorded answer.
 */
export const probeHash = (snippet: string, secrets: string[]): string => createHash('sha256').update(redact(snippet, secrets)).digest('hex')

const MASK = '********'

/**
 * Masks each secret in a probe value, as printed and as hex (either case, at a byte boundary), so
 * a hex value still decodes: the mask goes in as hex too.
 */
export function maskSecrets(value: string, secrets: string[]): string {
  let out = redact(value, secrets)
  for (const s of secrets.filter((x) => x.length >= 3)) {
    for (const upper of [false, true]) {
      const h = Buffer.from(s, 'utf8').toString('hex')
      const needle = upper ? h.toUpperCase() : h
      const mask = Buffer.from(MASK, 'utf8').toString('hex')
      let at = out.indexOf(needle)
      while (at >= 0) {
        if (at % 2 === 0) out = out.slice(0, at) + (upper ? mask.toUpperCase() : mask) + out.slice(at + needle.length)
        at = out.indexOf(needle, at + (at % 2 === 0 ? mask.length : 1))
      }
    }
  }
  return out
}

/** The record of one probed resource, redacted. */
export function recordProbe(node: PlanNode, snippet: string, data: ProbeData, secrets: string[]): ProbedRecord {
  const kept = node.kind.snapshotProbe ? node.kind.snapshotProbe(data, node.desired) : data
  const out = Object.fromEntries([...kept].map(([k, v]) => [k, maskSecrets(v, secrets)]))
  const masked = Object.entries(out).some(([k, v]) => v !== kept.get(k))
  return { type: node.kind.type, probe: probeHash(snippet, secrets), data: out, ...(masked ? { masked: true as const } : {}) }
}

/** What `--snapshot` records of a host after its probe, redacted. */
export function hostRecord(h: Omit<HostSnapshot, 'probes'>, nodes: PlanNode[], snippets: string[], data: (ProbeData | undefined)[], secrets: string[]): HostSnapshot {
  const probes = Object.fromEntries(nodes.map((n, i) => [n.id, recordProbe(n, snippets[i] as string, data[i] as ProbeData, secrets)]))
  return { host: h.host, facts: h.facts, vars: redact(h.vars, secrets), groupVars: redact(h.groupVars, secrets), probes }
}

/** The host's error when some resources could not be planned from its snapshot. */
export function unknownError(host: string, unknown: Map<string, string>): SnapshotError {
  return new SnapshotError(
    `host ${host}: ${unknown.size} resource(s) the snapshot cannot answer for: ${[...unknown.keys()].join(', ')}; ` +
      'their plan is unknown. Record the snapshot again (--snapshot) from a host like this one to plan them',
  )
}

/**
 * The recorded output for each probed node, or why there is none: a new resource, another type
 * under the same id, or a probe that asks something else than the recorded one did.
 */
export function replayProbes(snap: HostSnapshot, nodes: PlanNode[], snippets: string[], secrets: string[]): { data: (ProbeData | undefined)[]; unknown: Map<string, string> } {
  const unknown = new Map<string, string>()
  const data = nodes.map((n, i) => {
    const r = Object.hasOwn(snap.probes, n.id) ? snap.probes[n.id] : undefined
    const why = !r
      ? ''
      : r.type !== n.kind.type
        ? ` (recorded as a ${r.type})`
        : r.probe !== probeHash(snippets[i] as string, secrets)
          ? ' (its probe changed since the recording)'
          : r.masked
            ? ' (what it printed held a secret, masked in the snapshot)'
            : undefined
    if (why !== undefined) {
      unknown.set(n.id, `${NOT_IN_SNAPSHOT}${why}`)
      return undefined
    }
    return new Map(Object.entries((r as ProbedRecord).data))
  })
  return { data, unknown }
}

/** Reads and checks a snapshot file; the message says which file and what is wrong. */
export function readSnapshot(path: string): SnapshotFile {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw new SnapshotError(`snapshot ${path}: cannot read it as JSON (${(e as Error).message}); record one with --host NAME --snapshot FILE`, { cause: e })
  }
  const s = raw as Partial<SnapshotFile>
  if (typeof s !== 'object' || s === null || s.statecraftSnapshot !== SNAPSHOT_FORMAT) {
    throw new SnapshotError(`snapshot ${path}: not a statecraft snapshot of format ${SNAPSHOT_FORMAT} (statecraftSnapshot is ${JSON.stringify(s?.statecraftSnapshot)}); record it again with this version`)
  }
  for (const k of ['host', 'recipe', 'statecraft'] as const) {
    if (typeof s[k] !== 'string') throw new SnapshotError(`snapshot ${path}: field ${k} is missing or not a string; record it again`)
  }
  if (typeof s.facts !== 'object' || s.facts === null || typeof s.probes !== 'object' || s.probes === null) {
    throw new SnapshotError(`snapshot ${path}: facts or probes are missing; record it again`)
  }
  return { vars: {}, groupVars: [], ...s } as SnapshotFile
}

/** The file for one recorded host, keys in a stable order so that re-recordings diff well. */
export function snapshotFile(h: HostSnapshot, meta: { statecraft: string; recipe: string; origin: string; recorded?: Date }): SnapshotFile {
  return {
    statecraftSnapshot: SNAPSHOT_FORMAT,
    statecraft: meta.statecraft,
    recipe: meta.recipe,
    recorded: (meta.recorded ?? new Date()).toISOString(),
    origin: meta.origin,
    host: h.host,
    facts: h.facts,
    vars: h.vars,
    groupVars: h.groupVars,
    probes: Object.fromEntries(Object.entries(h.probes).sort(([a], [b]) => a.localeCompare(b))),
  }
}
