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
  nodes.forEach((n, i) => {
    for (const a of n.after) {
      known(n.id, 'after', a)
      add(n.id, { from: a, defers: true, why: 'after' })
    }
    for (const h of n.notify) {
      known(n.id, 'notify', h)
      add(h, { from: n.id, defers: true, why: 'notify' })
      notifiers.get(h)?.push(n.id)
    }
    for (const m of nodes.slice(0, i)) {
      for (const p of n.paths) {
        for (const q of m.paths) {
          if (p.path === q.path && p.kind !== 'uses' && q.kind !== 'uses') add(n.id, { from: m.id, defers: true, why: 'same-path' })
        }
      }
    }
    for (const d of nodes) {
      if (d === n) continue
      for (const q of d.paths) {
        if (q.kind !== 'directory') continue
        for (const p of n.paths) {
          const inside = isInside(p.path, q.path) || (p.kind === 'uses' && p.path === q.path)
          if (inside) {
            if (d.absent && !n.absent) {
              throw new ValidationError(`resource '${n.id}' lies under directory '${d.id}', which is declared absent`)
            }
            add(n.id, { from: d.id, defers: false, why: 'under-directory' })
          }
        }
      }
    }
  })
  return { order: topoSort(nodes.map((n) => n.id), preds), preds, notifiers }
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
