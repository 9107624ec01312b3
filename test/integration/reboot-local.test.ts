import { existsSync, readFileSync, readlinkSync, symlinkSync, mkdirSync } from 'node:fs'
import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { command, converge, defineRecipe, type Report } from '../../lib/index.ts'
import { parseHolder } from '../../lib/engine/lock.ts'
import { RebootableHost } from '../helpers/rebootable.ts'
import { tempDir } from '../helpers/tmp.ts'

/**
 * A step that stages its work and exits 194 ("restart to complete"); a second one that completes
 * it, and can only succeed on a later boot than the one that staged (it compares boot ids).
 */
function stagedRecipe(dir: string, bootFile: string) {
  return defineRecipe({
    name: 'staged',
    resources: () => [
      command({ id: 'stage', argv: ['sh', '-c', 'cp "$1" "$2"; exit 194', 'sh', bootFile, `${dir}/staged`], creates: `${dir}/staged`, rebootExitCodes: [194] }),
      command({
        id: 'complete',
        argv: ['sh', '-c', 'if cmp -s "$1" "$2"; then echo "still the staging boot" >&2; exit 1; fi; touch "$3"', 'sh', bootFile, `${dir}/staged`, `${dir}/done`],
        creates: `${dir}/done`,
        after: ['stage'],
      }),
    ],
  })
}

const lockOf = (home: string): string => `${home}/.statecraft/run.lock`
const bootOf = (h: RebootableHost): string => readFileSync(h.bootFile, 'utf8').trim()

describe('a step that needs a restart, on a host statecraft can restart (real shell, simulated restart)', () => {
  it('without reboot: the host stops as reboot-required, what depends on the step waits, the lock is released; the next run too, until a restart', async () => {
    const home = tempDir()
    const host = new RebootableHost(home)
    const r = await converge({ recipe: stagedRecipe(home, host.bootFile), hosts: [{ name: 'box', transport: host }] })
    const h = r.hosts[0]!
    expect(h).toMatchObject({ ok: false, status: 'reboot-required', rebootRequired: true, reboots: [], error: { code: 'E_REBOOT_REQUIRED' } })
    expect(h.error!.message).toMatch(/^host box: sh -c .* finished \(exit 194\) and needs the host to restart; .*run with --reboot/)
    expect(h.resources.map((x) => [x.id, x.status])).toEqual([['stage', 'failed'], ['complete', 'skipped']])
    expect(host.boots).toBe(1)
    expect(existsSync(lockOf(home))).toBe(false)
    // The step's guard holds now (its work is staged), but the restart it asked for is still owed:
    // the next run on this boot changes nothing and says so.
    expect(readFileSync(`${lockOf(home)}.reboot`, 'utf8')).toBe(`${bootOf(host)}|${h.error!.message.match(/host box: (.*) finished/)![1]} exited 194\n`)
    const next = await converge({ recipe: stagedRecipe(home, host.bootFile), hosts: [{ name: 'box', transport: host }] })
    expect(next.hosts[0]).toMatchObject({ status: 'reboot-required', error: { code: 'E_REBOOT_REQUIRED', message: expect.stringMatching(/^host box: a restart is still pending on this boot \(sh -c .* exited 194\); restart it, then run again, or run with --reboot: nothing was changed$/) } })
    expect(next.hosts[0]!.resources).toEqual([])
    expect(existsSync(`${home}/done`)).toBe(false)
    // A plan still runs, and shows what is left.
    const plan = await converge({ recipe: stagedRecipe(home, host.bootFile), hosts: [{ name: 'box', transport: host }], mode: 'plan' })
    expect(plan.hosts[0]).toMatchObject({ status: 'ok' })
    expect(plan.hosts[0]!.resources.map((x) => x.status)).toEqual(['unchanged', 'changed'])
    // With --reboot, that run restarts it first, then completes.
    const later = await converge({ recipe: stagedRecipe(home, host.bootFile), hosts: [{ name: 'box', transport: host }], reboot: true })
    expect(later.hosts[0]).toMatchObject({ status: 'ok', reboots: [expect.anything()] })
    expect(host.boots).toBe(2)
    expect(existsSync(`${home}/done`)).toBe(true)
  })

  it('with reboot: restarts it, takes the lock back on the new boot, runs it again from the facts, converges; the next run changes nothing', async () => {
    const home = tempDir()
    const host = new RebootableHost(home)
    const before = bootOf(host)
    const lines: string[] = []
    const r = await converge({ recipe: stagedRecipe(home, host.bootFile), hosts: [{ name: 'box', transport: host }], reboot: true, log: (l) => lines.push(l) })
    const h = r.hosts[0]!
    expect(h.error).toBeUndefined()
    expect(h).toMatchObject({ ok: true, status: 'ok', rebootRequired: false, warnings: [] })
    expect(host.boots).toBe(2)
    expect(h.reboots).toEqual([{ at: expect.any(String), ms: expect.any(Number), fromBootId: before, toBootId: bootOf(host) }])
    expect(h.resources.map((x) => [x.id, x.status, x.changes])).toEqual([
      ['stage', 'changed', [`run sh -c 'cp "$1" "$2"; exit 194' sh ${host.bootFile} ${home}/staged (${home}/staged is missing)`, 'then restarted the host (restart 1)']],
      ['complete', 'changed', [expect.stringMatching(/is missing\)$/)]],
    ])
    expect(r.summary).toMatchObject({ changed: 2, failed: 0, skipped: 0 })
    expect(existsSync(`${home}/done`)).toBe(true)
    expect(lines).toContain(`box: back after the reboot; taking this run's lock again`)
    expect(existsSync(lockOf(home))).toBe(false)

    const again = await converge({ recipe: stagedRecipe(home, host.bootFile), hosts: [{ name: 'box', transport: host }], reboot: true })
    expect(again.summary).toMatchObject({ changed: 0, unchanged: 2, failed: 0 })
    expect(again.hosts[0]!.reboots).toEqual([])
    expect(host.boots).toBe(2)
  })

  it('while the host restarts, another run is refused the lock (its boot id changed, but the mark says the holder comes back)', async () => {
    const home = tempDir()
    const host = new RebootableHost(home)
    let other: Report | undefined
    let seen = ''
    host.onDown = async () => {
      seen = readlinkSync(lockOf(home))
      // Another controller's run reaching the host after it came back, before this run does.
      const second = new RebootableHost(home, { bootFile: host.bootFile })
      other = await converge({ recipe: stagedRecipe(home, host.bootFile), hosts: [{ name: 'box', transport: second }] })
    }
    const r = await converge({ recipe: stagedRecipe(home, host.bootFile), hosts: [{ name: 'box', transport: host }], reboot: true })
    const holder = parseHolder(seen)!
    expect(holder).toMatchObject({ controller: hostname(), pid: process.pid, rebootUntil: expect.any(String) })
    expect(Date.parse(holder.rebootUntil!) - Date.now()).toBeGreaterThan(500_000)
    expect(other!.hosts[0]).toMatchObject({ status: 'failed', error: { code: 'E_LOCKED', message: expect.stringMatching(/rebooting the host and back for its lock by /) } })
    expect(r.hosts[0]).toMatchObject({ ok: true, status: 'ok', reboots: [expect.anything()] })
  })

  it('a lock marked for a restart whose time has passed is taken over: that run never came back', async () => {
    const home = tempDir()
    const host = new RebootableHost(home)
    mkdirSync(`${home}/.statecraft`)
    const past = new Date(Date.now() - 1000).toISOString()
    symlinkSync(`statecraft-lock-v1|tok|elsewhere|42|2026-12-07T00:00:00.000Z|old-boot|reboot-until=${past}`, lockOf(home))
    const r = await converge({ recipe: stagedRecipe(home, host.bootFile), hosts: [{ name: 'box', transport: host }], mode: 'plan' })
    expect(r.hosts[0]).toMatchObject({ status: 'ok', warnings: [expect.stringMatching(/taking over the lock of a run that is gone \(pid 42 on elsewhere/)] })
    expect(existsSync(lockOf(home))).toBe(false)
  })

  it('a step that asks every time stops after maxReboots restarts, as reboot-required', async () => {
    const home = tempDir()
    const host = new RebootableHost(home, { downFor: 1 })
    const recipe = defineRecipe({
      name: 'always',
      resources: () => [command({ id: 'always', argv: ['sh', '-c', 'exit 194'], creates: `${home}/never`, rebootExitCodes: [194] })],
    })
    const r = await converge({ recipe, hosts: [{ name: 'box', transport: host }], reboot: true, maxReboots: 2 })
    const h = r.hosts[0]!
    expect(h).toMatchObject({ ok: false, status: 'reboot-required', error: { code: 'E_REBOOT_REQUIRED', message: expect.stringMatching(/asked again after 2 restarts in this run/) } })
    expect(h.reboots).toHaveLength(2)
    expect(host.boots).toBe(3)
    expect(existsSync(lockOf(home))).toBe(false)
  })

  it('a host that does not come back within rebootTimeout fails naming it and what to check; its lock stays marked', async () => {
    const home = tempDir()
    const host = new RebootableHost(home, { downFor: Number.MAX_SAFE_INTEGER })
    const r = await converge({ recipe: stagedRecipe(home, host.bootFile), hosts: [{ name: 'box', transport: host }], reboot: true, rebootTimeout: 2 })
    const h = r.hosts[0]!
    expect(h).toMatchObject({ ok: false, status: 'failed', rebootRequired: false, error: { code: 'E_REBOOT' } })
    expect(h.error!.message).toMatch(/^host box: restarted at .* and not back with a new boot id within 2s \(last: host rebootable: connection refused.*\)\. Check the host's console or power state and that sshd starts at boot, then run again/)
    expect(parseHolder(readlinkSync(lockOf(home)))?.rebootUntil).toBeDefined()
  })

  it('a plan never restarts, even with reboot', async () => {
    const home = tempDir()
    const host = new RebootableHost(home)
    const r = await converge({ recipe: stagedRecipe(home, host.bootFile), hosts: [{ name: 'box', transport: host }], reboot: true, mode: 'plan' })
    expect(r.hosts[0]).toMatchObject({ ok: true, status: 'ok', reboots: [] })
    expect(host.boots).toBe(1)
  })
})
