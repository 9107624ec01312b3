import * as plist from 'plist'
import { describe, expect, it } from 'vitest'
import { parseLaunchctlPrint, plistText } from '../../../lib/resources/service/launchd.ts'
import { serviceType } from '../../../lib/resources/service/service.ts'
import type { ServiceOptions } from '../../../lib/resources/service/types.ts'
import { hex, macFacts, none, probe } from '../../helpers/facts.ts'
import { lintPosix } from '../../helpers/lint.ts'
import { runCase, type Case } from '../../helpers/table.ts'
import { launchctlPrint } from '../../helpers/tool-outputs.ts'

const LABEL = 'com.example.invokeai'
const WEB: ServiceOptions = {
  name: LABEL,
  argv: ['/Users/ana/invokeai/.venv/bin/python', 'scripts/invoke.py', '--web'],
  cwd: '/Users/ana/invokeai',
  env: { PYTORCH_ENABLE_MPS_FALLBACK: '1' },
}
const AGENT = `/Users/ana/Library/LaunchAgents/${LABEL}.plist`
const TEXT = plistText(WEB, '/Users/ana')

/** `launchctl print gui/501/com.example.invokeai` on macOS 14, as it prints this LaunchAgent. */
const printRunning = (pid = 4242, state = 'running', lastExit = '(never exited)'): string =>
  launchctlPrint({ label: LABEL, uid: 501, path: AGENT, argv: WEB.argv, cwd: WEB.cwd as string, env: WEB.env as Record<string, string>, log: `/Users/ana/Library/Logs/${LABEL}.log` }, pid, state, lastExit)

/** `launchctl print-disabled gui/501 | grep -F '"<label>"'`. */
const DISABLED = hex(`\t"${LABEL}" => disabled\n`)
const ENABLED = hex(`\t"${LABEL}" => enabled\n`)

const mac = (p: { uid?: string; text?: string; print?: string; disabled?: string; domain?: string }) =>
  probe({ uid: p.uid ?? '501', useruid: '501', plist: p.text === undefined ? 'absent' : 'file', text: p.text === undefined ? undefined : hex(p.text), print: hex(p.print ?? ''), disabled: p.disabled ?? '', domain: p.domain ?? '0' })
const boot = (dom: string, path: string, reload: '0' | '1'): string[] => ['sh', '-c', expect.stringContaining('launchctl bootstrap "$1" "$3"'), 'statecraft-launchd', dom, LABEL, path, reload] as string[]
const write = (path: string, owner = ''): string[] => ['sh', '-c', expect.any(String), 'statecraft-write', path, '0644', owner, expect.any(String), expect.any(String)] as string[]

const cases: Case<ServiceOptions>[] = [
  {
    name: 'LaunchAgent, nothing there, a GUI session: plist written, bootstrapped into gui/501',
    facts: macFacts,
    desired: WEB,
    current: mac({}),
    changes: [`create ${AGENT}`, `load gui/501/${LABEL} (launchctl bootstrap; not loaded)`],
    steps: [write(AGENT), boot('gui/501', AGENT, '0')],
  },
  { name: 'converged: same plist, state = running', facts: macFacts, desired: WEB, current: mac({ text: TEXT, print: printRunning(), disabled: ENABLED }), changes: [] },
  {
    name: 'ProgramArguments changed while it runs: rewritten, booted out and bootstrapped again',
    facts: macFacts,
    desired: { ...WEB, argv: [...WEB.argv, '--port', '9090'] },
    current: mac({ text: TEXT, print: printRunning() }),
    changes: [`plist differs: ProgramArguments (${AGENT})`, `reload gui/501/${LABEL}: its plist changed (bootout, bootstrap)`],
    steps: [write(AGENT), boot('gui/501', AGENT, '1')],
  },
  {
    name: 'loaded, exited and not running: started again, last exit code named',
    facts: macFacts,
    desired: WEB,
    current: mac({ text: TEXT, print: printRunning(0, 'not running', '1') }),
    changes: [`start gui/501/${LABEL} (state = not running, last exit code = 1)`],
    steps: [boot('gui/501', AGENT, '0')],
  },
  {
    name: 'over SSH with nobody at the screen (no gui/501 domain): planned, then refused with the way out',
    facts: macFacts,
    desired: WEB,
    current: mac({ domain: '113' }),
    changes: [`create ${AGENT}`, `load gui/501/${LABEL} (launchctl bootstrap; not loaded)`, 'bootstrap into gui/501: ana has no GUI session'],
    applyError: /launchctl bootstrap gui\/501 needs a GUI \(Aqua\) session of ana, and there is none.*Log in as ana at the Mac.*or declare domain: 'daemon' with become: true to run it as a LaunchDaemon with UserName ana/,
  },
  {
    name: 'disabled by launchctl disable: enabled, then bootstrapped',
    facts: macFacts,
    desired: WEB,
    current: mac({ text: TEXT, disabled: DISABLED }),
    changes: [`enable gui/501/${LABEL} (launchctl disable was set)`, `load gui/501/${LABEL} (launchctl bootstrap; not loaded)`],
    steps: [['launchctl', 'enable', `gui/501/${LABEL}`], boot('gui/501', AGENT, '0')],
  },
  {
    name: "state 'stopped': disabled and booted out",
    facts: macFacts,
    desired: { ...WEB, state: 'stopped' },
    current: mac({ text: TEXT, print: printRunning(), disabled: ENABLED }),
    changes: [`disable gui/501/${LABEL} (launchctl disable: not loaded at the next login or boot)`, `unload gui/501/${LABEL} (launchctl bootout)`],
    steps: [['launchctl', 'bootout', `gui/501/${LABEL}`], ['launchctl', 'disable', `gui/501/${LABEL}`]],
  },
  {
    name: "state 'absent': booted out, plist removed",
    facts: macFacts,
    desired: { ...WEB, state: 'absent' },
    current: mac({ text: TEXT, print: printRunning() }),
    changes: [`unload gui/501/${LABEL} (launchctl bootout)`, `remove ${AGENT}`],
    steps: [['launchctl', 'bootout', `gui/501/${LABEL}`], ['rm', '-f', '--', AGENT]],
  },
  {
    name: 'agent written as root (become): the LaunchAgents folder and the plist belong to the user',
    facts: macFacts,
    desired: WEB,
    current: mac({ uid: '0' }),
    changes: [`create ${AGENT}`, `load gui/501/${LABEL} (launchctl bootstrap; not loaded)`],
    steps: [['sh', '-c', expect.any(String), 'statecraft-mkdirs', 'ana', '/Users/ana/Library/LaunchAgents'] as string[], write(AGENT, 'ana'), boot('gui/501', AGENT, '0')],
  },
  {
    name: "domain 'daemon' as root: a root-owned LaunchDaemon with UserName, bootstrapped into system",
    facts: macFacts,
    desired: { ...WEB, domain: 'daemon' },
    current: probe({ uid: '0', useruid: '501', plist: 'absent', ...none('text', 'domain'), print: '', disabled: '' }),
    changes: [`create /Library/LaunchDaemons/${LABEL}.plist`, `load system/${LABEL} (launchctl bootstrap; not loaded)`],
    steps: [write(`/Library/LaunchDaemons/${LABEL}.plist`, 'root'), boot('system', `/Library/LaunchDaemons/${LABEL}.plist`, '0')],
  },
  {
    name: "domain 'daemon' without become: refused",
    facts: macFacts,
    desired: { ...WEB, domain: 'daemon' },
    current: probe({ uid: '501', useruid: '501', plist: 'absent', ...none('text', 'domain'), print: '', disabled: '' }),
    changes: [`create /Library/LaunchDaemons/${LABEL}.plist`, `load system/${LABEL} (launchctl bootstrap; not loaded)`, `${LABEL}: needs become (root)`],
    applyError: /a LaunchDaemon is managed as root: declare it with become: true/,
  },
  { name: 'an argument with a control character XML cannot hold', facts: macFacts, desired: { ...WEB, argv: ['/bin/echo', 'bell\u0007'] }, error: /argv\.1 must not contain control characters: the service definition is XML/ },
]

describe('service table: launchd', () => {
  for (const c of cases) it(c.name, () => runCase(serviceType, c))
})

describe('the generated plist', () => {
  it('is well-formed XML with the DOCTYPE and the keys launchd needs, and parses back to the declaration', () => {
    expect(TEXT.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n')).toBe(true)
    expect(plist.parse(TEXT)).toEqual({
      Label: LABEL,
      ProgramArguments: WEB.argv,
      WorkingDirectory: '/Users/ana/invokeai',
      EnvironmentVariables: { PYTORCH_ENABLE_MPS_FALLBACK: '1' },
      RunAtLoad: true,
      KeepAlive: true,
      StandardOutPath: `/Users/ana/Library/Logs/${LABEL}.log`,
      StandardErrorPath: `/Users/ana/Library/Logs/${LABEL}.log`,
    })
  })

  it('carries hostile values byte for byte (XML escaped), UserName for a daemon, KeepAlive per restart policy', () => {
    const hostile = ['<tag>', 'a & b', '"q"', "it's", ']]>', 'ünïcödé ✓', 'tab\there', 'two\nlines']
    const text = plistText({ name: 'x', argv: ['/bin/echo', ...hostile], env: { V: hostile.join(' ') }, domain: 'daemon', user: 'ana', restart: 'on-failure', logs: { stdout: '/tmp/o.log', stderr: '/tmp/e.log' } }, '/Users/ana')
    expect(text).not.toContain('<tag>')
    const back = plist.parse(text) as Record<string, unknown>
    expect(back.ProgramArguments).toEqual(['/bin/echo', ...hostile])
    expect(back).toMatchObject({ UserName: 'ana', KeepAlive: { SuccessfulExit: false }, StandardOutPath: '/tmp/o.log', StandardErrorPath: '/tmp/e.log', EnvironmentVariables: { V: hostile.join(' ') } })
    expect((plist.parse(plistText({ name: 'x', argv: ['/bin/true'], restart: 'no' }, '/Users/ana')) as Record<string, unknown>).KeepAlive).toBe(false)
    // The check can fail: a plist cut short is refused by the parser.
    expect(() => plist.parse(text.slice(0, -20))).toThrow()
  })

  it('a plist that is not the XML statecraft writes is named as such in the change', () => {
    const d = serviceType.validate(WEB, macFacts)
    const c = serviceType.parse(mac({ text: 'bplist00\u0000garbage', print: printRunning() }), d)
    expect(serviceType.diff(d, c).map((ch) => ch.text)).toEqual([`plist differs: not the XML plist statecraft writes (${AGENT})`, `reload gui/501/${LABEL}: its plist changed (bootout, bootstrap)`])
  })
})

describe('launchctl print', () => {
  it('gives the top-level state, pid, path and last exit code, not the nested ones', () => {
    const p = parseLaunchctlPrint(printRunning(4242))
    expect(p).toMatchObject({ state: 'running', pid: '4242', path: AGENT, 'last exit code': '(never exited)', type: 'LaunchAgent' })
    // `state = active` inside the resource coalition block is not the job's state.
    expect(parseLaunchctlPrint(printRunning(0, 'not running', '1')).state).toBe('not running')
  })

  it('the launchd probe passes shellcheck (agents and daemons, hostile values)', () => {
    const samples = ['a b', "it's", '$(id)', '`id`'].flatMap((v) => [
      { desired: { name: 'com.x', argv: ['/bin/sh', v], cwd: `/tmp/${v}`, env: { V: v } } },
      { desired: { name: 'com.x', argv: ['/bin/sh', v], domain: 'daemon', user: 'ana', logs: { stdout: `/tmp/${v}.log` } } },
    ])
    const r = lintPosix([{ type: serviceType, samples }], macFacts)
    expect(r.out).toBe('')
    expect(r.code).toBe(0)
  })
})
