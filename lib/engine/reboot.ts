import { setTimeout as sleep } from 'node:timers/promises'
import { AbortedError, RebootError, toStatecraftError, TransportError } from '../core/errors.ts'
import { parseKv } from '../shell/protocol.ts'
import { DIALECTS } from '../shell/dialect.ts'
import { LocalTransport } from '../transport/local.ts'
import type { Transport } from '../transport/types.ts'
import { runHost, type Handover, type HostRunOptions } from './host.ts'
import { hostStatus, summarise, type HostReport, type RebootRecord, type ResourceReport } from './report.ts'

/** `--reboot`: how long a restarted host may take to answer again, and how often a run restarts it. */
export interface RebootPolicy {
  /** Seconds from the restart until SSH answers with a new boot id (default 600). */
  timeout: number
  /** Restarts per host per run: a resource that asks every time cannot loop forever (default 3). */
  max: number
}

export const DEFAULT_REBOOT: RebootPolicy = { timeout: 600, max: 3 }

/**
 * runHost, and with a policy: when the host's apply stops as reboot required, restart it, wait
 * for it, and run it again from the facts (a fresh probe and plan), keeping the lock throughout.
 */
export async function runHostRebooting(o: HostRunOptions, policy?: RebootPolicy): Promise<HostReport> {
  if (!policy || o.mode !== 'apply') return runHost(o)
  // Never the controller itself: the run (and whoever started it) would go down with it.
  if (o.transport instanceof LocalTransport) {
    const r = await runHost(o)
    return r.rebootRequired ? withError(r, 'E_REBOOT_REQUIRED', `${r.error?.message ?? 'reboot required'}. --reboot does not restart the machine statecraft runs on (connection: local): restart it yourself`) : r
  }
  const t0 = performance.now()
  const reboots: RebootRecord[] = []
  const passes: HostReport[] = []
  let resumeLock: string | undefined
  for (;;) {
    let handover: Handover | undefined
    const canReboot = reboots.length < policy.max
    const until = new Date(Date.now() + policy.timeout * 1000)
    let r = await runHost({
      ...o,
      ...(resumeLock ? { resumeLock } : {}),
      ...(canReboot ? { reboot: { until, onHandover: (h: Handover) => (handover = h) } } : {}),
    })
    if (r.rebootRequired && !canReboot) {
      r = withError(r, 'E_REBOOT_REQUIRED', `${r.error?.message ?? 'reboot required'}. It asked again after ${reboots.length} restarts in this run (the most --reboot makes); check what keeps asking`)
    }
    passes.push(r)
    const h = handover as Handover | undefined
    if (!h) return combine(passes, reboots, t0)
    try {
      const toBootId = await waitForBoot(o.transport, h, o.name, policy.timeout * 1000, o.signal)
      reboots.push({ at: h.at.toISOString(), ms: Date.now() - h.at.getTime(), fromBootId: h.bootId, toBootId })
      o.log?.(`${o.name}: back after the restart (boot id ${toBootId}); running it again`)
      resumeLock = h.lock
    } catch (e) {
      const err = toStatecraftError(e)
      passes[passes.length - 1] = withError(r, err.code, err.message)
      return combine(passes, reboots, t0)
    }
  }
}

/**
 * Polls the host until it answers with a boot id other than the one before the restart. Every
 * failed try drops the connection, so the next one connects afresh.
 */
export async function waitForBoot(transport: Transport, h: Handover, host: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  const dialect = DIALECTS[h.dialect]
  const deadline = h.at.getTime() + timeoutMs
  let last = 'no answer yet'
  while (Date.now() < deadline) {
    if (signal?.aborted) throw new AbortedError()
    const x = dialect.script(dialect.bootId)
    // Bounded by a timer of its own too: on a connection that died silently (the host vanished
    // without closing it) even a killed command may never report back. The abandoned try ends
    // when the connection is closed below.
    let timer: NodeJS.Timeout | undefined
    const silent = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TransportError('the boot id query did not answer within 20s')), 20_000)))
    try {
      const pending = transport.exec(x.command, { raw: x.raw, timeout: 15_000, ...(x.stdin !== undefined ? { stdin: x.stdin } : {}), ...(signal ? { signal } : {}) })
      pending.catch(() => undefined)
      const r = await Promise.race([pending, silent])
      const id = parseKv(r.stdout).get('bootid')
      if (r.code === 0 && id && id !== 'unknown' && id !== h.bootId) return id
      last = r.code === 0 ? `it still answered with the old boot id ${h.bootId}` : `the boot id query exited with ${r.code ?? r.signal}`
    } catch (e) {
      if (signal?.aborted) throw new AbortedError()
      last = toStatecraftError(e).message
    } finally {
      clearTimeout(timer)
    }
    // The next try connects afresh: the old connection may be half dead, going down with the host.
    await transport.close()
    await sleep(Math.min(2000, Math.max(0, deadline - Date.now())))
  }
  throw new RebootError(
    `host ${host}: restarted at ${h.at.toISOString()} and not back with a new boot id within ${timeoutMs / 1000}s (last: ${last}). ` +
      "Check the host's console or power state and that sshd starts at boot, then run again (raise rebootTimeout for slow hosts)",
  )
}

function withError(r: HostReport, code: string, message: string): HostReport {
  return { ...r, ok: false, status: hostStatus(false, code === 'E_REBOOT_REQUIRED'), rebootRequired: code === 'E_REBOOT_REQUIRED', error: { code, message } }
}

/**
 * One report for the host across its passes: the last pass's, where a resource the last pass found
 * converged shows what an earlier pass changed (with the restart that followed), so the run's
 * report lists every change it made once.
 */
function combine(passes: HostReport[], reboots: RebootRecord[], t0: number): HostReport {
  const last = passes[passes.length - 1] as HostReport
  const resources = last.resources.map((r) => {
    if (r.status !== 'unchanged') return r
    const earlier = passes.slice(0, -1).map((p, i) => [p.resources.find((x) => x.id === r.id), i] as const).filter(([x]) => x && (x.status === 'changed' || x.error?.code === 'E_REBOOT_REQUIRED'))
    if (earlier.length === 0) return r
    const changes = earlier.flatMap(([x, i]) => [...(x as ResourceReport).changes, ...(i < reboots.length ? [`then restarted the host (restart ${i + 1})`] : [])])
    return { ...r, status: 'changed' as const, changes, ms: r.ms + earlier.reduce((a, [x]) => a + (x as ResourceReport).ms, 0) }
  })
  const warnings = [...new Set(passes.flatMap((p) => p.warnings))]
  return { ...last, warnings, reboots, resources, summary: summarise(resources), ms: Math.round(performance.now() - t0) }
}
