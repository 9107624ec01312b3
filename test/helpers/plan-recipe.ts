import { composeResources } from '../../lib/core/compose.ts'
import { resolveOptions, type Recipe } from '../../lib/core/recipe.ts'
import type { Facts } from '../../lib/core/types.ts'
import { buildGraph } from '../../lib/engine/graph.ts'
import { graphNode, prepare } from '../../lib/engine/node.ts'
import { planAll } from '../../lib/engine/plan.ts'

export interface PlannedResource {
  id: string
  status: string
  changes: string[]
  error?: string
}

/**
 * The engine's own plan (host.ts's steps from composition to planAll) against replayed probe
 * output per resource id: what `--plan` prints for that host, without a transport. An id the
 * test gave no output for is probed as printing nothing (a fresh host: every parser reads
 * "absent"); `warnings` are those the resources report for what they could not check.
 */
export function planRecipe(recipe: Recipe<any>, facts: Facts, o: { probes?: Record<string, Record<string, string>>; set?: Record<string, unknown>; vars?: Record<string, unknown>; env?: Record<string, string> } = {}): { order: PlannedResource[]; warnings: string[] } {
  const options = resolveOptions(recipe, { set: o.set ?? {}, hostVars: o.vars ?? {}, env: o.env ?? {} }, 'test-host')
  const decls = composeResources(recipe, { facts, options, host: { name: 'test-host', vars: o.vars ?? {} } })
  const nodes = prepare(decls, facts, false, [])
  const byId = new Map(nodes.map((n) => [n.id, n]))
  const graph = buildGraph(nodes.map(graphNode))
  const currents = new Map<string, unknown>()
  const warnings: string[] = []
  for (const n of nodes) {
    if (n.handler) continue
    const data = new Map(Object.entries(o.probes?.[n.id] ?? {}))
    const c = n.kind.parse(data, n.desired)
    currents.set(n.id, c)
    for (const w of n.kind.warnings?.(n.desired, c) ?? []) warnings.push(`${n.id}: ${w}`)
  }
  const out = planAll(byId, graph, currents, facts)
  const order = graph.order.map((id) => {
    const r = out.get(id)
    const p: PlannedResource = { id, status: r?.status ?? '?', changes: (r?.changes ?? []).map((c) => c.text) }
    if (r?.error) p.error = String((r.error as Error).message)
    return p
  })
  return { order, warnings }
}
