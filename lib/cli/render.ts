import type { HostReport, Report, ResourceReport } from '../engine/report.ts'

export interface RenderOptions {
  color: boolean
  verbose: boolean
  /** The recipe's name, shown on each host line. */
  recipe?: string
  /** Unified diff of a content change; given only with --diff (the diff library loads lazily). */
  patch?: (path: string, before: string, after: string) => string
}

const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const
type Paint = (c: keyof typeof CODES, s: string) => string

const SIGN: Record<ResourceReport['status'], [string, keyof typeof CODES]> = {
  changed: ['~', 'yellow'],
  unchanged: ['=', 'dim'],
  pending: ['?', 'cyan'],
  failed: ['!', 'red'],
  skipped: ['-', 'red'],
}

export function renderResource(r: ResourceReport, mode: Report['mode'], o: RenderOptions, paint: Paint): string[] {
  if (r.status === 'unchanged' && !o.verbose) return []
  const [sign, colour] = SIGN[r.status]
  const verb = r.status === 'changed' && mode === 'plan' ? 'will change' : r.status
  const lines = [`  ${paint(colour, sign)} ${r.id} ${paint('dim', `(${verb}${mode === 'apply' ? `, ${r.ms} ms` : ''})`)}`]
  for (const c of r.changes) lines.push(`      ${c}`)
  if (r.details?.bytes !== undefined) {
    const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`
    lines.push(`      ${paint('dim', `transferred ${mb(Number(r.details.bytes))} in ${r.details.seconds}s (${mb(Number(r.details.bytesPerSecond))}/s)`)}`)
  }
  if (r.details?.attempts !== undefined) {
    const n = Number(r.details.attempts)
    lines.push(`      ${paint('dim', `answered after ${r.details.waitedSeconds}s (${n} attempt${n === 1 ? '' : 's'})`)}`)
  }
  if (r.error) lines.push(`      ${paint('red', `${r.error.code}: ${r.error.message}`)}`)
  if (o.patch) {
    for (const d of r.diffs ?? []) {
      for (const l of o.patch(d.path, d.before, d.after).split('\n').slice(2)) {
        if (l === '') continue
        const c = l.startsWith('+') ? 'green' : l.startsWith('-') ? 'red' : 'dim'
        lines.push(`      ${paint(c, l)}`)
      }
    }
  }
  return lines
}

export function renderHost(h: HostReport, mode: Report['mode'], o: RenderOptions): string {
  const paint = painter(o.color)
  const s = h.summary
  // A plan with changes is not "ok" in green: it is what --plan exits 2 for.
  const pending = h.status === 'ok' && mode === 'plan' && s.changed + s.pending > 0
  const state = pending ? paint('yellow', 'changes pending') : h.status === 'ok' ? paint('green', 'ok') : h.status === 'reboot-required' ? paint('yellow', 'REBOOT REQUIRED') : paint('red', 'FAILED')
  const head = `${paint('bold', h.host)}: ${state} ${paint('dim', `(${o.recipe ? `recipe ${o.recipe}, ` : ''}${h.ms} ms, ${h.roundTrips} round trips)`)}`
  const lines = [head]
  for (const [i, b] of h.reboots.entries()) lines.push(`  ${paint('cyan', `restarted ${i + 1}/${h.reboots.length} at ${b.at}, back after ${(b.ms / 1000).toFixed(1)}s`)}`)
  if (h.error) lines.push(`  ${paint('red', `${h.error.code}: ${h.error.message}`)}`)
  for (const w of h.warnings) lines.push(`  ${paint('yellow', `warning: ${w}`)}`)
  for (const r of h.resources) lines.push(...renderResource(r, mode, o, paint))
  const changedWord = mode === 'plan' ? 'to change' : 'changed'
  lines.push(`  ${s.changed} ${changedWord}, ${s.unchanged} unchanged, ${s.pending} pending, ${s.failed} failed, ${s.skipped} skipped`)
  return lines.join('\n')
}

export function renderSummary(r: Report, o: RenderOptions): string {
  const paint = painter(o.color)
  const s = r.summary
  const verdict = !r.ok ? paint('red', 'failed') : r.mode === 'plan' ? (s.changed + s.pending > 0 ? paint('yellow', 'changes pending') : paint('green', 'nothing to do')) : paint('green', 'converged')
  const waiting = r.hosts.filter((h) => h.status === 'reboot-required').length
  const failed = waiting > 0 ? `${s.failedHosts} failed, ${waiting} of them reboot required` : `${s.failedHosts} failed`
  return `${r.mode === 'plan' ? 'Plan' : 'Apply'}: ${verdict} — ${s.hosts} host${s.hosts === 1 ? '' : 's'} (${failed}), ${s.changed} ${r.mode === 'plan' ? 'to change' : 'changed'}, ${s.unchanged} unchanged, ${s.pending} pending, ${s.failed} failed, ${s.skipped} skipped`
}

function painter(color: boolean): Paint {
  return (c, s) => (color ? `\x1b[${CODES[c]}m${s}\x1b[0m` : s)
}
