import { ValidationError } from '../core/errors.ts'
import type { Facts, Resource, ResourceType } from '../core/types.ts'
import type { GraphNode } from './graph.ts'

/** A declared resource after validation: its final id and normalised desired state. */
export interface PlanNode {
  id: string
  kind: ResourceType<any, any>
  desired: any
  tags: string[]
  after: string[]
  notify: string[]
  handler: boolean
  become: boolean
}

/** Secrets shorter than this are not redacted (see report.ts) and do not make a resource sensitive. */
const MIN_SECRET = 3

export function prepare(decls: Resource[], facts: Facts, hostBecome = false, secrets: string[] = []): PlanNode[] {
  const needles = secrets.filter((s) => s.length >= MIN_SECRET).map((s) => JSON.stringify(s).slice(1, -1))
  const nodes = decls.map((r): PlanNode => {
    let desired = r.kind.validate(r.desired, facts)
    // A desired state holding a secret hides its content: the old value read back may be a secret too.
    if (r.kind.markSensitive && needles.some((n) => JSON.stringify(desired).includes(n))) desired = r.kind.markSensitive(desired)
    return {
      id: r.id ?? r.kind.defaultId(desired),
      kind: r.kind,
      desired,
      tags: r.tags,
      after: r.after,
      notify: r.notify,
      handler: r.kind.onlyIfNotified?.(desired) ?? false,
      become: r.become ?? hostBecome,
    }
  })
  refuseTwins(nodes)
  return nodes
}

/**
 * Two declarations of one thing on the host fight: each run undoes the other, and neither
 * verifies. One thing: the same default id (file:/x/same.txt) and managed path, both from the
 * normalised desired state, so however the path is written and whatever ids were given. (Two lines
 * in one file are two things: their default ids differ.)
 */
function refuseTwins(nodes: PlanNode[]): void {
  const seen = new Map<string, PlanNode>()
  for (const n of nodes) {
    const managed = n.kind.paths(n.desired).find((p) => p.kind !== 'uses')
    if (!managed) continue
    const thing = n.kind.defaultId(n.desired)
    const key = `${thing}\0${managed.path}`
    const twin = seen.get(key)
    if (!twin) {
      seen.set(key, n)
      continue
    }
    const both = twin.id === n.id ? `resource id '${n.id}' is used twice` : `resources '${twin.id}' and '${n.id}' are one ${n.kind.type}`
    throw new ValidationError(`${both}: both manage ${managed.path} (paths are compared normalised: '..', '.' and repeated separators resolved); declare it once`)
  }
}

export function graphNode(n: PlanNode): GraphNode {
  return { id: n.id, after: n.after, notify: n.notify, paths: n.kind.paths(n.desired), absent: n.desired?.state === 'absent' }
}

/** `--only` / `--skip`: by id or tag. Deselected resources are left out of the run entirely. */
export function select(nodes: PlanNode[], only: string[] = [], skip: string[] = []): PlanNode[] {
  const hit = (n: PlanNode, keys: string[]): boolean => keys.some((k) => k === n.id || n.tags.includes(k))
  const kept = nodes.filter((n) => (only.length === 0 || hit(n, only)) && !hit(n, skip))
  const keptSet = new Set(kept)
  const left = new Set(nodes.filter((n) => !keptSet.has(n)).map((n) => n.id))
  // Edges to deselected resources are dropped: the user chose to run only these. Unknown ids stay,
  // so the graph still reports them.
  return kept.map((n) => ({ ...n, after: n.after.filter((a) => !left.has(a)), notify: n.notify.filter((h) => !left.has(h)) }))
}
