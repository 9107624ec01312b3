import { hasCode, toStatecraftError, VerifyError } from '../core/errors.ts'
import type { Change, Facts, RunFlags } from '../core/types.ts'
import { brokenPred, notifiedBy, notifiedChange, skipped, withNotified, type Outcome } from './decide.ts'
import type { Graph } from './graph.ts'
import type { PlanNode } from './node.ts'
import type { HostSession } from './session.ts'
import { runWave } from './wave.ts'

export interface ApplyContext {
  nodes: Map<string, PlanNode>
  graph: Graph
  currents: Map<string, unknown>
  facts: Facts
  session: HostSession
  /** Independent resources applied at once on one host. */
  concurrency: number
  flags: RunFlags
  onDone?: (id: string, o: Outcome) => void
  onProgress?: (id: string, bytes: number, total?: number) => void
}

/** Apply mode: runs resources in dependency order, independent ones concurrently, each verified. */
export async function applyAll(ctx: ApplyContext): Promise<Map<string, Outcome>> {
  const out = new Map<string, Outcome>()
  let remaining = [...ctx.graph.order]
  const running = new Map<string, Promise<void>>()
  /** Why nothing more starts on this host: an interruption, or a reboot it needs first. */
  let aborted: string | false = false
  const ready = (id: string): boolean => (ctx.graph.preds.get(id) ?? []).every((e) => out.has(e.from))
  const finish = (id: string, o: Outcome): void => {
    if (hasCode(o.error, 'E_ABORTED')) aborted = 'run interrupted'
    // The host must restart first: nothing more runs on it in this run.
    if (hasCode(o.error, 'E_REBOOT_REQUIRED')) aborted = 'reboot required'
    out.set(id, o)
    ctx.onDone?.(id, o)
  }
  const launch = (id: string, p: Promise<Outcome>): void => {
    running.set(
      id,
      p.then((o) => {
        running.delete(id)
        finish(id, o)
      }),
    )
  }
  /** Handed back by a wave to run on their own: they start as slots free up. */
  const queued: [string, () => Promise<Outcome>][] = []
  const start = (id: string, run: () => Promise<Outcome>): void => {
    queued.push([id, run])
  }
  let waves = 0
  while (remaining.length > 0 || running.size > 0 || queued.length > 0) {
    while (queued.length > 0 && running.size < ctx.concurrency) {
      const [id, run] = queued.shift() as [string, () => Promise<Outcome>]
      if (aborted) finish(id, { status: 'skipped', changes: [skipped(aborted)], ms: 0 })
      else launch(id, run())
    }
    // Many independent resources ready at once: one wave, whose small steps share one exec (wave.ts).
    if (!aborted && running.size < ctx.concurrency && ctx.session.dialect.name === 'posix') {
      const now = remaining.filter(ready)
      if (now.length >= 2) {
        const taken = new Set(now)
        remaining = remaining.filter((id) => !taken.has(id))
        const key = `wave ${++waves}`
        running.set(
          key,
          runWave(ctx, now, out, { finish, start, runOne: (id) => runOne(ctx, id, out), convergeOne: (n, c, ch, t) => convergeOne(ctx, n, c, ch, [], t) }).then(() => {
            running.delete(key)
          }),
        )
        // What the wave settles at once (unchanged resources) readies the next wave: wait for it
        // rather than start those one by one.
        await Promise.race(running.values())
        continue
      }
    }
    for (let i = 0; i < remaining.length && running.size < ctx.concurrency; ) {
      const id = remaining[i] as string
      if (!ready(id)) {
        i++
        continue
      }
      remaining.splice(i, 1)
      if (aborted) {
        out.set(id, { status: 'skipped', changes: [skipped(aborted)], ms: 0 })
        continue
      }
      launch(id, runOne(ctx, id, out))
    }
    if (running.size === 0 && queued.length === 0 && remaining.length > 0) throw new Error('scheduler stalled: a dependency never completed')
    if (running.size > 0) await Promise.race(running.values())
  }
  return out
}

async function runOne(ctx: ApplyContext, id: string, out: Map<string, Outcome>): Promise<Outcome> {
  const t0 = performance.now()
  const node = ctx.nodes.get(id) as PlanNode
  const edges = ctx.graph.preds.get(id) ?? []
  const get = (x: string): Outcome | undefined => out.get(x)
  const ms = (): number => Math.round(performance.now() - t0)
  const broken = brokenPred(edges, get)
  if (broken) return { status: 'skipped', changes: [skipped(`${broken} failed`)], ms: 0 }
  let changes: Change[] = []
  try {
    if (node.handler) {
      const by = notifiedBy(node, ctx.graph, get).changed
      if (by.length === 0) return { status: 'unchanged', changes: [], ms: ms() }
      changes = [notifiedChange(node, by)]
      for (const step of node.kind.apply(node.desired, undefined, changes, ctx.facts)) await ctx.session.run(step, node.become)
      return { status: 'changed', changes, ms: ms() }
    }
    let current = ctx.currents.get(id)
    // A predecessor that changed may have changed what this resource would see: look again.
    if (edges.some((e) => e.defers && get(e.from)?.status === 'changed')) current = await reprobe(ctx, node)
    changes = node.kind.diff(node.desired, current)
    const by = notifiedBy(node, ctx.graph, get).changed
    if (changes.length === 0 && by.length === 0) return { status: 'unchanged', changes, ms: ms() }
    return await convergeOne(ctx, node, current, changes, by, t0)
  } catch (e) {
    return { status: 'failed', changes, error: toStatecraftError(e), ms: ms() }
  }
}

/** Applies `changes` (already diffed), verifies, then acts on notifications. */
export async function convergeOne(ctx: ApplyContext, node: PlanNode, current: unknown, changes: Change[], by: string[], t0: number): Promise<Outcome> {
  const id = node.id
  const ms = (): number => Math.round(performance.now() - t0)
  try {
    const details: Record<string, number | string> = {}
    const run = async (list: Change[]): Promise<void> => {
      for (const step of node.kind.apply(node.desired, current, list, ctx.facts)) {
        if (ctx.onProgress) step.progress = (b, t) => ctx.onProgress?.(id, b, t)
        const r = await ctx.session.run(step, node.become)
        Object.assign(details, step.details?.(r.stdout) ?? {})
      }
    }
    if (changes.length > 0) {
      await run(changes)
      current = await reprobe(ctx, node)
      const after = node.kind.diff(node.desired, current)
      if (after.length > 0) {
        throw new VerifyError(
          `${id}: applied, but the host still differs from the desired state: ${after.map((c) => c.text).join('; ')}`,
        )
      }
    }
    // Converged first, then notified (a service restarts with its new config); an action, so not verified.
    const all = withNotified(node, changes, by)
    if (all.length > changes.length) {
      const notified = all.slice(changes.length)
      changes = all
      await run(notified)
    }
    return { status: 'changed', changes, ms: ms(), ...(Object.keys(details).length ? { details } : {}) }
  } catch (e) {
    return { status: 'failed', changes, error: toStatecraftError(e), ms: ms() }
  }
}

export async function reprobe(ctx: ApplyContext, node: PlanNode): Promise<unknown> {
  // Verification always reads again in full: a stamp is only written after a complete check.
  const [data] = await ctx.session.probe([node.kind.probe(node.desired, ctx.facts, ctx.flags)], node.become, [node.id])
  return node.kind.parse(data as Map<string, string>, node.desired)
}
