import { describe, expect, it } from 'vitest'
import { converge, defineRecipe, pkg } from '../../../lib/index.ts'
import { explainWinget } from '../../../lib/resources/pkg/powershell.ts'
import { ROUTE_TASK, routeOf, wingetScript } from '../../../lib/resources/pkg/winget-task.ts'
import { PS_PRELUDE } from '../../../lib/shell/powershell/quote.ts'
import type { ExecResult } from '../../../lib/transport/types.ts'
import { psSyntaxError } from '../../helpers/lint.ts'
import { decodePs, ReplayedWindows, WINGET_PATH } from '../../helpers/windows-host.ts'

/**
 * winget's way out of an SSH session without the user's logon: the same command as a scheduled
 * task in the user's interactive session. Windows cannot run here: the script is checked for its
 * parts and parsed with the PowerShell grammar, and a replayed Windows host answers it through the
 * engine with what the script prints there (winget's lines, CRLF; the route; the markers).
 */
const WG = 'C:\\Program Files\\WindowsApps\\Microsoft.DesktopAppInstaller_1.22.10582.0_x64__8wekyb3d8bbwe\\winget.exe'
const ARGS = ['install', '--exact', '--id', 'Git.Git', '--version', '2.43.0', '--silent', '--accept-package-agreements', '--accept-source-agreements', '--disable-interactivity']

/** What the script writes on stderr when winget fails for want of a logon session (0x8A15000F). */
const ROUTE_LINE = "statecraft-route: winget exited -1978335217 for want of a logon session; running it as a scheduled task in the user's interactive session\r\n"
/** The first try in the SSH session, shown as it came (0x8A15000F: APPINSTALLER_CLI_ERROR_SOURCE_DATA_MISSING). */
const FIRST_TRY = 'Failed in attempting to update the source: winget\r\nAn unexpected error occurred while executing the command:\r\n0x8a15000f : Data required by the source is missing\r\n'
/** winget install as it prints in the task's log (the spinner's lines are dropped by "$_" per line). */
const INSTALLED =
  'Found Git [Git.Git] Version 2.43.0\r\nThis application is licensed to you by its owner.\r\nMicrosoft is not responsible for, nor does it grant any licenses to, third-party packages.\r\n' +
  'Downloading https://github.com/git-for-windows/git/releases/download/v2.43.0.windows.1/Git-2.43.0-64-bit.exe\r\nSuccessfully verified installer hash\r\nStarting package install...\r\nSuccessfully installed\r\n'

describe('the winget step script', () => {
  const script = wingetScript([WG, ...ARGS], 1800)

  it('runs winget as is first, and falls back only on the logon-session failures (codes as PowerShell 5.1 shows them, signed)', () => {
    const lines = script.split('\n')
    expect(lines[1]).toBe(`$sc_out = & '${WG}' ${ARGS.map((a) => `'${a}'`).join(' ')} 2>&1 | ForEach-Object { $sc_l = "$_"; [Console]::Out.WriteLine($sc_l); $sc_l } | Out-String`)
    // 0x8A15000F and 0x80070005 as signed 32-bit $LASTEXITCODE values.
    expect(script).toContain("if (-not ($sc_rc -in @(-1978335217, -2147024891) -or $sc_out -match 'logon session|Access is denied|0x80070005|0x8A15000F')) {")
    expect(script).toContain("'statecraft-route=winget'\n  exit $sc_rc")
  })

  it('registers a one-shot task for this user, LogonType Interactive, runs it, and removes it in a finally', () => {
    expect(script).toContain('New-ScheduledTaskPrincipal -UserId $sc_user -LogonType Interactive -RunLevel Highest')
    expect(script).toContain('$sc_user = [Security.Principal.WindowsIdentity]::GetCurrent().Name')
    expect(script).toMatch(/Register-ScheduledTask -TaskName \$sc_name [^\n]*-ErrorAction Stop\n\s+Start-ScheduledTask -TaskName \$sc_name/)
    expect(script).toMatch(/\} finally \{\n\s+Stop-ScheduledTask -TaskName \$sc_name[^\n]*\n\s+Unregister-ScheduledTask -TaskName \$sc_name -Confirm:\$false[^\n]*\n\s+Remove-Item -LiteralPath \$sc_dir -Recurse -Force/)
    // Leftovers of a killed run that are not running any more go first.
    expect(script).toContain("Get-ScheduledTask -TaskName 'statecraft-winget-*' -ErrorAction SilentlyContinue | Where-Object { $_.State -ne 'Running' } | Unregister-ScheduledTask")
    // Output and exit code come back through files beside the task's script.
    expect(script).toContain("Out-File -LiteralPath (Join-Path $PSScriptRoot ''output.txt'') -Encoding utf8")
    expect(script).toContain("Set-Content -LiteralPath (Join-Path $PSScriptRoot ''exit.txt'') -Value $LASTEXITCODE")
  })

  it('bounds the wait by the step\'s idle bound, less a margin so that its cleanup runs first; says when the user has no session', () => {
    expect(script).toContain('-ge 1785) {')
    expect(wingetScript([WG, ...ARGS], 30)).toContain('-ge 30) {')
    expect(script).toContain("if ($sc_info.LastTaskResult -eq 267011) { [Console]::Error.WriteLine('statecraft-fallback: no-session ' + $sc_user) }")
  })

  it('parses with the PowerShell grammar, also with hostile words; a broken copy does not', () => {
    for (const v of ["it's", '$(Remove-Item C:\\)', 'a`b"c', 'ü ß\u2019x']) {
      const s = wingetScript([`C:\\odd ${v}\\winget.exe`, 'install', '--id', v], 1800)
      expect(psSyntaxError(`${PS_PRELUDE}\n${s}`)).toBe('')
    }
    expect(wingetScript([WG, 'install', '--id', "it's"], 1800)).toContain("'it''s' 2>&1")
    expect(psSyntaxError(`${PS_PRELUDE}\n${script.replace('} finally {', 'finally {')}`)).not.toBe('')
  })

  it('reads the route the script printed, CRLF or not', () => {
    expect(routeOf(`${INSTALLED}statecraft-route=${ROUTE_TASK}\r\n`)).toEqual({ route: ROUTE_TASK })
    expect(routeOf('Successfully installed\nstatecraft-route=winget\n')).toEqual({ route: 'winget' })
    expect(routeOf('Successfully installed\r\n')).toEqual({})
  })
})

describe('explaining a winget step after the fallback', () => {
  const first = /^pkg: winget failed for want of a logon session over SSH, and statecraft ran it again as a scheduled task in the user's interactive session/
  it('the user has no interactive session: the task never started', () => {
    const m = explainWinget({ code: 1, stderr: `${ROUTE_LINE}statecraft-fallback: no-session GAMING-PC\\ana\r\n` })
    expect(m).toMatch(first)
    expect(m).toMatch(/which did not start: GAMING-PC\\ana has no interactive logon session on the host .* Log on as that user at the console or over RDP/)
  })
  it("the task ran and winget failed there: winget's own words", () => {
    const m = explainWinget({ code: -1978335226, stderr: `${ROUTE_LINE}Found Git [Git.Git] Version 2.43.0\r\nStarting package install...\r\nInstaller failed with exit code: 1603\r\n` })
    expect(m).toMatch(first)
    expect(m).toMatch(/; there winget \(exit -1978335226 = 0x8A150006\): Found Git \[Git\.Git\] Version 2\.43\.0\nStarting package install\.\.\.\nInstaller failed with exit code: 1603$/)
  })
  it('silent too long, not registrable, ended without an exit code', () => {
    expect(explainWinget({ code: 1, stderr: `${ROUTE_LINE}statecraft-fallback: timeout 1785\r\n` })).toMatch(/printed nothing for 1785s and was stopped \(the task was removed\): \(no output\)$/)
    expect(explainWinget({ code: 1, stderr: `${ROUTE_LINE}statecraft-fallback: register-failed Access is denied.\r\n` })).toMatch(/could not be registered or started: Access is denied\. \(registering a task at the highest run level needs an Administrator\)$/)
    expect(explainWinget({ code: 1, stderr: `${ROUTE_LINE}statecraft-fallback: ended 2147942402\r\n` })).toMatch(/the task ended \(result 2147942402\) without recording winget's exit code$/)
  })
  it('an ordinary winget failure is left to the default message', () => {
    expect(explainWinget({ code: -1978335212, stderr: 'No package found matching input criteria.\r\n' })).toBeUndefined()
  })
})

describe('through the engine, against a replayed Windows host', () => {
  const recipe = defineRecipe({ name: 'git', resources: () => [pkg({ name: 'git', winget: 'Git.Git', acceptAgreements: true })] })
  const host = (answer: (win: ReplayedWindows, args: string[]) => ExecResult | number): ReplayedWindows => {
    const win = new ReplayedWindows({}, { [WINGET_PATH]: (w, args) => answer(w, args) })
    win.winget.offered.set('Git.Git', ['2.43.0', '2.42.0.2'])
    return win
  }

  it('winget fails for want of a logon session, the task installs it: changed, verified, and the report says which route ran', async () => {
    const win = host((w, args) => {
      expect(args).toEqual(ARGS)
      w.winget.installed.set('Git.Git', '2.43.0')
      return { code: 0, signal: null, stdout: `${FIRST_TRY}${INSTALLED}statecraft-route=${ROUTE_TASK}\r\n`, stderr: ROUTE_LINE }
    })
    const r = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }] })
    const res = r.hosts[0]!.resources[0]!
    expect(res.error).toBeUndefined()
    expect(res).toMatchObject({ status: 'changed', changes: ['install Git.Git 2.43.0 (winget)'], details: { route: ROUTE_TASK } })
    expect(win.host.calls.map((c) => decodePs(c.stdin)).filter((s) => s.includes('Register-ScheduledTask'))).toHaveLength(1)
    const again = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }] })
    expect(again.summary).toMatchObject({ changed: 0, unchanged: 1 })
  })

  it('winget works in the session: the route is winget itself', async () => {
    const win = host((w) => (w.winget.installed.set('Git.Git', '2.43.0'), 0))
    const r = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }] })
    expect(r.hosts[0]!.resources[0]).toMatchObject({ status: 'changed', details: { route: 'winget' } })
  })

  it('no interactive session for the task either: failed, nothing installed, the message says what to do', async () => {
    const win = host(() => ({ code: 1, signal: null, stdout: FIRST_TRY, stderr: `${ROUTE_LINE}statecraft-fallback: no-session GAMING-PC\\ana\r\n` }))
    const r = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }] })
    const res = r.hosts[0]!.resources[0]!
    expect(res.status).toBe('failed')
    expect(res.error?.message).toMatch(/did not start: GAMING-PC\\ana has no interactive logon session on the host/)
    expect(win.winget.installed.size).toBe(0)
  })
})
