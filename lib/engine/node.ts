import { hasCode, ValidationError } from '../core/errors.ts'
import { siteOf } from '../core/site.ts'
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
  /** Where the recipe declared it (`recipe.ts:12:7`), for messages about it. */
  site?: string
}

/** An error about one resource: the report counts that resource as failed. */
export interface ResourceFault {
  resource: { id: string; type: string }
}

/** The resource's recipe line in front of a validation message, and the resource attached. */
function atResource(e: unknown, r: Resource, id: string): unknown {
  if (!hasCode(e, 'E_VALIDATION')) return e
  const site = siteOf(r)
  const err = new ValidationError(`${site ? `${site}: ` : ''}${(e as Error).message}`, { cause: e })
  return Object.assign(err, { resource: { id, type: r.kind.type } } satisfies ResourceFault)
}

function safeDefaultId(r: Resource): string | undefined {
  try {
    return r.kind.defaultId(r.desired)
  } catch {
    return undefined
  }
}

/** Secrets shorter than this are not redacted (see report.ts) and do not make a resource sensitive. */
const MIN_SECRET = 3

export function prepare(decls: Resource[], facts: Facts, hostBecome = false, secrets: string[] = []): PlanNode[] {
  const needles = secrets.filter((s) => s.length >= MIN_SECRET).map((s) => JSON.stringify(s).slice(1, -1))
  const nodes = decls.map((r, i): PlanNode => {
    let desired: unknown
    try {
      desired = r.kind.validate(r.desired, facts)
    } catch (e) {
      throw atResource(e, r, r.id ?? safeDefaultId(r) ?? `${r.kind.type} #${i + 1}`)
    }
    // A desired state holding a secret hides its content: the old value read back may be a secret too.
    if (r.kind.markSensitive && needles.some((n) => JSON.stringify(desired).includes(n))) desired = r.kind.markSensitive(desired)
    const site = siteOf(r)
    return {
      ...(site ? { site } : {}),
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
    const sites = twin.site && n.site ? ` (declared at ${twin.site} and ${n.site})` : ''
    throw new ValidationError(`${both}: both manage ${managed.path} (paths are compared normalised: '..', '.' and repeated separators resolved); declare it once${sites}`)
  }
}

export function graphNode(n: PlanNode): GraphNode {
  return { id: n.id, after: n.after, notify: n.notify, paths: n.kind.paths(n.desired), absent: n.desired?.state === 'absent' }
}

/** `--only` / `--skip`: by id or tag. Deselected resources are left out of the run entirely. */
export function select(nodes: PlanNode[], only: string[] = [], skip: string[] = [], warn: (w: string) => void = () => {}): PlanNode[] {
  const hit = (n: PlanNode, keys: string[]): boolean => keys.some((k) => k === n.id || n.tags.includes(k))
  const kept = nodes.filter((n) => (only.length === 0 || hit(n, only)) && !hit(n, skip))
  // --only that selects nothing would be a green run that did nothing (a typo in CI): an error.
  // One key that matches nothing while others select is a warning: in a fleet, a tag may exist only on some OSes.
  if (only.length > 0 && kept.length === 0 && nodes.length > 0) {
    throw new ValidationError(`--only ${only.join(',')} matches no resource${skip.length ? ` (after --skip ${skip.join(',')})` : ''}; ${known(nodes)}`)
  }
  for (const [flag, keys] of [['--only', only], ['--skip', skip]] as const) {
    for (const k of keys) if (!nodes.some((n) => hit(n, [k]))) warn(`${flag} ${k} matches no resource on this host; ${known(nodes)}`)
  }
  const keptSet = new Set(kept)
  const left = new Set(nodes.filter((n) => !keptSet.has(n)).map((n) => n.id))
  // Edges to deselected resources are dropped: the user chose to run only these. Unknown ids stay,
  // so the graph still reports them.
  return kept.map((n) => ({ ...n, after: n.after.filter((a) => !left.has(a)), notify: n.notify.filter((h) => !left.has(h)) }))
}

function known(nodes: PlanNode[]): string {
  const tags = [...new Set(nodes.flatMap((n) => n.tags))].sort()
  return `the ids are: ${nodes.map((n) => n.id).join(', ')}; the tags are: ${tags.join(', ') || 'none (give resources tags: [...])'}`
}
