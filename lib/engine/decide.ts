import { StatecraftError, toStatecraftError } from '../core/errors.ts'
import type { Change } from '../core/types.ts'
import type { Edge, Graph } from './graph.ts'
import type { PlanNode } from './node.ts'
import type { ResourceStatus } from './report.ts'

export interface Outcome {
  status: ResourceStatus
  changes: Change[]
  error?: unknown
  ms: number
  /** Figures a resource reports (a download's bytes and rate). */
  details?: Record<string, number | string>
}

export type Lookup = (id: string) => Outcome | undefined

/** The predecessor that failed, so this one is skipped. */
export function brokenPred(edges: Edge[], get: Lookup): string | undefined {
  return edges.find((e) => {
    const s = get(e.from)?.status
    return s === 'failed' || s === 'skipped'
  })?.from
}

/** The predecessor whose change this resource's probe depends on (plan: changed or pending). */
export function deferringPred(edges: Edge[], get: Lookup): string | undefined {
  return edges.find((e) => {
    if (!e.defers || e.why === 'notify') return false
    const o = get(e.from)
    return o !== undefined && (o.status === 'pending' || (o.status === 'changed' && o.changes.length > 0))
  })?.from
}

/** For a notified resource: which notifiers changed, and which are still pending. */
export function notifiedBy(node: PlanNode, graph: Graph, get: Lookup): { changed: string[]; pending: string[] } {
  const ns = graph.notifiers.get(node.id) ?? []
  return {
    changed: ns.filter((n) => get(n)?.status === 'changed'),
    pending: ns.filter((n) => get(n)?.status === 'pending'),
  }
}

/** The change a notified resource makes because `by` changed (its type's `notified`). */
export function notifiedChange(node: PlanNode, by: string[]): Change {
  // host.ts refuses a notify whose target cannot be notified before anything runs.
  if (!node.kind.notified) throw new Error(`${node.id}: a ${node.kind.type} cannot be notified`)
  return node.kind.notified(node.desired, by)
}

export const recheck = (id: string): Change => ({ op: 'recheck', text: `re-checked after ${id}` })

export const skipped = (why: string): Change => ({ op: 'skip', text: `skipped: ${why}` })

/**
 * Recognised by code, not class: a resource defined against another copy of the library (a recipe
 * outside the package) throws that copy's error classes.
 */

/**
 * A resource's changes in this run: its own, then what being notified by `by` adds — unless its
 * own changes already cover that (its type's notifiedCoveredBy: a service started anyway).
 */
export function withNotified(node: PlanNode, own: Change[], by: string[]): Change[] {
  if (by.length === 0 || (own.length > 0 && node.kind.notifiedCoveredBy?.(own))) return own
  return [...own, notifiedChange(node, by)]
}
