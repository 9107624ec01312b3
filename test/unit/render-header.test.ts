import { describe, expect, it } from 'vitest'
import { renderHost } from '../../lib/cli/render.ts'
import type { HostReport } from '../../lib/engine/report.ts'

const host = (changed: number, pending = 0): HostReport => ({
  host: 'local', ok: true, status: 'ok', reboots: [], warnings: [], rebootRequired: false, connections: 1, roundTrips: 3, ms: 12, resources: [],
  summary: { changed, unchanged: 1, pending, failed: 0, skipped: 0 },
})
const head = (h: HostReport, mode: 'plan' | 'apply', color = false): string => renderHost(h, mode, { color, verbose: false, recipe: 'demo' }).split('\n')[0] as string

describe('the host line', () => {
  it('a plan with changes (or pending re-checks) says "changes pending" in yellow, never "ok" in green', () => {
    expect(head(host(2), 'plan')).toBe('local: changes pending (recipe demo, 12 ms, 3 round trips)')
    expect(head(host(0, 1), 'plan')).toBe('local: changes pending (recipe demo, 12 ms, 3 round trips)')
    expect(head(host(2), 'plan', true)).toContain('\x1b[33mchanges pending\x1b[0m')
  })

  it('a plan with nothing to do and an apply that converged say ok, with the recipe', () => {
    expect(head(host(0), 'plan')).toBe('local: ok (recipe demo, 12 ms, 3 round trips)')
    expect(head(host(2), 'apply')).toBe('local: ok (recipe demo, 12 ms, 3 round trips)')
  })
})
