import type { HostReport, Report, ResourceReport } from '../engine/report.ts'
import { NOT_IN_SNAPSHOT } from '../engine/snapshot.ts'

/**
 * The report as JUnit XML in the dialect Jenkins' JUnit plugin and GitLab's test reports read:
 * one <testsuite> per host, one <testcase> per resource (classname `statecraft.<host>`, name the
 * resource id), its changes in <system-out>, a failed resource as <failure type="E_CODE">, a
 * skipped one as <skipped>. A host-level error (unreachable, locked, waiting for a restart, a
 * snapshot that cannot answer) is one more testcase named `(host)`, so it shows as a failure too.
 * @example
 * writeFileSync('statecraft.xml', renderJunit(report, { name: 'invokeai' }))
 */
export function renderJunit(report: Report, o: { name: string; timestamp?: Date }): string {
  const stamp = (o.timestamp ?? new Date()).toISOString().slice(0, 19)
  const suites = report.hosts.map((h) => suite(h, report.mode, stamp))
  const count = (k: 'tests' | 'failures' | 'skipped'): number => suites.reduce((n, s) => n + s[k], 0)
  const ms = report.hosts.reduce((n, h) => Math.max(n, h.ms), 0)
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${attr(`statecraft ${report.mode} ${o.name}`)}" tests="${count('tests')}" failures="${count('failures')}" errors="0" skipped="${count('skipped')}" time="${secs(ms)}">`,
    ...suites.map((s) => s.xml),
    '</testsuites>',
    '',
  ].join('\n')
}

interface Suite {
  xml: string
  tests: number
  failures: number
  skipped: number
}

function suite(h: HostReport, mode: 'plan' | 'apply', stamp: string): Suite {
  const cls = `statecraft.${h.host}`
  const cases = h.resources.map((r) => testcase(cls, r, mode))
  if (h.error) cases.push({ xml: hostCase(cls, h), failed: true, skipped: false })
  const failures = cases.filter((c) => c.failed).length
  const skipped = cases.filter((c) => c.skipped).length
  const props = [
    ['mode', mode],
    ['status', h.status],
    ['changed', String(h.summary.changed)],
    ['pending', String(h.summary.pending)],
    ['roundTrips', String(h.roundTrips)],
  ]
  const xml = [
    `  <testsuite name="${attr(h.host)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${secs(h.ms)}" timestamp="${stamp}" hostname="${attr(h.host)}">`,
    '    <properties>',
    ...props.map(([k, v]) => `      <property name="${attr(k as string)}" value="${attr(v as string)}"/>`),
    '    </properties>',
    ...cases.map((c) => c.xml),
    ...(h.warnings.length > 0 ? [`    <system-err>${text(h.warnings.join('\n'))}</system-err>`] : []),
    '  </testsuite>',
  ].join('\n')
  return { xml, tests: cases.length, failures, skipped }
}

function testcase(cls: string, r: ResourceReport, mode: 'plan' | 'apply'): { xml: string; failed: boolean; skipped: boolean } {
  const open = `    <testcase name="${attr(r.id)}" classname="${attr(cls)}" time="${secs(r.ms)}">`
  const out = `      <system-out>${text(`${r.type} ${mode === 'plan' && r.status === 'changed' ? 'will change' : r.status}${r.changes.length > 0 ? `:\n${r.changes.map((c) => `- ${c}`).join('\n')}` : ''}`)}</system-out>`
  const unknown = r.changes.find((c) => c.startsWith(NOT_IN_SNAPSHOT))
  if (r.status === 'failed' || unknown) {
    const code = r.error?.code ?? 'E_SNAPSHOT'
    const message = r.error?.message ?? unknown ?? 'failed'
    return { xml: [open, `      <failure message="${attr(message)}" type="${attr(code)}">${text(message)}</failure>`, out, '    </testcase>'].join('\n'), failed: true, skipped: false }
  }
  if (r.status === 'skipped') {
    return { xml: [open, `      <skipped message="${attr(r.changes.join('; '))}"/>`, out, '    </testcase>'].join('\n'), failed: false, skipped: true }
  }
  return { xml: [open, out, '    </testcase>'].join('\n'), failed: false, skipped: false }
}

function hostCase(cls: string, h: HostReport): string {
  const e = h.error as { code: string; message: string }
  return [
    `    <testcase name="(host)" classname="${attr(cls)}" time="${secs(h.ms)}">`,
    `      <failure message="${attr(e.message)}" type="${attr(e.code)}">${text(`${h.status}: ${e.message}`)}</failure>`,
    '    </testcase>',
  ].join('\n')
}

const secs = (ms: number): string => (ms / 1000).toFixed(3)

/** XML 1.0 cannot carry most control characters at all, not even escaped: they become U+FFFD. */
const clean = (s: string): string => s.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')

const text = (s: string): string => clean(s).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')

const attr = (s: string): string => text(s).replaceAll('"', '&quot;').replaceAll('\n', '&#10;').replaceAll('\r', '&#13;').replaceAll('\t', '&#9;')
