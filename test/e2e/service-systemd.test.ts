import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { converge, defineRecipe, directory, file, service } from '../../lib/index.ts'
import type { Report } from '../../lib/engine/report.ts'
import { startLab, type Lab, type LabHost } from '../helpers/lab.ts'
import { controllerHome } from '../helpers/sshd.ts'

// The service resource on real systemd (booted Debian 12 hosts of the lab): a system unit and a
// user unit with lingering are created, enabled and started and answer HTTP; a changed
// declaration restarts them (new PIDs); a second run changes nothing; after a reboot inside the
// host both come back by themselves.
let lab: Lab
let host: LabHost
let home = ''

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'sc-ctl-'))
  const { pub } = controllerHome(home)
  lab = await startLab({ hosts: 1, authorizedKey: pub })
  host = lab.hosts[0] as LabHost
  appendFileSync(join(home, '.ssh', 'known_hosts'), `${host.address} ${host.hostKey}\n`)
}, 600_000)

afterAll(async () => {
  await lab?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
})

/** An argument and an environment value that break naive unit quoting: `$`, `%`, quotes, a backslash. */
const ARG = 'a $HOME %n "q" \\x'
const GREETING = "it's 100% $ok"

interface Version {
  port: number
  userPage: string
  flag?: string
}

const recipe = (v: Version) =>
  defineRecipe({
    name: 'services',
    resources: () => [
      directory({ id: 'www', path: '/srv/www', mode: '0755' }),
      file({ id: 'page', path: '/srv/www/index.html', content: 'system hello\n', mode: '0644', after: ['www'] }),
      // A system unit as www-data; its shell records what systemd handed it, then becomes the server.
      service({
        id: 'web',
        name: 'sc-web',
        argv: ['/bin/sh', '-c', 'printf "%s|%s" "$1" "$GREETING" > /tmp/sc-web.args; exec /bin/busybox httpd -f -p "$2" -h /srv/www', 'sc-web', ARG, String(v.port), ...(v.flag ? [v.flag] : [])],
        env: { GREETING },
        user: 'www-data',
        description: 'statecraft e2e 100% web',
        after: ['page'],
      }),
      directory({ id: 'dev-www', path: '/home/dev/www', owner: 'dev', mode: '0755' }),
      file({ id: 'dev-page', path: '/home/dev/www/index.html', content: v.userPage, owner: 'dev', mode: '0644', after: ['dev-www'], notify: ['userweb'] }),
      // dev's user unit: root reaches dev's manager; lingering keeps it up with nobody logged in.
      // Its env holds a token: the unit is written 0600 and the token appears in no report.
      service({ id: 'userweb', name: 'sc-userweb', argv: ['/bin/busybox', 'httpd', '-f', '-p', '8082', '-h', '/home/dev/www'], cwd: '/home/dev/www', env: { TOKEN: 'tok_secret_42' }, sensitive: true, scope: 'user', user: 'dev' }),
    ],
  })

const target = () => [{ name: 'svc-1', ssh: { name: 'svc-1', address: host.address, user: 'root' } }]
const run = (v: Version, mode: 'plan' | 'apply' = 'apply'): Promise<Report> => converge({ recipe: recipe(v), hosts: target(), ssh: { home }, mode })

const sh = async (script: string): Promise<string> => {
  const r = await host.exec(script)
  expect(r, `${script}\n${r.stderr}`).toMatchObject({ code: 0 })
  return r.stdout.trim()
}
/** An HTTP check from inside the host, retried while the server comes up (bounded, not timed). */
const get = (port: number): Promise<string> => sh(`for i in $(seq 150); do curl -fsS http://127.0.0.1:${port}/ && exit 0; sleep 0.2; done; exit 1`)
const systemPid = (): Promise<string> => sh('systemctl show -P MainPID sc-web.service')
const userPid = (): Promise<string> => sh('runuser -u dev -- env XDG_RUNTIME_DIR=/run/user/1000 systemctl --user show -P MainPID sc-userweb.service')

describe('service on booted Debian hosts (systemd 252)', () => {
  const v1: Version = { port: 8081, userPage: 'user hello\n' }
  const v2: Version = { port: 8083, userPage: 'user hello, again\n', flag: '-v' }

  it('creates, enables and starts a system unit and a lingering user unit; a second run changes nothing', async () => {
    const first = await run(v1)
    expect(first.hosts[0]?.error).toBeUndefined()
    expect(first.hosts[0]?.resources.filter((r) => r.status !== 'changed')).toEqual([])
    const web = first.hosts[0]?.resources.find((r) => r.id === 'web')
    expect(web?.changes).toEqual(['create unit /etc/systemd/system/sc-web.service', 'enable sc-web.service (not enabled)', expect.stringMatching(/^start sc-web\.service \(not running: inactive/)])
    expect(await get(8081)).toBe('system hello')
    expect(await get(8082)).toBe('user hello')
    // systemd handed the program the words as declared: nothing expanded, nothing split.
    expect(await sh('cat /tmp/sc-web.args')).toBe(`${ARG}|${GREETING}`)
    expect(await sh('ps -o user= -p "$(systemctl show -P MainPID sc-web.service)"')).toBe('www-data')
    expect(await sh('systemctl is-enabled sc-web.service; test -e /var/lib/systemd/linger/dev && echo linger')).toBe('enabled\nlinger')
    expect(await sh('stat -c %U /home/dev/.config /home/dev/.config/systemd/user /home/dev/.config/systemd/user/sc-userweb.service')).toBe('dev\ndev\ndev')
    expect(await sh('stat -c %a /home/dev/.config/systemd/user/sc-userweb.service /etc/systemd/system/sc-web.service')).toBe('600\n644')
    expect(JSON.stringify(first)).not.toContain('tok_secret_42')

    const second = await run(v1)
    expect(second.summary).toMatchObject({ changed: 0, failed: 0, pending: 0 })
    expect(second.hosts[0]).toMatchObject({ connections: 1, roundTrips: 3 })
  }, 300_000)

  it('a changed declaration restarts the system unit, a notify restarts the user unit (new PIDs); the plan says what differs', async () => {
    const [webBefore, userBefore] = [await systemPid(), await userPid()]
    const plan = await run(v2, 'plan')
    const planned = Object.fromEntries((plan.hosts[0]?.resources ?? []).map((r) => [r.id, r.changes]))
    expect(planned.web).toEqual(['unit text differs: ExecStart (/etc/systemd/system/sc-web.service)', 'restart sc-web.service: its definition changed'])
    expect(planned.userweb).toEqual(['restart service sc-userweb (notified by dev-page)'])

    const applied = await run(v2)
    expect(applied.hosts[0]?.error).toBeUndefined()
    expect(applied.summary).toMatchObject({ failed: 0 })
    expect(await get(8083)).toBe('system hello')
    expect(await get(8082)).toBe('user hello, again')
    expect(await systemPid()).not.toBe(webBefore)
    expect(await userPid()).not.toBe(userBefore)

    const again = await run(v2)
    expect(again.summary).toMatchObject({ changed: 0, failed: 0 })
  }, 300_000)

  it('after a reboot inside the host, both services come back by themselves', async () => {
    const boot = await host.bootId()
    await host.exec('systemctl reboot')
    await host.waitForReboot(boot, 180_000)
    expect(await host.bootId()).not.toBe(boot)
    expect(await get(8083)).toBe('system hello')
    expect(await get(8082)).toBe('user hello, again')
    const after = await run(v2)
    expect(after.summary).toMatchObject({ changed: 0, failed: 0 })
  }, 300_000)

  it('logged in as dev: its own user unit without become; a system unit needs become, and gets it through sudo', async () => {
    const asDev = [{ name: 'svc-dev', ssh: { name: 'svc-dev', address: host.address, user: 'dev' } }]
    const own = (become?: boolean) =>
      defineRecipe({
        name: 'as-dev',
        resources: () => [
          service({ name: 'sc-selfweb', argv: ['/bin/busybox', 'httpd', '-f', '-p', '8084', '-h', '/home/dev/www'], scope: 'user' }),
          service({ name: 'sc-sudoweb', argv: ['/bin/busybox', 'httpd', '-f', '-p', '8085', '-h', '/srv/www'], user: 'www-data', ...(become === undefined ? {} : { become }) }),
        ],
      })
    const refused = await converge({ recipe: own(), hosts: asDev, ssh: { home } })
    const sudo = refused.hosts[0]?.resources.find((r) => r.id === 'service:sc-sudoweb')
    expect(sudo?.status).toBe('failed')
    expect(sudo?.error?.message).toMatch(/a system unit is managed as root: declare it with become: true/)
    expect(refused.hosts[0]?.resources.find((r) => r.id === 'service:sc-selfweb')?.status).toBe('changed')
    expect(await get(8084)).toBe('user hello, again')

    const r = await converge({ recipe: own(true), hosts: asDev, ssh: { home } })
    expect(r.summary).toMatchObject({ changed: 1, failed: 0 })
    expect(await get(8085)).toBe('system hello')
    const again = await converge({ recipe: own(true), hosts: asDev, ssh: { home } })
    expect(again.summary).toMatchObject({ changed: 0, failed: 0 })
  }, 300_000)

  it("state 'absent' stops, disables and removes both", async () => {
    const gone = defineRecipe({
      name: 'gone',
      resources: () => [
        service({ name: 'sc-web', argv: ['/bin/true'], state: 'absent' }),
        service({ name: 'sc-userweb', argv: ['/bin/true'], scope: 'user', user: 'dev', state: 'absent' }),
      ],
    })
    const r = await converge({ recipe: gone, hosts: target(), ssh: { home } })
    expect(r.hosts[0]?.error).toBeUndefined()
    expect(r.summary).toMatchObject({ changed: 2, failed: 0 })
    expect(await sh('test ! -e /etc/systemd/system/sc-web.service && test ! -e /home/dev/.config/systemd/user/sc-userweb.service && echo gone')).toBe('gone')
    expect((await host.exec('curl -fsS http://127.0.0.1:8083/')).code).not.toBe(0)
    const again = await converge({ recipe: gone, hosts: target(), ssh: { home } })
    expect(again.summary).toMatchObject({ changed: 0, failed: 0 })
  }, 300_000)
})
