import { describe, expect, it } from 'vitest'
import { psQuote } from '../../../lib/shell/powershell/quote.ts'
import { taskFields, winArg } from '../../../lib/resources/service/schtask.ts'
import { serviceType } from '../../../lib/resources/service/service.ts'
import type { ServiceOptions } from '../../../lib/resources/service/types.ts'
import { probe, psHex, windowsFacts } from '../../helpers/facts.ts'
import { HOSTILE } from '../../helpers/hostile.ts'
import { psSyntaxError } from '../../helpers/lint.ts'
import { psScriptOf, runCase, type Case } from '../../helpers/table.ts'
import { msvcrtSplit } from '../../helpers/windows-argv.ts'

const PY = 'C:\\Users\\ana\\invokeai\\.venv\\Scripts\\python.exe'
const WEB: ServiceOptions = { name: 'invokeai', argv: [PY, 'scripts\\invoke.py', '--web'], cwd: 'C:\\Users\\ana\\invokeai' }
const SEL = "-TaskPath '\\statecraft\\' -TaskName 'invokeai'"

/** A CIM instance's bookkeeping as ConvertTo-Json -Depth 3 writes it (nested deeper than 3: strings). */
const cim = (cls: string, props: string[]) => ({
  CimClass: { CimSuperClassName: null, CimSuperClass: null, CimClassProperties: props.join(' '), CimClassQualifiers: 'dynamic', CimClassMethods: '', CimSystemProperties: 'Microsoft.Management.Infrastructure.CimSystemProperties' },
  CimInstanceProperties: props,
  CimSystemProperties: { Namespace: 'Root/Microsoft/Windows/TaskScheduler', ServerName: 'GAMING-PC', ClassName: cls, Path: null },
})

/**
 * `Get-ScheduledTask -TaskPath '\statecraft\' -TaskName invokeai | Select-Object … | ConvertTo-Json
 * -Depth 3 -Compress` on Windows PowerShell 5.1: State and LogonType are enum numbers, durations
 * ISO 8601 strings, missing values null.
 */
function taskJson(o: { state?: number; args?: string | null; user?: string; logon?: number; restartCount?: number; enabled?: boolean } = {}): string {
  const task = {
    TaskName: 'invokeai',
    TaskPath: '\\statecraft\\',
    State: o.state ?? 4,
    Description: 'statecraft service invokeai',
    Actions: [{ Id: null, Arguments: o.args === undefined ? 'scripts\\invoke.py --web' : o.args, Execute: PY, WorkingDirectory: 'C:\\Users\\ana\\invokeai', PSComputerName: null, ...cim('MSFT_TaskExecAction', ['Id', 'Arguments', 'Execute', 'WorkingDirectory']) }],
    Triggers: [{ Enabled: true, EndBoundary: null, ExecutionTimeLimit: null, Id: null, Repetition: 'MSFT_TaskRepetitionPattern', StartBoundary: null, Delay: null, UserId: o.user ?? 'ana', PSComputerName: null, ...cim('MSFT_TaskLogonTrigger', ['Enabled', 'EndBoundary', 'ExecutionTimeLimit', 'Id', 'Repetition', 'StartBoundary', 'Delay', 'UserId']) }],
    Principal: { DisplayName: null, GroupId: null, Id: 'Author', LogonType: o.logon ?? 2, RunLevel: 0, UserId: o.user ?? 'ana', ProcessTokenSidType: 2, RequiredPrivilege: null, PSComputerName: null, ...cim('MSFT_TaskPrincipal2', ['DisplayName', 'GroupId', 'Id', 'LogonType', 'RunLevel', 'UserId', 'ProcessTokenSidType', 'RequiredPrivilege']) },
    Settings: {
      AllowDemandStart: true, AllowHardTerminate: true, Compatibility: 3, DeleteExpiredTaskAfter: null, DisallowStartIfOnBatteries: false, Enabled: o.enabled ?? true, ExecutionTimeLimit: 'PT0S', Hidden: false,
      IdleSettings: 'MSFT_TaskIdleSettings', MultipleInstances: 2, NetworkSettings: 'MSFT_TaskNetworkSettings', Priority: 7, RestartCount: o.restartCount ?? 999, RestartInterval: 'PT1M', RunOnlyIfIdle: false,
      RunOnlyIfNetworkAvailable: false, StartWhenAvailable: false, StopIfGoingOnBatteries: false, WakeToRun: false, DisallowStartOnRemoteAppSession: false, UseUnifiedSchedulingEngine: true, MaintenanceSettings: null, volatile: false, PSComputerName: null,
      ...cim('MSFT_TaskSettings3', ['AllowDemandStart', 'Enabled', 'ExecutionTimeLimit', 'RestartCount', 'RestartInterval']),
    },
  }
  return JSON.stringify(task)
}
/** `Get-ScheduledTaskInfo | Select-Object … | ConvertTo-Json -Compress`: 267009 (0x41301) is "running", 1 an exit code. */
const info = (result: number): string => JSON.stringify({ LastRunTime: '/Date(1796539800000)/', LastTaskResult: result, NextRunTime: null, NumberOfMissedRuns: 0, TaskName: 'invokeai', TaskPath: '\\statecraft\\' })

const win = (json: string, result = 267009, user = 'ana') => probe({ task: '1', json: psHex(json), triggers: psHex(`MSFT_TaskLogonTrigger|${user}`), info: psHex(info(result)) })
const ABSENT = probe({ task: '0', json: undefined, triggers: undefined, info: undefined })
const START = `Start-ScheduledTask ${SEL}\n$i = 0\nwhile ((Get-ScheduledTask ${SEL}).State -ne 'Running' -and $i -lt 50) { Start-Sleep -Milliseconds 200; $i++ }`
const register = (args: string): string => `$a = New-ScheduledTaskAction -Execute ${psQuote(PY)} -Argument ${psQuote(args)} -WorkingDirectory 'C:\\Users\\ana\\invokeai'
$tr = New-ScheduledTaskTrigger -AtLogOn -User 'ana'
$s = New-ScheduledTaskSettingsSet -ExecutionTimeLimit ([TimeSpan]::Zero) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -MultipleInstances IgnoreNew -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1)
$p = New-ScheduledTaskPrincipal -UserId 'ana' -LogonType S4U -RunLevel Limited
$null = Register-ScheduledTask ${SEL} -Action $a -Trigger $tr -Settings $s -Principal $p -Description 'statecraft service invokeai' -Force`

const cases: Case<ServiceOptions>[] = [
  {
    name: 'no task: registered at logon of ana with restart on failure, then started',
    facts: windowsFacts,
    desired: WEB,
    current: ABSENT,
    changes: ['register scheduled task \\statecraft\\invokeai (at logon of ana, restart on failure)', 'start scheduled task \\statecraft\\invokeai (new)'],
    steps: [register('scripts\\invoke.py --web'), START],
  },
  { name: 'converged: same fields, State 4 (Running)', facts: windowsFacts, desired: WEB, current: win(taskJson()), changes: [] },
  { name: 'converged when Windows names the account GAMING-PC\\ana', facts: windowsFacts, desired: WEB, current: win(taskJson({ user: 'GAMING-PC\\ana' }), 267009, 'GAMING-PC\\ana'), changes: [] },
  {
    name: 'arguments changed while it runs: the plan names the field, old and new; stopped, registered again, started',
    facts: windowsFacts,
    desired: { ...WEB, argv: [...WEB.argv, '--port', '9090'] },
    current: win(taskJson()),
    changes: ['scheduled task differs: Arguments ("scripts\\\\invoke.py --web" -> "scripts\\\\invoke.py --web --port 9090")', 'restart scheduled task \\statecraft\\invokeai: its definition changed'],
    steps: [`Stop-ScheduledTask ${SEL}`, register('scripts\\invoke.py --web --port 9090'), START],
  },
  {
    name: 'registered as Interactive by hand, no restart: both named',
    facts: windowsFacts,
    desired: WEB,
    current: win(taskJson({ state: 3, logon: 3, restartCount: 0 }), 1),
    changes: ['scheduled task differs: LogonType (3 -> 2), RestartCount (0 -> 999)', 'start scheduled task \\statecraft\\invokeai (not running: Ready, last result 1)'],
    steps: [register('scripts\\invoke.py --web'), START],
  },
  {
    name: 'a boot trigger instead of the logon one: named, registered again',
    facts: windowsFacts,
    desired: WEB,
    current: probe({ task: '1', json: psHex(taskJson()), triggers: psHex('MSFT_TaskBootTrigger|'), info: psHex(info(267009)) }),
    changes: ['scheduled task differs: Trigger ("MSFT_TaskBootTrigger|" -> "MSFT_TaskLogonTrigger|ana")', 'restart scheduled task \\statecraft\\invokeai: its definition changed'],
    steps: [`Stop-ScheduledTask ${SEL}`, register('scripts\\invoke.py --web'), START],
  },
  {
    name: 'State 1 (Disabled): enabled, then started',
    facts: windowsFacts,
    desired: WEB,
    current: win(taskJson({ state: 1, enabled: false }), 267011),
    changes: ['enable scheduled task \\statecraft\\invokeai (was disabled)', 'start scheduled task \\statecraft\\invokeai (not running: Disabled, last result 267011)'],
    steps: [`$null = Enable-ScheduledTask ${SEL}`, START],
  },
  {
    name: "state 'stopped': disabled and stopped",
    facts: windowsFacts,
    desired: { ...WEB, state: 'stopped' },
    current: win(taskJson()),
    changes: ['disable scheduled task \\statecraft\\invokeai', 'stop scheduled task \\statecraft\\invokeai (running)'],
    steps: [`Stop-ScheduledTask ${SEL}`, `$null = Disable-ScheduledTask ${SEL}`],
  },
  {
    name: "state 'absent': stopped and unregistered",
    facts: windowsFacts,
    desired: { ...WEB, state: 'absent' },
    current: win(taskJson()),
    changes: ['stop scheduled task \\statecraft\\invokeai (running)', 'unregister scheduled task \\statecraft\\invokeai'],
    steps: [`Stop-ScheduledTask ${SEL}`, `Unregister-ScheduledTask ${SEL} -Confirm:$false`],
  },
  {
    name: 'env holding a secret: refused, the value never in a command line',
    facts: windowsFacts,
    desired: { ...WEB, env: { HF_TOKEN: 'hf_secret_123' }, sensitive: true },
    current: ABSENT,
    changes: ['define \\statecraft\\invokeai: its env holds a secret'],
    applyError: /env holds a secret, and a scheduled task has no environment of its own: the values would travel in the task's command line/,
  },
  { name: "state 'absent', no task: converged", facts: windowsFacts, desired: { ...WEB, state: 'absent' }, current: ABSENT, changes: [] },
]

describe('service table: Windows scheduled task', () => {
  for (const c of cases) it(c.name, () => runCase(serviceType, c))
})

describe('scheduled task definition', () => {
  it('arguments survive the Windows command line split (MSVCRT rules), hostile ones included', () => {
    const args = HOSTILE.filter((h) => !h.includes('\n'))
    expect(msvcrtSplit(args.map(winArg).join(' '))).toEqual(args)
    expect(winArg('plain')).toBe('plain')
    expect(winArg('C:\\Program Files\\x\\')).toBe('"C:\\Program Files\\x\\\\"')
  })

  it('environment variables: the program runs under an encoded PowerShell script that sets them first', () => {
    const d = serviceType.validate({ ...WEB, env: { PYTORCH_ENABLE_MPS_FALLBACK: '1', Q: "it's $x" } }, windowsFacts)
    const f = taskFields(d)
    expect(f.Execute).toBe('powershell.exe')
    const b64 = /-EncodedCommand (\S+)$/.exec(f.Arguments ?? '')?.[1] as string
    const script = Buffer.from(b64, 'base64').toString('utf16le')
    expect(script).toBe(`$env:PYTORCH_ENABLE_MPS_FALLBACK = '1'\n$env:Q = 'it''s $x'\n& ${psQuote(PY)} 'scripts\\invoke.py' '--web'\nexit $LASTEXITCODE`)
    expect(psSyntaxError(script)).toBe('')
  })

  it('every probe and step script parses with the PowerShell grammar, with hostile values', () => {
    const errors: string[] = []
    for (const v of HOSTILE.filter((h) => h !== '')) {
      const d = serviceType.validate({ name: 'x', argv: [`C:\\bin\\${v}.exe`, v], cwd: `C:\\${v}`, env: { V: v }, description: v, user: 'ana' }, windowsFacts)
      errors.push(psSyntaxError(serviceType.probe(d, windowsFacts)))
      for (const cur of [ABSENT, win(taskJson())]) {
        const c = serviceType.parse(cur, d)
        for (const st of serviceType.apply(d, c, serviceType.diff(d, c), windowsFacts)) errors.push(psSyntaxError(psScriptOf(st)))
      }
    }
    expect(errors.filter((e) => e !== '')).toEqual([])
    // The check can fail.
    expect(psSyntaxError("Register-ScheduledTask -TaskName 'x' -Action (")).not.toBe('')
  })
})
