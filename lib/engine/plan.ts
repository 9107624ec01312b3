import { toStatecraftError } from '../core/errors.ts'
import type { Facts } from '../core/types.ts'
import { brokenPred, deferringPred, notifiedBy, notifiedChange, recheck, skipped, withNotified, type Outcome } from './decide.ts'
import type { Graph } from './graph.ts'
import type { PlanNode } from './node.ts'

/**
 * Plan mode: the changes an apply would make, from the one batched probe. A resource whose probe
 * depends on an earlier planned change is `pending` ("re-checked after <id>"), never guessed.
 */
export function planAll(nodes: Map<string, PlanNode>, graph: Graph, currents: Map<string, unknown>, facts: Facts, unknown: Map<string, string> = new Map()): Map<string, Outcome> {
  const out = new Map<string, Outcome>()
  const get = (id: string): Outcome | undefined => out.get(id)
  for (const id of graph.order) {
    const node = nodes.get(id) as PlanNode
    const edges = graph.preds.get(id) ?? []
    const broken = brokenPred(edges, get)
    if (broken) {
      out.set(id, { status: 'skipped', changes: [skipped(`${broken} failed`)], ms: 0 })
      continue
    }
    if (node.handler) {
      const by = notifiedBy(node, graph, get)
      if (by.pending.length > 0) out.set(id, { status: 'pending', changes: [recheck(by.pending[0] as string)], ms: 0 })
      else if (by.changed.length > 0) out.set(id, { status: 'changed', changes: [notifiedChange(node, by.changed)], ms: 0 })
      else out.set(id, { status: 'unchanged', changes: [], ms: 0 })
      continue
    }
    // Simulated from a snapshot that never probed it: pending, so what depends on it is re-checked.
    const why = unknown.get(id)
    if (why !== undefined) {
      out.set(id, { status: 'pending', changes: [{ op: 'unknown', text: why }], ms: 0 })
      continue
    }
    const deferred = deferringPred(edges, get)
    if (deferred) {
      out.set(id, { status: 'pending', changes: [recheck(deferred)], ms: 0 })
      continue
    }
    const current = currents.get(id)
    const own = node.kind.diff(node.desired, current)
    // A notified resource that is not a handler: its own changes, then what being notified adds,
    // unknown (pending) while a notifier is, as for a handler.
    const by = notifiedBy(node, graph, get)
    if (by.pending.length > 0) {
      out.set(id, { status: 'pending', changes: [recheck(by.pending[0] as string)], ms: 0 })
      continue
    }
    const changes = withNotified(node, own, by.changed)
    if (changes.length === 0) {
      out.set(id, { status: 'unchanged', changes, ms: 0 })
      continue
    }
    try {
      // apply() is pure: computing the steps surfaces conflicts (a file where a link should be) now.
      node.kind.apply(node.desired, current, changes, facts)
      out.set(id, { status: 'changed', changes, ms: 0 })
    } catch (e) {
      out.set(id, { status: 'failed', changes, error: toStatecraftError(e), ms: 0 })
    }
  }
  return out
}
