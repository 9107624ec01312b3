import { describe, expect, it } from 'vitest'
import { renderHost } from '../../lib/cli/render.ts'
import type { HostReport } from '../../lib/engine/report.ts'

const host = (warnings: string[]): HostReport => ({
  host: 'box', ok: true, warnings, rebootRequired: false, connections: 1, roundTrips: 3, ms: 12, resources: [],
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
    const h: HostReport = { ...host([]), ok: false, rebootRequired: true, error: { code: 'E_REBOOT_REQUIRED', message: 'restart it' } }
    expect(renderHost(h, 'apply', { color: false, verbose: false }).split('\n')[0]).toMatch(/^box: REBOOT REQUIRED /)
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
