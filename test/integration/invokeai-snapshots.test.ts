import { describe, expect, it } from 'vitest'
import { cli, ROOT } from '../helpers/cli.ts'
import { tempDir } from '../helpers/tmp.ts'

// The Debian 12 snapshots of recipes/invokeai that `npm run smoke -- --snapshots
// recipes/snapshots/invokeai` recorded from a lab host (the stand-ins' URLs are in their vars),
// planned as CI reviews a recipe change: no connection, exit codes as --plan.
const DIR = `${ROOT}recipes/snapshots/invokeai`

interface Host {
  host: string
  connections: number
  roundTrips: number
  error?: { code: string; message: string }
  resources: { id: string; status: string; changes: string[] }[]
  summary: { changed: number; unchanged: number; pending: number; failed: number }
}

async function simulate(file: string): Promise<{ code: number | null; host: Host }> {
  const home = tempDir()
  // Any token: the recording masked the real one, and the probes are matched with it masked.
  const r = await cli(['--simulate', `${DIR}/${file}`, '--json'], { cwd: home, home, env: { HF_TOKEN: 'hf_placeholder_for_review' } })
  return { code: r.code, host: (JSON.parse(r.stdout) as { hosts: Host[] }).hosts[0] as Host }
}

describe('recipes/invokeai against the shipped Debian 12 snapshots', () => {
  it('fresh: the whole install is planned (exit 2), with no connection', async () => {
    const { code, host } = await simulate('debian12-fresh.json')
    expect(host.error).toBeUndefined()
    expect(code).toBe(2)
    expect([host.connections, host.roundTrips]).toEqual([0, 0])
    expect(host.resources.filter((r) => r.changes.some((c) => c.startsWith('unknown')))).toEqual([])
    expect(host.resources.filter((r) => r.status !== 'unchanged').map((r) => r.id)).toEqual(expect.arrayContaining(['invokeai', 'checkpoint', 'env', 'preload', 'service', 'health']))
    expect(host.summary.failed).toBe(0)
  })

  it('converged: nothing to do (exit 0), with no connection', async () => {
    const { code, host } = await simulate('debian12-converged.json')
    expect(host.error).toBeUndefined()
    expect(code).toBe(0)
    expect([host.connections, host.roundTrips]).toEqual([0, 0])
    expect(host.summary).toMatchObject({ changed: 0, pending: 0, failed: 0 })
    expect(host.resources.length).toBeGreaterThan(10)
  })
})
