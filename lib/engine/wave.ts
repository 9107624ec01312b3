import { CommandError, toStatecraftError, VerifyError } from '../core/errors.ts'
import type { Change } from '../core/types.ts'
import { batchMember, type BatchMember } from '../shell/posix/apply-batch.ts'
import type { ApplyContext } from './apply.ts'
import { brokenPred, notifiedBy, type Outcome } from './decide.ts'
import type { PlanNode } from './node.ts'
import { tail } from './output.ts'
import { redact } from './report.ts'

/**
 * A wave: resources that became ready together, so none depends on another. Those whose steps
 * are small (Step.quick, small atomic writes) are applied in one exec and verified in one batched
 * probe, per privilege level; the rest (downloads, installers, handlers, notified ones) run on
 * their own as before, each with its own slot, so a long download never holds up the others.
 */
export interface WaveHooks {
  finish(id: string, o: Outcome): void
  /** Runs one resource on its own, in a slot of the scheduler, once this wave's batch is done. */
  start(id: string, run: () => Promise<Outcome>): void
  runOne(id: string): Promise<Outcome>
  convergeOne(node: PlanNode, current: unknown, changes: Change[], t0: number): Promise<Outcome>
}

interface Item {
  node: PlanNode
  current: unknown
  changes: Change[]
  member: BatchMember
}

function byBecome<T>(list: T[], become: (t: T) => boolean): [boolean, T[]][] {
  return ([false, true] as const).map((b): [boolean, T[]] => [b, list.filter((t) => become(t) === b)]).filter(([, l]) => l.length > 0)
}

async function probeAll(ctx: ApplyContext, nodes: PlanNode[], become: boolean): Promise<unknown[]> {
  const data = await ctx.session.probe(nodes.map((n) => n.kind.probe(n.desired, ctx.facts, ctx.flags)), become, nodes.map((n) => n.id))
  return nodes.map((n, i) => n.kind.parse(data[i] as Map<string, string>, n.desired))
}

export async function runWave(ctx: ApplyContext, ids: string[], out: Map<string, Outcome>, hooks: WaveHooks): Promise<void> {
  const t0 = performance.now()
  const ms = (): number => Math.round(performance.now() - t0)
  const failed = (n: PlanNode, e: unknown, changes: Change[] = []): void => hooks.finish(n.id, { status: 'failed', changes, error: toStatecraftError(e), ms: ms() })
  const get = (x: string): Outcome | undefined => out.get(x)
  const mine: PlanNode[] = []
  const alone: [string, () => Promise<Outcome>][] = []
  const again: PlanNode[] = []
  for (const id of ids) {
    const node = ctx.nodes.get(id) as PlanNode
    const edges = ctx.graph.preds.get(id) ?? []
    if (node.handler || brokenPred(edges, get) || notifiedBy(node, ctx.graph, get).changed.length > 0) {
      alone.push([id, () => hooks.runOne(id)])
      continue
    }
    mine.push(node)
    if (edges.some((e) => e.defers && get(e.from)?.status === 'changed')) again.push(node)
  }
  const currents = new Map<string, unknown>(mine.map((n) => [n.id, ctx.currents.get(n.id)]))
  const lost = new Set<string>()
  // A predecessor changed what these would see: all looked at again in one probe.
  for (const [become, group] of byBecome(again, (n) => n.become)) {
    try {
      const cs = await probeAll(ctx, group, become)
      group.forEach((n, i) => currents.set(n.id, cs[i]))
    } catch (e) {
      for (const n of group) {
        lost.add(n.id)
        failed(n, e)
      }
    }
  }
  const items: Item[] = []
  for (const node of mine.filter((n) => !lost.has(n.id))) {
    let changes: Change[] = []
    try {
      const current = currents.get(node.id)
      changes = node.kind.diff(node.desired, current)
      if (changes.length === 0) {
        hooks.finish(node.id, { status: 'unchanged', changes, ms: ms() })
        continue
      }
      const member = batchMember(node.kind.apply(node.desired, current, changes, ctx.facts))
      if (member) items.push({ node, current, changes, member })
      else alone.push([node.id, () => hooks.convergeOne(node, current, changes, t0)])
    } catch (e) {
      failed(node, e, changes)
    }
  }
  for (const [become, group] of byBecome(items, (i) => i.node.become)) {
    // One alone gains nothing from a batch: it runs exactly as it always did.
    if (group.length === 1) {
      const [it] = group as [Item]
      alone.push([it.node.id, () => hooks.convergeOne(it.node, it.current, it.changes, t0)])
      continue
    }
    await applyGroup(ctx, group, become, hooks, ms)
  }
  // After the batch, in declaration order: a command declared after the directories finds them.
  for (const [id, run] of alone) hooks.start(id, run)
}

async function applyGroup(ctx: ApplyContext, group: Item[], become: boolean, hooks: WaveHooks, ms: () => number): Promise<void> {
  const fail = (it: Item, e: unknown): void => hooks.finish(it.node.id, { status: 'failed', changes: it.changes, error: toStatecraftError(e), ms: ms() })
  let results
  try {
    results = await ctx.session.applyBatch(
      group.map((i) => i.member),
      become,
    )
  } catch (e) {
    for (const it of group) fail(it, e)
    return
  }
  const applied: { it: Item; stderr: string }[] = []
  group.forEach((it, i) => {
    const r = results[i]
    if (r && !r.ok && r.failed) {
      const stderr = redact(r.stderr, ctx.session.secrets)
      fail(it, new CommandError(`${r.failed.label} exited with ${r.failed.code}: ${tail(stderr) || '(no output on stderr)'}`, r.failed.code, stderr))
    } else applied.push({ it, stderr: r?.stderr ?? '' })
  })
  if (applied.length === 0) return
  let after: unknown[]
  try {
    after = await probeAll(
      ctx,
      applied.map((a) => a.it.node),
      become,
    )
  } catch (e) {
    for (const a of applied) fail(a.it, e)
    return
  }
  applied.forEach(({ it, stderr }, i) => {
    const left = it.node.kind.diff(it.node.desired, after[i])
    if (left.length === 0) {
      hooks.finish(it.node.id, { status: 'changed', changes: it.changes, ms: ms() })
      return
    }
    const said = stderr ? ` (the batched write said: ${tail(redact(stderr, ctx.session.secrets))})` : ''
    fail(it, new VerifyError(`${it.node.id}: applied, but the host still differs from the desired state: ${left.map((c) => c.text).join('; ')}${said}`))
  })
}
