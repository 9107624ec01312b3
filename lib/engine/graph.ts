import { ValidationError } from '../core/errors.ts'
import type { ManagedPath } from '../core/types.ts'

export interface GraphNode {
  id: string
  after: string[]
  notify: string[]
  paths: ManagedPath[]
  absent: boolean
}

export interface Edge {
  from: string
  /** Whether `to`'s probe can change when `from` changes, so its plan must wait (see DESIGN: honest plans). */
  defers: boolean
  why: 'after' | 'notify' | 'same-path' | 'under-directory'
}

export interface Graph {
  order: string[]
  preds: Map<string, Edge[]>
  notifiers: Map<string, string[]>
}

/** `p` lies under directory `dir`; a Windows directory (C:\…, \\server\…) takes either separator. */
function isInside(p: string, dir: string): boolean {
  const seps = /^([A-Za-z]:[\\/]|\\\\)/.test(dir) ? ['\\', '/'] : ['/']
  return seps.some((s) => p.startsWith(dir.endsWith(s) ? dir : `${dir}${s}`))
}

/**
 * Ordering edges: explicit `after`, handlers after their notifiers, a later resource on the same
 * path after an earlier one, and anything under a managed directory after that directory.
 * A file under a directory being created probes as absent, which stays true, so that edge orders
 * without deferring the plan.
 */
export function buildGraph(nodes: GraphNode[]): Graph {
  const byId = new Map<string, GraphNode>()
  for (const n of nodes) {
    if (byId.has(n.id)) throw new ValidationError(`resource id '${n.id}' is used twice; give one of them an explicit id`)
    byId.set(n.id, n)
  }
  const preds = new Map<string, Edge[]>(nodes.map((n) => [n.id, []]))
  const notifiers = new Map<string, string[]>(nodes.map((n) => [n.id, []]))
  const add = (to: string, e: Edge): void => {
    const list = preds.get(to) as Edge[]
    if (!list.some((x) => x.from === e.from)) list.push(e)
  }
  const known = (from: string, field: string, id: string): void => {
    if (!byId.has(id)) {
      throw new ValidationError(`resource '${from}': ${field} names '${id}', which is not a resource of this run. Known ids: ${[...byId.keys()].join(', ')}`)
    }
  }
  const byPath = new Map<string, GraphNode[]>()
  /** Managed directories by path: the indexes of the nodes that manage each. */
  const dirIndex = new Map<string, number[]>()
  nodes.forEach((n, k) => {
    for (const q of n.paths) if (q.kind === 'directory') dirIndex.set(q.path, [...(dirIndex.get(q.path) ?? []), k])
  })
  nodes.forEach((n) => {
    for (const a of n.after) {
      known(n.id, 'after', a)
      add(n.id, { from: a, defers: true, why: 'after' })
    }
    for (const h of n.notify) {
      known(n.id, 'notify', h)
      add(h, { from: n.id, defers: true, why: 'notify' })
      notifiers.get(h)?.push(n.id)
    }
    // Same path as an earlier resource, and under a managed directory: looked up by path, not by
    // comparing every pair (a recipe of 5,000 files would make that 25 million comparisons).
    for (const p of n.paths) {
      if (p.kind === 'uses') continue
      for (const m of byPath.get(p.path) ?? []) if (m !== n) add(n.id, { from: m.id, defers: true, why: 'same-path' })
    }
    for (const p of n.paths) if (p.kind !== 'uses') byPath.set(p.path, [...(byPath.get(p.path) ?? []), n])
    const dirs = new Set<number>()
    for (const p of n.paths) {
      for (const dir of ancestors(p.path)) for (const k of dirIndex.get(dir) ?? []) if (isInside(p.path, dir)) dirs.add(k)
      if (p.kind === 'uses') for (const k of dirIndex.get(p.path) ?? []) dirs.add(k)
    }
    for (const k of [...dirs].sort((a, b) => a - b)) {
      const d = nodes[k] as GraphNode
      if (d === n) continue
      if (d.absent && !n.absent) throw new ValidationError(`resource '${n.id}' lies under directory '${d.id}', which is declared absent`)
      add(n.id, { from: d.id, defers: false, why: 'under-directory' })
    }
  })
  return { order: topoSort(nodes.map((n) => n.id), preds), preds, notifiers }
}

/** Every prefix of `p` that ends just before or just after a separator (either kind): its candidate directories. */
function ancestors(p: string): string[] {
  const out: string[] = []
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '/' || p[i] === '\\') out.push(p.slice(0, i), p.slice(0, i + 1))
  }
  return out
}

function topoSort(ids: string[], preds: Map<string, Edge[]>): string[] {
  const order: string[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (id: string, path: string[]): void => {
    const s = state.get(id)
    if (s === 'done') return
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(id)), id]
      throw new ValidationError(`resources depend on each other in a cycle: ${cycle.join(' -> ')}`)
    }
    state.set(id, 'visiting')
    for (const e of preds.get(id) ?? []) visit(e.from, [...path, id])
    state.set(id, 'done')
    order.push(id)
  }
  for (const id of ids) visit(id, [])
  return order
}
