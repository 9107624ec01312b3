import type { Step } from '../../core/types.ts'
import { psQuote } from '../../shell/powershell/quote.ts'

/**
 * winget over SSH, with the way out when it fails for want of the user's logon session.
 *
 * winget is an App Installer (MSIX) app tied to the user's desktop logon: in a non-interactive
 * OpenSSH session it often fails ("no logon session", Access is denied, 0x8A15000F). The step then
 * runs the same winget command again as a one-shot scheduled task in the user's interactive
 * session (principal: this user, LogonType Interactive, highest run level), waits for it, and
 * reads its output and exit code back from files in a private temp folder. The task is removed in
 * a `finally`, also when the wait fails; tasks a killed run left behind (not running) are removed
 * by the next fallback. The step prints which route ran (`statecraft-route=…`): the report's
 * details carry it.
 *
 * Chosen over vendors' silent installers because it works for every winget id, not only for those
 * a pinned table would know; it needs the user to be logged on (console or RDP, a disconnected
 * session counts), which the step says plainly when the task cannot start.
 */

/** How winget fails without the user's interactive logon: its messages and codes. */
export const NO_LOGON = /logon session|Access is denied|0x80070005|0x8A15000F/i
/** 0x8A15000F (APPINSTALLER_CLI_ERROR_NO_SOURCES... as winget reports it over SSH) and 0x80070005 (E_ACCESSDENIED). */
export const NO_LOGON_CODES = new Set([0x8a15000f, 0x80070005])
/** The same codes as PowerShell 5.1 shows $LASTEXITCODE: signed 32-bit. */
const SIGNED = [...NO_LOGON_CODES].map((c) => c | 0)

/** Task Scheduler's SCHED_S_TASK_HAS_NOT_RUN: an Interactive task whose user is not logged on never starts. */
export const TASK_HAS_NOT_RUN = 267011

export const ROUTE_WINGET = 'winget'
export const ROUTE_TASK = 'scheduled task in the user\'s interactive session'

/** Seconds the task may stay silent before the step stops it: under the step's own idle bound, so cleanup runs first. */
const waitBound = (idleSeconds: number): number => Math.max(30, idleSeconds - 15)

/** The script the task runs: winget, its output (streams as text) and exit code into files beside it. */
function innerScript(exe: string, args: string[]): string {
  return [
    "$ErrorActionPreference = 'Continue'",
    `& ${psQuote(exe)} ${args.map(psQuote).join(' ')} 2>&1 | ForEach-Object { "$_" } | Out-File -LiteralPath (Join-Path $PSScriptRoot 'output.txt') -Encoding utf8`,
    "Set-Content -LiteralPath (Join-Path $PSScriptRoot 'exit.txt') -Value $LASTEXITCODE",
  ].join('\n')
}

/**
 * Prints what the task's winget wrote since `$sc_seen` bytes: its progress keeps the step's idle
 * bound from firing while it works. The file is open for writing in the task: share it. Inline,
 * not a function: a function could not update the loop's variables without scope modifiers.
 */
const DRAIN = [
  'if (Test-Path -LiteralPath $sc_log) {',
  '  try {',
  '    $sc_fs = New-Object IO.FileStream($sc_log, [IO.FileMode]::Open, [IO.FileAccess]::Read, [IO.FileShare]::ReadWrite)',
  '    try {',
  '      if ($sc_fs.Length -gt $sc_seen) {',
  '        $null = $sc_fs.Seek($sc_seen, [IO.SeekOrigin]::Begin)',
  '        $sc_buf = New-Object byte[] ($sc_fs.Length - $sc_seen)',
  '        $sc_n = $sc_fs.Read($sc_buf, 0, $sc_buf.Length)',
  '        $sc_seen += $sc_n',
  '        $sc_quiet = Get-Date',
  '        [Console]::Out.Write([Text.Encoding]::UTF8.GetString($sc_buf, 0, $sc_n))',
  '      }',
  '    } finally { $sc_fs.Dispose() }',
  '  } catch { }',
  '}',
].map((l) => `    ${l}`)

/** The PowerShell for one winget command (`argv[0]` is winget's path), with the scheduled-task route. */
export function wingetScript(argv: string[], idleSeconds: number): string {
  const [exe, ...args] = argv as [string, ...string[]]
  const bound = waitBound(idleSeconds)
  return [
    "$ErrorActionPreference = 'Continue'",
    // Shown as it comes (winget's progress keeps the step's idle bound from firing) and kept for the checks below.
    `$sc_out = & ${psQuote(exe)} ${args.map(psQuote).join(' ')} 2>&1 | ForEach-Object { $sc_l = "$_"; [Console]::Out.WriteLine($sc_l); $sc_l } | Out-String`,
    '$sc_rc = $LASTEXITCODE',
    `if (-not ($sc_rc -in @(${SIGNED.join(', ')}) -or $sc_out -match ${psQuote(NO_LOGON.source)})) {`,
    // Failed: its words on stderr too, where the step's error message is taken from.
    "  if ($sc_rc -ne 0) { [Console]::Error.Write($sc_out) }",
    `  'statecraft-route=${ROUTE_WINGET}'`,
    '  exit $sc_rc',
    '}',
    // Only the route line on stderr from here: winget's first words would read as the final failure.
    `[Console]::Error.WriteLine('statecraft-route: winget exited ' + $sc_rc + ' for want of a logon session; running it as a scheduled task in the user''s interactive session')`,
    "Get-ScheduledTask -TaskName 'statecraft-winget-*' -ErrorAction SilentlyContinue | Where-Object { $_.State -ne 'Running' } | Unregister-ScheduledTask -Confirm:$false -ErrorAction SilentlyContinue",
    "$sc_name = 'statecraft-winget-' + [guid]::NewGuid().ToString('N')",
    '$sc_dir = Join-Path ([IO.Path]::GetTempPath()) $sc_name',
    '$null = New-Item -ItemType Directory -Path $sc_dir -ErrorAction Stop',
    "$sc_log = Join-Path $sc_dir 'output.txt'",
    "$sc_rcf = Join-Path $sc_dir 'exit.txt'",
    "$sc_ps1 = Join-Path $sc_dir 'run.ps1'",
    `[IO.File]::WriteAllText($sc_ps1, ${psQuote(innerScript(exe, args))}, (New-Object Text.UTF8Encoding $true))`,
    '$sc_seen = 0',
    '$sc_quiet = Get-Date',
    '$sc_code = 1',
    'try {',
    '  $sc_user = [Security.Principal.WindowsIdentity]::GetCurrent().Name',
    "  $sc_action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument ('-NoProfile -NonInteractive -ExecutionPolicy Bypass -WindowStyle Hidden -File \"' + $sc_ps1 + '\"')",
    '  $sc_principal = New-ScheduledTaskPrincipal -UserId $sc_user -LogonType Interactive -RunLevel Highest',
    '  $sc_settings = New-ScheduledTaskSettingsSet -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries',
    '  try {',
    '    $null = Register-ScheduledTask -TaskName $sc_name -Action $sc_action -Principal $sc_principal -Settings $sc_settings -ErrorAction Stop',
    '    Start-ScheduledTask -TaskName $sc_name -ErrorAction Stop',
    '  } catch {',
    "    [Console]::Error.WriteLine('statecraft-fallback: register-failed ' + $_.Exception.Message)",
    '    exit 1',
    '  }',
    '  $sc_t0 = Get-Date',
    '  while ($true) {',
    '    Start-Sleep -Seconds 1',
    // The exit code is written after winget's last output: once it is there, read the rest, then stop.
    '    $sc_done = Test-Path -LiteralPath $sc_rcf',
    '    if ($sc_done) { Start-Sleep -Milliseconds 300 }',
    ...DRAIN,
    '    if ($sc_done) {',
    '      $sc_code = [int]((Get-Content -LiteralPath $sc_rcf | Select-Object -First 1).Trim())',
    '      break',
    '    }',
    '    $sc_task = Get-ScheduledTask -TaskName $sc_name -ErrorAction SilentlyContinue',
    '    $sc_info = Get-ScheduledTaskInfo -TaskName $sc_name -ErrorAction SilentlyContinue',
    "    if ($sc_task -and $sc_task.State -ne 'Running' -and ((Get-Date) - $sc_t0).TotalSeconds -ge 10) {",
    `      if ($sc_info.LastTaskResult -eq ${TASK_HAS_NOT_RUN}) { [Console]::Error.WriteLine('statecraft-fallback: no-session ' + $sc_user) }`,
    "      else { [Console]::Error.WriteLine('statecraft-fallback: ended ' + $sc_info.LastTaskResult) }",
    '      exit 1',
    '    }',
    `    if (((Get-Date) - $sc_quiet).TotalSeconds -ge ${bound}) {`,
    `      [Console]::Error.WriteLine('statecraft-fallback: timeout ${bound}')`,
    '      exit 1',
    '    }',
    '  }',
    `  '${'statecraft-route='}${ROUTE_TASK.replaceAll("'", "''")}'`,
    '  if ($sc_code -ne 0) { [Console]::Error.Write([IO.File]::ReadAllText($sc_log)) }',
    '  exit $sc_code',
    '} finally {',
    '  Stop-ScheduledTask -TaskName $sc_name -ErrorAction SilentlyContinue',
    '  Unregister-ScheduledTask -TaskName $sc_name -Confirm:$false -ErrorAction SilentlyContinue',
    '  Remove-Item -LiteralPath $sc_dir -Recurse -Force -ErrorAction SilentlyContinue',
    '}',
  ].join('\n')
}

/** The route the step printed, for the report's details. */
export function routeOf(stdout: string): Record<string, string> {
  const m = /^statecraft-route=(.+?)\r?$/m.exec(stdout)
  return m ? { route: m[1] as string } : {}
}

/** The winget step: the argv for logs and plans, the script with its fallback for the host. */
export function wingetStep(argv: string[], idleSeconds: number, explain: Step['explain']): Step {
  return { argv, psScript: wingetScript(argv, idleSeconds), idleTimeout: idleSeconds * 1000, details: routeOf, ...(explain ? { explain } : {}) }
}
