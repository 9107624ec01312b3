import { describe, expect, it } from 'vitest'
import { renderHost, renderSummary } from '../../lib/cli/render.ts'
import { fleetReport, type HostReport } from '../../lib/engine/report.ts'

const host = (warnings: string[]): HostReport => ({
  host: 'box', ok: true, status: 'ok', warnings, rebootRequired: false, reboots: [], connections: 1, roundTrips: 3, ms: 12, resources: [],
  summary: { changed: 0, unchanged: 0, pending: 0, failed: 0, skipped: 0 },
})

describe('host rendering', () => {
  it('shows each warning under the host line, and nothing when there are none', () => {
    const out = renderHost(host(['taking over the lock of a run that is gone (pid 7 on c)']), 'apply', { color: false, verbose: false })
    expect(out.split('\n')[1]).toBe('  warning: taking over the lock of a run that is gone (pid 7 on c)')
    expect(renderHost(host([]), 'apply', { color: false, verbose: false })).not.toMatch(/warning/)
  })
})

describe('a host that needs a restart', () => {
  it('says so instead of FAILED', () => {
    const h: HostReport = { ...host([]), ok: false, status: 'reboot-required', rebootRequired: true, error: { code: 'E_REBOOT_REQUIRED', message: 'restart it' } }
    expect(renderHost(h, 'apply', { color: false, verbose: false }).split('\n')[0]).toMatch(/^box: REBOOT REQUIRED /)
    const failed: HostReport = { ...h, status: 'failed', rebootRequired: false, error: { code: 'E_REBOOT', message: 'not back' } }
    expect(renderHost(failed, 'apply', { color: false, verbose: false }).split('\n')[0]).toMatch(/^box: FAILED /)
  })

  it('lists the restarts a --reboot run made, and the summary counts the hosts that wait for one', () => {
    const rebooted: HostReport = { ...host([]), reboots: [{ at: '2026-12-07T01:00:00.000Z', ms: 8400, fromBootId: 'a', toBootId: 'b' }] }
    expect(renderHost(rebooted, 'apply', { color: false, verbose: false }).split('\n')[1]).toBe('  restarted 1/1 at 2026-12-07T01:00:00.000Z, back after 8.4s')
    const waiting: HostReport = { ...host([]), host: 'w', ok: false, status: 'reboot-required', rebootRequired: true }
    const report = fleetReport('apply', [rebooted, waiting])
    expect(renderSummary(report, { color: false, verbose: false })).toMatch(/^Apply: failed — 2 hosts \(1 failed, 1 of them reboot required\)/)
    expect(renderSummary(fleetReport('apply', [rebooted]), { color: false, verbose: false })).toMatch(/\(0 failed\)/)
  })
})


describe('a wait (httpCheck)', () => {
  it('says how long it took and in how many attempts', () => {
    const h: HostReport = {
      ...host([]),
      resources: [{ id: 'httpCheck:http://127.0.0.1:9090/', type: 'httpCheck', status: 'changed', changes: ['wait for http://127.0.0.1:9090/ to answer 200 (up to 300 s; now: HTTP 503)'], ms: 95_300, details: { attempts: 23, waitedSeconds: 95.2 } }],
    }
    expect(renderHost(h, 'apply', { color: false, verbose: false }).split('\n').slice(1, 4)).toEqual([
      '  ~ httpCheck:http://127.0.0.1:9090/ (changed, 95300 ms)',
      '      wait for http://127.0.0.1:9090/ to answer 200 (up to 300 s; now: HTTP 503)',
      '      answered after 95.2s (23 attempts)',
    ])
  })
})
