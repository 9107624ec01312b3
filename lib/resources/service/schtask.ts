import type { ProbeData, Step } from '../../core/types.ts'
import { decodeHex } from '../../shell/protocol.ts'
import { psScriptStep } from '../../shell/powershell/lib.ts'
import { msvcrtEscape, psQuote, psStep } from '../../shell/powershell/quote.ts'
import type { ServiceChange, ServiceCurrent, ServiceOptions } from './types.ts'

/**
 * Windows: a scheduled task under \statecraft\, triggered at the user's logon, restarted on
 * failure, with no time limit. It runs as S4U (whether or not the user is logged on, no stored
 * password), so it can be started now from an SSH session that has no desktop. Compared field
 * by field with what Get-ScheduledTask reads back.
 */

export const TASK_PATH = '\\statecraft\\'
/** TASK_LOGON_TYPE: S4U. */
const S4U = 2
const RESTART_COUNT = 999

/** One argument on a Windows command line, as CommandLineToArgvW and the MSVC runtime split it. */
export function winArg(s: string): string {
  return s !== '' && !/[\s"]/.test(s) ? s : `"${msvcrtEscape(s, true)}"`
}

/** The task's fields as Get-ScheduledTask reads them back (null where Windows has none). */
export interface TaskFields {
  Execute: string
  Arguments: string | null
  WorkingDirectory: string | null
  UserId: string
  LogonType: number
  Trigger: string
  RestartCount: number
  RestartInterval: string | null
  ExecutionTimeLimit: string
  Description: string
}

/**
 * Environment variables have no place in a task's action: the program then runs under a
 * Windows PowerShell whose script (encoded, so no quoting can break it) sets them first.
 */
export function taskFields(d: ServiceOptions): TaskFields {
  const user = d.resolved?.user as string
  let execute = d.argv[0] as string
  let args = d.argv.slice(1).map(winArg).join(' ')
  if (d.env && Object.keys(d.env).length > 0) {
    const script = psStep({ argv: d.argv, env: d.env })
    execute = 'powershell.exe'
    args = `-NoProfile -NonInteractive -ExecutionPolicy Bypass -WindowStyle Hidden -EncodedCommand ${Buffer.from(script, 'utf16le').toString('base64')}`
  }
  const restart = (d.restart ?? 'always') !== 'no'
  return {
    Execute: execute,
    Arguments: args === '' ? null : args,
    WorkingDirectory: d.cwd ?? null,
    UserId: user,
    LogonType: S4U,
    Trigger: `MSFT_TaskLogonTrigger|${user}`,
    RestartCount: restart ? RESTART_COUNT : 0,
    RestartInterval: restart ? 'PT1M' : null,
    ExecutionTimeLimit: 'PT0S',
    Description: d.description ?? `statecraft service ${d.name}`,
  }
}

export function schtaskProbe(d: ServiceOptions): string {
  const sel = `-TaskPath ${psQuote(TASK_PATH)} -TaskName ${psQuote(d.name)}`
  return `$ErrorActionPreference = 'Continue'
$t = Get-ScheduledTask ${sel} -ErrorAction SilentlyContinue
if ($t) {
  'task=1'
  Sc-KvHex 'json' ($t | Select-Object -Property @('TaskName', 'TaskPath', 'State', 'Description', 'Actions', 'Triggers', 'Principal', 'Settings') | ConvertTo-Json -Depth 3 -Compress)
  Sc-KvHex 'triggers' (@($t.Triggers | ForEach-Object { $_.CimClass.CimClassName + '|' + $_.UserId }) -join [char]10)
  Sc-KvHex 'info' (Get-ScheduledTaskInfo -InputObject $t | Select-Object -Property @('LastRunTime', 'LastTaskResult', 'NextRunTime', 'NumberOfMissedRuns', 'TaskName', 'TaskPath') | ConvertTo-Json -Compress)
} else { 'task=0' }`
}

type Json = Record<string, unknown>
const first = (x: unknown): Json => ((Array.isArray(x) ? x[0] : x) ?? {}) as Json
const str = (x: unknown): string | null => (typeof x === 'string' && x !== '' ? x : null)
/** `GAMING-PC\ana` and `ana` are the same account; Windows names ignore case. */
const account = (s: string): string => s.replace(/^.*\\/, '').toLowerCase()

/** The fields of the registered task, read from Get-ScheduledTask's JSON. */
export function readTask(json: Json, triggers: string): TaskFields {
  const a = first(json.Actions)
  const p = (json.Principal ?? {}) as Json
  const s = (json.Settings ?? {}) as Json
  return {
    Execute: String(a.Execute ?? ''),
    Arguments: str(a.Arguments),
    WorkingDirectory: str(a.WorkingDirectory),
    UserId: String(p.UserId ?? ''),
    LogonType: Number(p.LogonType),
    Trigger: triggers,
    RestartCount: Number(s.RestartCount ?? 0),
    RestartInterval: str(s.RestartInterval),
    ExecutionTimeLimit: String(s.ExecutionTimeLimit ?? ''),
    Description: String(json.Description ?? ''),
  }
}

/** Each trigger as `class|user`, its account compared as above. */
const triggers = (s: string): string => s.split('\n').map((t) => t.replace(/\|.*$/, (u) => `|${account(u.slice(1))}`)).join('\n')

const same = (k: keyof TaskFields, a: unknown, b: unknown): boolean =>
  k === 'UserId' ? account(String(a)) === account(String(b)) : k === 'Trigger' ? triggers(String(a)) === triggers(String(b)) : a === b

const show = (v: unknown): string => (typeof v === 'string' && v.length > 60 ? `${JSON.stringify(v.slice(0, 40))}…` : JSON.stringify(v))

export function schtaskParse(data: ProbeData, d: ServiceOptions): ServiceCurrent {
  if (data.get('task') !== '1') return { backend: 'schtask', props: {}, loaded: false, running: false, enabled: false }
  const json = JSON.parse(decodeHex(data.get('json'))) as Json
  const info = JSON.parse(decodeHex(data.get('info')) || '{}') as Json
  const have = readTask(json, decodeHex(data.get('triggers')))
  const want = taskFields(d)
  // A sensitive task's Arguments (its encoded environment) are not shown.
  const differs = (Object.keys(want) as (keyof TaskFields)[]).filter((k) => !same(k, have[k], want[k])).map((k) => (d.sensitive && k === 'Arguments' ? k : `${k} (${show(have[k])} -> ${show(want[k])})`))
  // MSFT_ScheduledTask State: 1 Disabled, 2 Queued, 3 Ready, 4 Running.
  const state = Number(json.State)
  const props: Record<string, string> = { State: String(state), LastTaskResult: String(info.LastTaskResult ?? '') }
  const settings = (json.Settings ?? {}) as Json
  return { backend: 'schtask', props, loaded: true, running: state === 4, enabled: state !== 1 && settings.Enabled !== false, taskDiffers: differs }
}

const STATE_NAMES: Record<string, string> = { '0': 'Unknown', '1': 'Disabled', '2': 'Queued', '3': 'Ready', '4': 'Running' }

export function schtaskDiff(d: ServiceOptions, c: ServiceCurrent): ServiceChange[] {
  const state = d.state ?? 'running'
  const task = `${TASK_PATH}${d.name}`
  const out: ServiceChange[] = []
  if (state === 'absent') {
    if (c.running) out.push({ op: 'stop', text: `stop scheduled task ${task} (running)` })
    if (c.loaded) out.push({ op: 'remove', text: `unregister scheduled task ${task}` })
    return out
  }
  if (d.sensitive && d.env && Object.keys(d.env).length > 0) {
    return [{ op: 'conflict', text: `define ${task}: its env holds a secret`, why: `service ${d.name}: env holds a secret, and a scheduled task has no environment of its own: the values would travel in the task's command line, which other processes can read. Put the secret in a file only ${d.resolved?.user} can read and let the program load it` }]
  }
  const differs = c.taskDiffers ?? []
  const wrote = !c.loaded || differs.length > 0
  if (!c.loaded) out.push({ op: 'write', text: `register scheduled task ${task} (at logon of ${d.resolved?.user}, restart on failure)` })
  else if (differs.length > 0) out.push({ op: 'write', text: `scheduled task differs: ${differs.join(', ')}` })
  if (state === 'stopped') {
    if (c.enabled) out.push({ op: 'disable', text: `disable scheduled task ${task}` })
    if (c.running) out.push({ op: 'stop', text: `stop scheduled task ${task} (running)` })
    return out
  }
  if (c.loaded && !c.enabled) out.push({ op: 'enable', text: `enable scheduled task ${task} (was disabled)` })
  const last = c.props.LastTaskResult ? `, last result ${c.props.LastTaskResult}` : ''
  if (!c.running) out.push({ op: 'start', text: `start scheduled task ${task} (${c.loaded ? `not running: ${STATE_NAMES[c.props.State as string] ?? c.props.State}${last}` : 'new'})` })
  else if (wrote) out.push({ op: 'restart', text: `restart scheduled task ${task}: its definition changed` })
  return out
}

function registerScript(d: ServiceOptions): string {
  const f = taskFields(d)
  const action = [`-Execute ${psQuote(f.Execute)}`, ...(f.Arguments ? [`-Argument ${psQuote(f.Arguments)}`] : []), ...(f.WorkingDirectory ? [`-WorkingDirectory ${psQuote(f.WorkingDirectory)}`] : [])]
  const restart = f.RestartCount > 0 ? ` -RestartCount ${f.RestartCount} -RestartInterval (New-TimeSpan -Minutes 1)` : ''
  return [
    `$a = New-ScheduledTaskAction ${action.join(' ')}`,
    `$tr = New-ScheduledTaskTrigger -AtLogOn -User ${psQuote(f.UserId)}`,
    `$s = New-ScheduledTaskSettingsSet -ExecutionTimeLimit ([TimeSpan]::Zero) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -MultipleInstances IgnoreNew${restart}`,
    `$p = New-ScheduledTaskPrincipal -UserId ${psQuote(f.UserId)} -LogonType S4U -RunLevel Limited`,
    `$null = Register-ScheduledTask -TaskPath ${psQuote(TASK_PATH)} -TaskName ${psQuote(d.name)} -Action $a -Trigger $tr -Settings $s -Principal $p -Description ${psQuote(f.Description)} -Force`,
  ].join('\n')
}

export function schtaskApply(d: ServiceOptions, _c: ServiceCurrent, changes: ServiceChange[]): Step[] {
  const ops = new Set(changes.map((ch) => ch.op))
  const sel = `-TaskPath ${psQuote(TASK_PATH)} -TaskName ${psQuote(d.name)}`
  const task = `${TASK_PATH}${d.name}`
  const steps: Step[] = []
  const stop = ops.has('stop') || (ops.has('restart') && !(d.state === 'stopped' || d.state === 'absent'))
  if (stop) steps.push(psScriptStep(`stop scheduled task ${task}`, `Stop-ScheduledTask ${sel}`))
  if (ops.has('remove')) steps.push(psScriptStep(`unregister scheduled task ${task}`, `Unregister-ScheduledTask ${sel} -Confirm:$false`))
  if (ops.has('write')) steps.push(psScriptStep(`register scheduled task ${task}`, registerScript(d)))
  if (ops.has('disable')) steps.push(psScriptStep(`disable scheduled task ${task}`, `$null = Disable-ScheduledTask ${sel}`))
  if (ops.has('enable')) steps.push(psScriptStep(`enable scheduled task ${task}`, `$null = Enable-ScheduledTask ${sel}`))
  if (ops.has('start') || (ops.has('restart') && stop)) {
    // Started, then watched until Windows reports it running, so the verification reads a settled state.
    steps.push(
      psScriptStep(
        `start scheduled task ${task}`,
        `Start-ScheduledTask ${sel}\n$i = 0\nwhile ((Get-ScheduledTask ${sel}).State -ne 'Running' -and $i -lt 50) { Start-Sleep -Milliseconds 200; $i++ }`,
      ),
    )
  }
  return steps
}
