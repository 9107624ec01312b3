import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { serviceType } from '../../../lib/resources/service/service.ts'
import { unitText } from '../../../lib/resources/service/systemd.ts'
import type { ServiceOptions } from '../../../lib/resources/service/types.ts'
import { hex, linuxFacts, macFacts, none, probe, windowsFacts } from '../../helpers/facts.ts'
import { lintPosix, shellcheck } from '../../helpers/lint.ts'
import { runCase, type Case } from '../../helpers/table.ts'

const WEB: ServiceOptions = { name: 'web', argv: ['/usr/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/srv/www'], cwd: '/srv/www', env: { LANG: 'C.UTF-8' } }
const UNIT = '/etc/systemd/system/web.service'
const TEXT = unitText(WEB)
const write = (path: string, owner = ''): string[] => ['sh', '-c', expect.any(String), 'statecraft-write', path, '0644', owner, String(Buffer.byteLength(TEXT)), expect.stringMatching(/^[0-9a-f]{64}$/)] as string[]

/** `systemctl show web.service -p LoadState,ActiveState,SubState,UnitFileState,MainPID,NeedDaemonReload`, in the order systemctl prints them. */
const show = (p: { pid?: number; load?: string; active?: string; sub?: string; file?: string; reload?: string }): string =>
  hex(`MainPID=${p.pid ?? 0}\nLoadState=${p.load ?? 'loaded'}\nActiveState=${p.active ?? 'inactive'}\nSubState=${p.sub ?? 'dead'}\nUnitFileState=${p.file ?? 'disabled'}\nNeedDaemonReload=${p.reload ?? 'no'}\n`)
const RUNNING = show({ pid: 4242, active: 'active', sub: 'running', file: 'enabled' })
const NOT_FOUND = show({ load: 'not-found', file: '' })

const sys = (uid: string, unit: string | undefined, s: string) => probe({ uid, unit: unit === undefined ? 'absent' : 'file', text: unit === undefined ? undefined : hex(unit), show: s })

const sd = (...a: string[]): string[] => ['systemctl', ...a]
const cases: Case<ServiceOptions>[] = [
  {
    name: 'system unit, nothing there: unit written, daemon-reload, enabled, started',
    facts: linuxFacts,
    desired: WEB,
    current: sys('0', undefined, NOT_FOUND),
    changes: [`create unit ${UNIT}`, 'enable web.service (not enabled)', 'start web.service (not running: inactive/dead)'],
    steps: [write(UNIT), sd('daemon-reload'), sd('enable', 'web.service'), sd('start', 'web.service')],
  },
  { name: 'system unit converged: same text, enabled, active', facts: linuxFacts, desired: WEB, current: sys('0', TEXT, RUNNING), changes: [] },
  {
    name: 'ExecStart changed while it runs: written, reloaded, restarted',
    facts: linuxFacts,
    desired: { ...WEB, argv: [...WEB.argv, '-v'] },
    current: sys('0', TEXT, RUNNING),
    changes: [`unit text differs: ExecStart (${UNIT})`, 'restart web.service: its definition changed'],
    steps: [['sh', '-c', expect.any(String), 'statecraft-write', UNIT, '0644', '', expect.any(String), expect.any(String)] as string[], sd('daemon-reload'), sd('restart', 'web.service')],
  },
  {
    name: 'the file is right but systemd still holds the old one (NeedDaemonReload=yes): reload and restart',
    facts: linuxFacts,
    desired: WEB,
    current: sys('0', TEXT, show({ pid: 4242, active: 'active', sub: 'running', file: 'enabled', reload: 'yes' })),
    changes: ['reload web.service: its file changed on disk since systemd read it (daemon-reload)', 'restart web.service: its definition changed'],
    steps: [sd('daemon-reload'), sd('restart', 'web.service')],
  },
  {
    name: 'enabled but failed: started, the state named',
    facts: linuxFacts,
    desired: WEB,
    current: sys('0', TEXT, show({ active: 'failed', sub: 'failed', file: 'enabled' })),
    changes: ['start web.service (not running: failed)'],
    steps: [sd('start', 'web.service')],
  },
  {
    name: "state 'stopped': disabled and stopped, the unit kept",
    facts: linuxFacts,
    desired: { ...WEB, state: 'stopped' },
    current: sys('0', TEXT, RUNNING),
    changes: ['disable web.service', 'stop web.service (running, pid 4242)'],
    steps: [sd('stop', 'web.service'), sd('disable', 'web.service')],
  },
  {
    name: "state 'absent': stopped, disabled, the unit removed, systemd reloaded",
    facts: linuxFacts,
    desired: { ...WEB, state: 'absent' },
    current: sys('0', TEXT, RUNNING),
    changes: ['stop web.service (running, pid 4242)', 'disable web.service', `remove unit ${UNIT}`],
    steps: [sd('stop', 'web.service'), sd('disable', 'web.service'), ['rm', '-f', '--', UNIT], sd('daemon-reload')],
  },
  { name: "state 'absent', nothing there: converged", facts: linuxFacts, desired: { ...WEB, state: 'absent' }, current: sys('0', undefined, NOT_FOUND), changes: [] },
  {
    name: 'a system unit probed as a plain user: planned, refused before anything runs',
    facts: linuxFacts,
    desired: WEB,
    current: sys('1000', undefined, NOT_FOUND),
    changes: [`create unit ${UNIT}`, 'enable web.service (not enabled)', 'start web.service (not running: inactive/dead)', 'web: needs become (root)'],
    applyError: /service web: a system unit is managed as root: declare it with become: true/,
  },
  {
    name: 'User= of an account that does not exist: refused with the fix',
    facts: linuxFacts,
    desired: { ...WEB, user: 'www' },
    current: probe({ uid: '0', useruid: '', unit: 'absent', ...none('text'), show: NOT_FOUND }),
    changes: ['define web.service: user www does not exist'],
    applyError: /the user www does not exist on the host; create it first/,
  },
]

const HOME = '/home/lab'
const USER_UNIT = `${HOME}/.config/systemd/user/web.service`
const USER_WEB: ServiceOptions = { ...WEB, scope: 'user', user: 'lab' }
const USER_TEXT = unitText(USER_WEB)
const userProbe = (uid: string, p: { linger: boolean; unit?: string; show: string; wants?: boolean }) =>
  probe({ uid, useruid: '1000', home: hex(HOME), linger: p.linger ? '1' : '0', wants: p.wants ? '1' : '0', unit: p.unit === undefined ? 'absent' : 'file', text: p.unit === undefined ? undefined : hex(p.unit), show: p.show })
const asLab = (...a: string[]): string[] => ['runuser', '-u', 'lab', '--', 'env', 'XDG_RUNTIME_DIR=/run/user/1000', 'systemctl', '--user', ...a]

cases.push(
  {
    name: 'user unit as root, no linger, nothing there: linger, directories owned by the user, written, enabled, started through runuser',
    facts: { ...linuxFacts, user: 'root', uid: 0, home: '/root' },
    desired: USER_WEB,
    current: userProbe('0', { linger: false, show: '' }),
    changes: [`create unit ${USER_UNIT}`, 'enable lingering for lab (loginctl enable-linger), so the user unit runs without a login session and starts at boot', 'enable web.service (not enabled)', 'start web.service (not running: unknown)'],
    steps: [
      ['sh', '-c', expect.stringContaining('loginctl enable-linger "$1"'), 'statecraft-linger', 'lab', '1000'] as string[],
      ['sh', '-c', expect.stringContaining('chown -- "$U" "$x"'), 'statecraft-mkdirs', 'lab', `${HOME}/.config/systemd/user`] as string[],
      ['sh', '-c', expect.any(String), 'statecraft-write', USER_UNIT, '0644', 'lab', String(Buffer.byteLength(USER_TEXT)), expect.any(String)] as string[],
      asLab('daemon-reload'),
      asLab('enable', 'web.service'),
      asLab('start', 'web.service'),
    ],
  },
  { name: 'user unit converged, probed as the user', facts: { ...linuxFacts, user: 'lab', home: HOME }, desired: USER_WEB, current: userProbe('1000', { linger: true, unit: USER_TEXT, show: RUNNING }), changes: [] },
  {
    name: "user unit as the user, its manager not answering (show printed nothing): enabled by its [Install] link, so only started",
    facts: { ...linuxFacts, user: 'lab', home: HOME },
    desired: USER_WEB,
    current: userProbe('1000', { linger: true, unit: USER_TEXT, show: '', wants: true }),
    changes: ['start web.service (not running: unknown)'],
    steps: [['systemctl', '--user', 'start', 'web.service']],
  },
  {
    name: 'user unit as the user, no linger yet: loginctl as the user (no root fallback to try), then its own manager',
    facts: { ...linuxFacts, user: 'lab', home: HOME },
    desired: USER_WEB,
    current: userProbe('1000', { linger: false, unit: USER_TEXT, show: RUNNING }),
    changes: ['enable lingering for lab (loginctl enable-linger), so the user unit runs without a login session and starts at boot'],
    steps: [['loginctl', 'enable-linger', 'lab']],
  },
  {
    name: "another user's unit probed as a third user: refused",
    facts: linuxFacts,
    desired: USER_WEB,
    current: userProbe('1001', { linger: true, show: '' }),
    changes: [`create unit ${USER_UNIT}`, 'enable web.service (not enabled)', 'start web.service (not running: unknown)', 'web: needs become (root)'],
    applyError: /it belongs to lab, and this run is neither that user nor root: declare it with become: true/,
  },
  { name: 'name ending in .service', facts: linuxFacts, desired: { ...WEB, name: 'web.service' }, error: /service web\.service: name must not end in \.service/ },
  { name: 'a line end in an argument (a unit is line based)', facts: linuxFacts, desired: { ...WEB, argv: ['/bin/sh', 'a\nb'] }, error: /argv\.1 must not contain control characters or line ends/ },
  { name: 'domain on Linux', facts: linuxFacts, desired: { ...WEB, domain: 'daemon' }, error: /domain is macOS only/ },
  { name: 'scope on macOS', facts: macFacts, desired: { ...WEB, scope: 'user' }, error: /scope is Linux only/ },
  { name: "root's user unit", facts: { ...linuxFacts, user: 'root' }, desired: { ...WEB, scope: 'user' }, error: /user is root: root's services are system units/ },
  { name: 'relative cwd', facts: linuxFacts, desired: { ...WEB, cwd: 'www' }, error: /cwd must be absolute/ },
  { name: 'unknown field', facts: linuxFacts, desired: { ...WEB, command: 'x' } as never, error: /command is not a known field; known fields: name, argv/ },
  { name: 'logs on Windows', facts: windowsFacts, desired: { ...WEB, cwd: undefined, logs: { stdout: 'C:\\log.txt' } }, error: /logs cannot be set on Windows/ },
)

describe('service table: systemd', () => {
  for (const c of cases) it(c.name, () => runCase(serviceType, c))
})

describe('systemd unit text', () => {
  it('is what the declaration says, with quoting that systemd reads back as the same words', () => {
    const d: ServiceOptions = { name: 'web', argv: ['/bin/sh', '-c', 'echo "$HOME" %n \\x', 'a b'], env: { Z: '1', A: 'x "y" $Z %h' }, cwd: '/srv/with space', description: '100% web', user: 'www', restart: 'on-failure', logs: { stdout: '/var/log/web.log' } }
    expect(unitText(d)).toBe(`# Written by statecraft (service web): a change made here is undone on its next run.
[Unit]
Description=100%% web
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User=www
WorkingDirectory=/srv/with space
Environment="A=x \\"y\\" $Z %%h"
Environment="Z=1"
ExecStart="/bin/sh" "-c" "echo \\"$$HOME\\" %%n \\\\x" "a b"
StandardOutput=append:/var/log/web.log
StandardError=append:/var/log/web.log
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
`)
  })

  it('passes systemd-analyze verify (systemd 252), which does reject a broken unit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-unit-'))
    try {
      const verify = (text: string): string => {
        writeFileSync(join(dir, 'web.service'), text)
        const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'web.service')], { encoding: 'utf8' })
        if (r.error) throw new Error(`systemd-analyze is missing (apt-get install systemd): ${r.error.message}`)
        return `${r.status}\n${r.stderr}`
      }
      const hostile = ['$(touch /tmp/pwned)', '"double"', "it's", '%n %h', '\\back\\slash', 'tab\there', '`id`', ';']
      expect(verify(unitText({ name: 'web', argv: ['/bin/sh', ...hostile], env: { V: hostile.join(' ') }, cwd: '/tmp', description: hostile.join(' ') }))).toBe('0\n')
      expect(verify(unitText({ ...USER_WEB, argv: ['/bin/true'], cwd: '/tmp' }))).toBe('0\n')
      expect(verify('[Service]\nExecStart="/bin/sh -c\n')).toMatch(/^1\n.*Unbalanced quoting/s)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('user units: no User=, no network target, WantedBy=default.target', () => {
    expect(USER_TEXT).not.toMatch(/^User=|network-online/m)
    expect(USER_TEXT).toMatch(/^WantedBy=default\.target$/m)
  })
})

describe('a definition holding a secret', () => {
  it('is hidden from the diff, written 0600, and its env values are secrets to redact', () => {
    const d = serviceType.validate({ ...WEB, env: { HF_TOKEN: 'hf_secret_123' }, sensitive: true }, linuxFacts)
    const c = serviceType.parse(sys('0', TEXT, RUNNING), d)
    const changes = serviceType.diff(d, c)
    expect(changes[0]).toMatchObject({ op: 'write', text: `unit text differs: Environment (${UNIT})`, before: '(sensitive content hidden)', after: '(sensitive content hidden)' })
    expect(JSON.stringify(changes)).not.toContain('hf_secret_123')
    expect(serviceType.apply(d, c, changes, linuxFacts)[0]?.argv.slice(4, 6)).toEqual([UNIT, '0600'])
    expect(serviceType.secrets!(d)).toEqual(['hf_secret_123'])
    expect(serviceType.markSensitive!(serviceType.validate(WEB, linuxFacts)).sensitive).toBe(true)
  })
})

describe('service on systemd, notified', () => {
  it('restarts a running service, and leaves a stopped one stopped', () => {
    const d = serviceType.validate(WEB, linuxFacts)
    const c = serviceType.parse(sys('0', TEXT, RUNNING), d)
    const ch = serviceType.notified!(d, ['file:/srv/www/index.html'])
    expect(ch.text).toBe('restart service web (notified by file:/srv/www/index.html)')
    expect(serviceType.apply(d, c, [ch], linuxFacts).map((s) => s.argv)).toEqual([sd('restart', 'web.service')])
    const stopped = serviceType.validate({ ...WEB, state: 'stopped' }, linuxFacts)
    const ch2 = serviceType.notified!(stopped, ['x'])
    expect(ch2.text).toBe('leave service web stopped (notified by x)')
    expect(serviceType.apply(stopped, c, [ch2], linuxFacts)).toEqual([])
  })

  it('the sh -c scripts of apply (linger, directories as the user, launchd bootstrap) pass shellcheck', () => {
    const scripts = new Set<string>()
    const collect = (desired: ServiceOptions, facts: typeof linuxFacts, current: ReturnType<typeof probe>): void => {
      const d = serviceType.validate(desired, facts)
      const c = serviceType.parse(current, d)
      for (const st of serviceType.apply(d, c, serviceType.diff(d, c), facts)) if (st.argv[0] === 'sh' && st.argv[1] === '-c') scripts.add(st.argv[2] as string)
    }
    collect(USER_WEB, { ...linuxFacts, user: 'root', uid: 0 }, userProbe('0', { linger: false, show: '' }))
    const macProbe = probe({ uid: '0', useruid: '501', plist: 'file', text: hex('old'), print: hex('gui/501/web = {\n\tstate = running\n}\n'), disabled: '', domain: '0' })
    collect({ name: 'web', argv: ['/bin/true'] }, macFacts, macProbe)
    expect(scripts.size).toBe(4) // linger, mkdirs, the atomic write, launchd boot
    for (const s of scripts) expect(shellcheck(s)).toEqual({ code: 0, out: '' })
  })

  it('the probes of system and user units pass shellcheck with hostile values', () => {
    const samples = ['a b', "it's", '$(id)', '`id`', '-rf'].flatMap((v) => [
      { desired: { name: 'web', argv: ['/bin/sh', v], cwd: `/tmp/${v}`, env: { V: v }, user: 'www' } },
      { desired: { name: 'web', argv: ['/bin/sh', v], scope: 'user', user: 'lab' } },
    ])
    const r = lintPosix([{ type: serviceType, samples }])
    expect(r.out).toBe('')
    expect(r.code).toBe(0)
    expect(r.snippets).toBe(10)
  })
})

describe('lingering refused for a user (no polkit)', () => {
  it('explains the two ways out, quoting what loginctl said', async () => {
    const { lingerRefused } = await import('../../../lib/resources/service/systemd.ts')
    const m = lingerRefused('lab', 'Could not enable linger: Access denied\n')
    expect(m).toBe("service: enabling lingering for lab needs root on this host (loginctl: Could not enable linger: Access denied; without polkit only root may): declare the service with become: true (it stays lab's own user unit), or run `sudo loginctl enable-linger lab` once")
  })
})
