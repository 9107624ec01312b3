import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli, ROOT } from '../helpers/cli.ts'
import { startLab, type Lab, type LabHost } from '../helpers/lab.ts'
import { controllerHome } from '../helpers/sshd.ts'

// `--reboot` for real: fresh Debian hosts booted with systemd as PID 1 (the lab), where
// `systemctl reboot` restarts the host with a new boot id. A step stages its work and exits 194
// ("restart to complete"); the step after it succeeds only on a later boot than the staging one.
let lab: Lab
let home = ''
let hosts: [LabHost, LabHost]

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'sc-ctl-'))
  const { pub } = controllerHome(home)
  lab = await startLab({ hosts: 2, authorizedKey: pub, services: false })
  hosts = lab.hosts as [LabHost, LabHost]
  for (const h of lab.hosts) appendFileSync(join(home, '.ssh', 'known_hosts'), `${h.address} ${h.hostKey}\n`)
  // lab1 as root; lab2 as the non-root `dev` user, which restarts it through sudo (become).
  writeFileSync(
    join(home, 'hosts.yaml'),
    `hosts:\n  lab1:\n    address: ${hosts[0].address}\n    user: root\n    groups: [lab]\n  lab2:\n    address: ${hosts[1].address}\n    user: dev\n    become: true\n    groups: [lab]\ngroups:\n  lab: {}\n`,
  )
  writeFileSync(
    join(home, 'recipe.ts'),
    `import { command, defineRecipe, file } from ${JSON.stringify(`${ROOT}lib/index.ts`)}
export default defineRecipe({
  name: 'staged-firmware',
  resources: () => [
    command({ id: 'stage', argv: ['sh', '-c', 'mkdir -p /var/lib/demo && cat /proc/sys/kernel/random/boot_id > /var/lib/demo/staged; exit 194'], creates: '/var/lib/demo/staged', rebootExitCodes: [194] }),
    command({ id: 'complete', argv: ['sh', '-c', 'if cmp -s /proc/sys/kernel/random/boot_id /var/lib/demo/staged; then echo "same boot as the staging" >&2; exit 1; fi; touch /var/lib/demo/done'], creates: '/var/lib/demo/done', after: ['stage'] }),
    file({ id: 'motd', path: '/etc/motd', content: 'staged firmware applied\\n', after: ['complete'] }),
  ],
})
`,
  )
}, 600_000)

afterAll(async () => {
  await lab?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
}, 120_000)

const run = (...extra: string[]) => cli(['--recipe', join(home, 'recipe.ts'), '--group', 'lab', '--json', ...extra], { cwd: home, home })

describe('--reboot on booted Debian hosts (systemd)', () => {
  it('without --reboot: exit 1, both hosts reboot-required, nothing restarted, and still so on the next run; with it: restarted once (new boot ids), converged; then nothing to change', async () => {
    const before = await Promise.all(hosts.map((h) => h.bootId()))

    const stopped = await run()
    expect(stopped.code, stopped.stderr).toBe(1)
    const first = JSON.parse(stopped.stdout)
    for (const h of first.hosts) {
      expect(h).toMatchObject({ ok: false, status: 'reboot-required', rebootRequired: true, reboots: [], error: { code: 'E_REBOOT_REQUIRED' } })
      expect(h.resources.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([['stage', 'failed'], ['complete', 'skipped'], ['motd', 'skipped']])
    }
    expect(await Promise.all(hosts.map((h) => h.bootId()))).toEqual(before)
    expect(hosts.map((h) => h.boots)).toEqual([1, 1])
    // Its guard holds now, but the restart is still owed: the next run without --reboot says so and changes nothing.
    const owed = await run()
    expect(owed.code).toBe(1)
    for (const h of JSON.parse(owed.stdout).hosts) expect(h).toMatchObject({ status: 'reboot-required', resources: [], error: { message: expect.stringMatching(/a restart is still pending on this boot/) } })

    const rebooted = await run('--reboot', '--verbose')
    expect(rebooted.code, `${rebooted.stdout}\n${rebooted.stderr}`).toBe(0)
    const second = JSON.parse(rebooted.stdout)
    const after = await Promise.all(hosts.map((h) => h.bootId()))
    for (const [i, h] of second.hosts.entries()) {
      expect(h).toMatchObject({ ok: true, status: 'ok', reboots: [{ fromBootId: before[i], toBootId: after[i] }] })
      // The first run staged (its guard holds); the restart it asked for came first in this run.
      expect(h.resources.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([['stage', 'unchanged'], ['complete', 'changed'], ['motd', 'changed']])
    }
    expect(after[0]).not.toBe(before[0])
    expect(after[1]).not.toBe(before[1])
    expect(hosts.map((h) => h.boots)).toEqual([2, 2])
    for (const h of hosts) expect((await h.exec('cat /etc/motd; test -e /var/lib/demo/done && echo done')).stdout).toBe('staged firmware applied\ndone\n')
    expect(rebooted.stderr).toMatch(/lab2: back after the reboot; taking this run's lock again/)

    const again = await run('--reboot')
    expect(again.code, again.stderr).toBe(0)
    const third = JSON.parse(again.stdout)
    expect(third.summary).toMatchObject({ changed: 0, unchanged: 6, failed: 0 })
    expect(third.hosts.map((h: { reboots: unknown[] }) => h.reboots)).toEqual([[], []])
    expect(hosts.map((h) => h.boots)).toEqual([2, 2])
  }, 600_000)
})
