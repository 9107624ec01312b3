import { BecomeError, hasCode, RebootRequiredError, toStatecraftError, ValidationError, type StatecraftError } from '../core/errors.ts'
import { composeResources } from '../core/compose.ts'
import { declaredFacts } from '../core/declared-facts.ts'
import { resolveOptions, secretValues, type Recipe } from '../core/recipe.ts'
import type { Change, Dialect, Facts, OsName } from '../core/types.ts'
import type { Transport } from '../transport/types.ts'
import { applyAll } from './apply.ts'
import type { Outcome } from './decide.ts'
import { buildGraph } from './graph.ts'
import { graphNode, prepare, select, type PlanNode } from './node.ts'
import { planAll } from './plan.ts'
import { hostStatus, redact, summarise, type ContentDiff, type HostReport, type ResourceReport } from './report.ts'
import { HostSession, type BecomeSettings, type Log } from './session.ts'

export interface HostRunOptions {
  mode: 'plan' | 'apply'
  recipe: Recipe<any>
  name: string
  transport: Transport
  vars: Record<string, unknown>
  groupVars: Record<string, unknown>[]
  set: Record<string, unknown>
  env: Record<string, string | undefined>
  only: string[]
  skip: string[]
  diff: boolean
  lockPath: string
  resourceConcurrency: number
  verifyArtifacts: boolean
  /** Privileges for resources with become (host default: `become.default`). */
  become?: BecomeSettings & { default: boolean }
  signal?: AbortSignal
  osHint?: OsName
  /** Seconds the batched probe may take. */
  probeTimeout?: number
  log?: Log
  onResource?: (host: string, r: ResourceReport) => void
  onProgress?: (host: string, id: string, bytes: number, total?: number) => void
  /** Asks for the sudo password, once per host and only when sudo needs one ('' for none). */
  askBecomePassword?: (host: string, user: string) => Promise<string>
  /**
   * Restart the host when its apply stops as reboot required (plans never do): the lock is marked
   * to be back by `until`, the restart is started, and `onHandover` gets what the next pass needs.
   */
  reboot?: { until: Date; onHandover: (h: Handover) => void }
  /** The lock text this run marked before it restarted the host: the next pass takes it back. */
  resumeLock?: string
}

/** What a pass that restarted the host leaves to the next one (reboot.ts waits, then runs it). */
export interface Handover {
  lock: string
  bootId: string
  dialect: Dialect
  at: Date
}

/** facts+lock -> prepare -> one batched probe -> plan or apply -> unlock. Never throws. */
export async function runHost(o: HostRunOptions): Promise<HostReport> {
  const t0 = performance.now()
  const secrets: string[] = o.become?.password ? [o.become.password] : []
  // Verbose lines show commands, whose arguments may carry secrets: redact with what is known by then.
  const log = o.log ? (line: string): void => o.log?.(redact(line, secrets)) : undefined
  const session = new HostSession({ host: o.name, transport: o.transport, lockPath: o.lockPath, ...(o.probeTimeout ? { probeTimeout: o.probeTimeout * 1000 } : {}), ...(o.signal ? { signal: o.signal } : {}), ...(log ? { log } : {}), ...(o.osHint ? { osHint: o.osHint } : {}) })
  // The same list, growing as secrets become known: errors are redacted before they are cut short.
  session.secrets = secrets
  let resources: ResourceReport[] = []
  let error: StatecraftError | undefined
  let started: Facts | undefined
  try {
    const facts = await session.start(declaredFacts(o.recipe), { sudo: o.become !== undefined, ...(o.resumeLock ? { resume: o.resumeLock } : {}) })
    started = facts
    const options = resolveOptions(o.recipe, { groupVars: o.groupVars, hostVars: o.vars, set: o.set, env: o.env }, o.name)
    secrets.push(...secretValues(o.recipe, options))
    const decls = composeResources(o.recipe, { facts, options, host: { name: o.name, vars: o.vars } })
    const nodes = select(prepare(decls, facts, o.become?.default ?? false, secrets), o.only, o.skip)
    const needsBecome = nodes.some((n) => n.become)
    const becomeUser = o.become?.user ?? 'root'
    if (needsBecome && facts.dialect === 'powershell') {
      throw new BecomeError(`host ${o.name}: become (sudo) is not available on Windows hosts; connect as a user with the rights the resources need`)
    }
    // Already that user (root logging in as root): nothing to escalate, and sudo may not exist.
    if (needsBecome && !(becomeUser === 'root' ? facts.uid === 0 : facts.user === becomeUser)) {
      session.become = await becomeFor(o, facts)
      if (session.become.password !== undefined) secrets.push(session.become.password)
    }
    for (const n of nodes) secrets.push(...(n.kind.secrets?.(n.desired) ?? []))
    const byId = new Map(nodes.map((n) => [n.id, n]))
    const graph = buildGraph(nodes.map(graphNode))
    for (const n of nodes) {
      for (const h of n.notify) {
        const target = byId.get(h)
        if (target && !target.kind.notified) {
          throw new ValidationError(`resource '${n.id}': notify names '${h}', which is not a handler and cannot be notified (a ${target.kind.type} has no notified change); notify a command with onlyIfNotified: true, or a resource whose type can be notified`)
        }
      }
    }
    // A Windows host that waits for a restart: installers would fail or half-install. Plans still run.
    if (o.mode === 'apply' && facts.dialect === 'powershell' && facts.rebootPending) {
      throw new RebootRequiredError(`host ${o.name}: Windows has a restart pending (an update or an earlier install); restart it, then run again: nothing was changed`)
    }
    // A step of an earlier run asked for a restart that has not happened: what it staged is not done yet.
    if (o.mode === 'apply' && session.pendingReboot) {
      throw new RebootRequiredError(`host ${o.name}: a restart is still pending on this boot (${session.pendingReboot}); restart it, then run again, or run with --reboot: nothing was changed`)
    }
    const probed = nodes.filter((n) => !n.handler)
    // One batch: under sudo when any resource needs it, so a no-op still costs one probe exec.
    const flags = { verifyArtifacts: o.verifyArtifacts }
    const data = await session.probe(probed.map((n) => n.kind.probe(n.desired, facts, flags)), probed.some((n) => n.become), probed.map((n) => n.id))
    const currents = new Map<string, unknown>(probed.map((n, i) => [n.id, n.kind.parse(data[i] as Map<string, string>, n.desired)]))
    for (const n of probed) for (const w of n.kind.warnings?.(n.desired, currents.get(n.id)) ?? []) session.warnings.push(`${n.id}: ${w}`)
    // Before the first change: the password for steps that run sudo themselves, if any may run.
    const mayAskpass = (n: PlanNode): boolean =>
      !n.become && n.kind.askpass?.(n.desired) === true && (n.handler || (graph.preds.get(n.id) ?? []).some((e) => e.defers) || n.kind.diff(n.desired, currents.get(n.id)).length > 0)
    if (o.mode === 'apply' && o.become && facts.dialect === 'posix' && nodes.some(mayAskpass)) await askpassFor(o, facts, session, secrets)
    const outcomes =
      o.mode === 'plan'
        ? planAll(byId, graph, currents, facts)
        : await applyAll({
            nodes: byId,
            graph,
            currents,
            facts,
            session,
            concurrency: o.resourceConcurrency,
            flags,
            ...(o.onProgress ? { onProgress: (id: string, b: number, t?: number) => o.onProgress?.(o.name, id, b, t) } : {}),
            onDone: (id, out) => o.onResource?.(o.name, redact(toReport(byId.get(id) as PlanNode, out, o.diff), secrets)),
          })
    resources = nodes.map((n) => toReport(n, outcomes.get(n.id) as Outcome, o.diff))
    const aborted = [...outcomes.values()].find((x) => hasCode(x.error, 'E_ABORTED') || hasCode(x.error, 'E_REBOOT_REQUIRED'))
    if (aborted) error = toStatecraftError(aborted.error)
  } catch (e) {
    error = toStatecraftError(e)
  } finally {
    if (o.reboot && o.mode === 'apply' && started && error?.code === 'E_REBOOT_REQUIRED') {
      try {
        o.reboot.onHandover(await handOver(o, session, started, o.reboot.until))
      } catch (e) {
        // Still waiting for a restart; the message says why statecraft could not make it.
        error = new RebootRequiredError(`${error.message}. statecraft could not restart it: ${toStatecraftError(e).message}`)
      }
    }
    try {
      await session.release()
    } catch (e) {
      error ??= toStatecraftError(e)
    }
  }
  const summary = summarise(resources)
  const ok = !error && summary.failed === 0 && summary.skipped === 0
  const rebootRequired = error?.code === 'E_REBOOT_REQUIRED'
  const report: HostReport = {
    host: o.name,
    ok,
    status: hostStatus(ok, rebootRequired),
    ...(error ? { error: { code: error.code, message: error.message } } : {}),
    warnings: session.warnings,
    rebootRequired,
    reboots: [],
    connections: o.transport.stats.connections,
    roundTrips: o.transport.stats.roundTrips,
    ms: Math.round(performance.now() - t0),
    resources,
    summary,
  }
  return redact(report, secrets)
}

function toReport(n: PlanNode, out: Outcome, withDiff: boolean): ResourceReport {
  const r: ResourceReport = { id: n.id, type: n.kind.type, status: out.status, changes: out.changes.map((c) => c.text), ms: out.ms }
  if (out.details) r.details = out.details
  if (out.error) {
    const e = toStatecraftError(out.error)
    r.error = { code: e.code, message: e.message }
  }
  if (withDiff) {
    const diffs = out.changes.filter((c): c is Change & ContentDiff => c.path !== undefined && c.before !== undefined && c.after !== undefined)
    if (diffs.length > 0) r.diffs = diffs.map((c) => ({ path: c.path, before: c.before, after: c.after }))
  }
  return r
}

/**
 * Keeps the lock across a restart and starts it, as root: the login user when it is root (or on
 * Windows), else through become, which the inventory must allow.
 */
async function handOver(o: HostRunOptions, session: HostSession, facts: Facts, until: Date): Promise<Handover> {
  const posix = facts.dialect !== 'powershell'
  const asRoot = posix && facts.uid !== 0
  if (asRoot && !session.become) {
    if (!o.become) throw new BecomeError(`the login user ${facts.user} is not root and the host has no become: give it become in the inventory (sudo), or restart it yourself and run again`)
    session.become = await becomeFor({ ...o, become: { ...o.become, user: 'root' } }, facts)
  }
  if (asRoot && session.become?.user !== 'root') throw new BecomeError(`a restart needs root, and this host's become user is ${session.become?.user}; restart it yourself and run again`)
  const lock = await session.markForReboot(until)
  const at = new Date()
  await session.reboot(asRoot)
  return { lock, bootId: facts.bootId, dialect: facts.dialect, at }
}

/**
 * How this run becomes the target user, decided before anything changes from the first exec's
 * `sudo -n true`: no sudo is an error; sudo without a password needs none; otherwise the password
 * from the inventory's variable, else asked once (on a terminal), else the error with the fix.
 */
async function becomeFor(o: HostRunOptions, facts: Facts): Promise<BecomeSettings> {
  const user = o.become?.user ?? 'root'
  if (facts.sudo === 'missing') throw new BecomeError(`host ${o.name}: become needs sudo, which is not installed there`)
  if (facts.sudo === 'nopasswd') return { user, source: 'sudo without a password' }
  let password = o.become?.password
  if (password === undefined && o.askBecomePassword) {
    const answer = await o.askBecomePassword(o.name, facts.user)
    if (answer !== '') password = answer
  }
  if (password === undefined && facts.sudo === 'password') {
    throw new BecomeError(`host ${o.name}: sudo asks for a password and none is configured: set becomePasswordEnv in the inventory to the name of an environment variable that holds it`)
  }
  const source = o.become?.password !== undefined ? (o.become?.source ?? 'the caller') : 'the terminal'
  return { user, source, ...(password !== undefined ? { password } : {}) }
}

/**
 * The become password for steps that call `sudo -A` themselves (Step.askpass), settled before the
 * first change and checked with one `sudo true`. Nothing when sudo needs none or is missing, or
 * when no password is configured or typed: those steps then fail with what their sudo said.
 */
async function askpassFor(o: HostRunOptions, facts: Facts, session: HostSession, secrets: string[]): Promise<void> {
  if (facts.sudo !== 'password' || session.become?.password !== undefined) return
  let password = o.become?.password
  if (password === undefined && o.askBecomePassword) {
    const answer = await o.askBecomePassword(o.name, facts.user)
    if (answer !== '') password = answer
  }
  if (password === undefined) return
  secrets.push(password)
  const source = o.become?.password !== undefined ? (o.become?.source ?? 'the caller') : 'the terminal'
  session.become = { user: session.become?.user ?? o.become?.user ?? 'root', source, password }
  await session.checkBecome()
}
