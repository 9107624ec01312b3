import type { Change, Step } from '../../core/types.ts'
import { psQuote } from '../../shell/powershell/quote.ts'
import { NO_LOGON, NO_LOGON_CODES, wingetStep } from './winget-task.ts'
import { DEFAULT_IDLE_SECONDS, namesFor, type Manager, type PkgCurrent, type PkgOp, type PkgOptions } from './types.ts'

/** The PowerShell half of pkg: winget (exact ids) and Chocolatey. */

const reEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** `$v` does not show `id` as a whole word: not installed (-notmatch ignores case, as winget and choco do). */
const lacks = (v: string, id: string, before: string, after: string): string => `(${v} -notmatch ${psQuote(`${before}${reEscape(id)}${after}`)})`

/**
 * Where winget is: on PATH, else the newest App Installer under WindowsApps (x64, then arm64).
 * A non-interactive OpenSSH session often lacks the PATH entry (it comes with the user's logon);
 * the executable itself still runs by its full path.
 */
const WINGET_GLOB = (arch: string): string => `"$env:ProgramFiles\\WindowsApps\\Microsoft.DesktopAppInstaller_*_${arch}__8wekyb3d8bbwe\\winget.exe"`
const WINGET_FIND = [
  '$sc_wg = Get-Command winget -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1 -ExpandProperty Path',
  `if (-not $sc_wg) { $sc_wg = Get-ChildItem -Path ${WINGET_GLOB('x64')}, ${WINGET_GLOB('arm64')} -ErrorAction SilentlyContinue | Sort-Object { try { [Version](($_.Directory.Name -split '_')[1]) } catch { [Version]'0.0' } } -Descending | Select-Object -First 1 -ExpandProperty FullName }`,
].join('\n')

function wingetBranch(d: PkgOptions, ids: string[]): string {
  const src = d.acceptAgreements ? ' --accept-source-agreements' : ''
  const out = ["'manager=winget'", "Sc-KvHex 'wingetpath' $sc_wg"]
  ids.forEach((id, i) => {
    // winget has no query for several ids: one exact query per id.
    out.push(`$o = (& $sc_wg list --exact --id ${psQuote(id)} --disable-interactivity${src} 2>$null | Out-String)`, `Sc-KvHex 'installed_${i}' $o`)
    if (d.state === 'absent') return
    const need = d.version !== undefined ? '$true' : lacks('$o', id, '\\s', '\\s')
    out.push(`if (${need}) { Sc-KvHex 'available_${i}' (& $sc_wg show --exact --id ${psQuote(id)} --versions --disable-interactivity${src} 2>$null | Out-String) }`)
  })
  return out.join('\n')
}

function chocoBranch(d: PkgOptions, names: string[]): string {
  // Chocolatey 2 lists only what is installed, and refuses --local-only, which 1.x needs.
  const filter = names.length === 1 ? ` --exact ${psQuote(names[0] as string)}` : ''
  const out = [
    "'manager=choco'",
    '$sc_cv = 2',
    "try { $sc_cv = ([Version](Get-Item -LiteralPath (Join-Path $env:ChocolateyInstall 'choco.exe')).VersionInfo.FileVersion).Major } catch { $sc_cv = 2 }",
    `if ($sc_cv -lt 2) { $o = (& choco list --local-only${filter} 2>$null | Out-String) } else { $o = (& choco list${filter} 2>$null | Out-String) }`,
    "Sc-KvHex 'installed' $o",
  ]
  if (d.state === 'absent') return out.join('\n')
  const need = d.version !== undefined ? '$true' : names.map((n) => lacks('$o', n, '(?m)^', ' ')).join(' -or ')
  const list = names.map(psQuote).join(', ')
  out.push(`if (${need}) { $a = foreach ($n in @(${list})) { & choco search $n --exact --all-versions --limit-output 2>$null }; Sc-KvHex 'available' ($a | Out-String) }`)
  return out.join('\n')
}

export function psProbe(d: PkgOptions): string {
  const ms: Manager[] = d.manager ? [d.manager] : ['winget', 'choco']
  const parts: string[] = []
  for (const m of ms) {
    const names = namesFor(d, m)
    // winget is a candidate only with its exact ids; a plain name is never one.
    if (!names) continue
    const body = m === 'winget' ? wingetBranch(d, names) : chocoBranch(d, names)
    const found = m === 'winget' ? '$sc_wg' : `Get-Command ${m} -ErrorAction SilentlyContinue`
    parts.push(`${parts.length === 0 ? 'if' : 'elseif'} (${found}) {\n${body}\n}`)
  }
  const find = ms.includes('winget') && namesFor(d, 'winget') ? `${WINGET_FIND}\n` : ''
  // Native tools write to stderr: under 'Stop' Windows PowerShell would turn that into an error.
  return `$ErrorActionPreference = 'Continue'\n${find}${parts.join(' ')}${parts.length > 0 ? " else { 'manager=none' }" : "'manager=none'"}`
}

const FALLBACK = 'statecraft-route: winget exited'
const tail = (s: string): string => (s.length > 600 ? `…${s.slice(-600)}` : s)

/**
 * A winget step that failed: the cause and the ways out when it was for want of a logon session,
 * and what became of the scheduled-task route (winget-task.ts) when that ran.
 */
export function explainWinget(r: { code: number | null; stderr: string }): string | undefined {
  const code = r.code === null ? undefined : r.code >>> 0
  const exit = r.code === null ? '' : ` (exit ${r.code}${code !== undefined && code > 0xffff ? ` = 0x${code.toString(16).toUpperCase()}` : ''})`
  if (r.stderr.includes(FALLBACK)) {
    const first = 'pkg: winget failed for want of a logon session over SSH, and statecraft ran it again as a scheduled task in the user\'s interactive session'
    const rest = r.stderr.split(/\r?\n/).filter((l) => !l.startsWith('statecraft-')).join('\n').trim()
    const session = /^statecraft-fallback: no-session (.*?)\r?$/m.exec(r.stderr)
    if (session) {
      return `${first}, which did not start: ${session[1]} has no interactive logon session on the host (Task Scheduler: the task has not run). ` +
        'Log on as that user at the console or over RDP (a disconnected session is enough) and run again, or install from the vendor\'s silent installer (statecraft\'s conda() and rustup() do so for Miniforge and Rust)'
    }
    const timeout = /^statecraft-fallback: timeout (\d+)/m.exec(r.stderr)
    if (timeout) return `${first}; it printed nothing for ${timeout[1]}s and was stopped (the task was removed): ${tail(rest) || '(no output)'}`
    const reg = /^statecraft-fallback: register-failed (.*?)\r?$/m.exec(r.stderr)
    if (reg) return `${first}, but the task could not be registered or started: ${reg[1]} (registering a task at the highest run level needs an Administrator)`
    const ended = /^statecraft-fallback: ended (-?\d+)/m.exec(r.stderr)
    if (ended) return `${first}; the task ended (result ${ended[1]}) without recording winget's exit code`
    return `${first}; there winget${exit}: ${tail(rest) || '(no output)'}`
  }
  if (!(code !== undefined && NO_LOGON_CODES.has(code)) && !NO_LOGON.test(r.stderr)) return undefined
  return (
    `pkg: winget failed${exit} the way it does outside an interactive logon: winget is an App Installer (MSIX) app tied to the user's desktop logon, ` +
    'and a non-interactive SSH session often has none ("no logon session", "Access is denied", source agreement prompts nobody answers). ' +
    "Ways out: install from the vendor's silent installer instead (statecraft's conda() and rustup() do so for Miniforge and Rust), " +
    "or run statecraft from the user's logged-in session on that host"
  )
}

export function psApply(d: PkgOptions, c: PkgCurrent, changes: Change<PkgOp>[]): Step[] {
  const bound = { idleTimeout: (d.idleTimeout ?? DEFAULT_IDLE_SECONDS) * 1000 }
  const steps: Step[] = []
  const add = (argv: string[]): void => {
    // winget by the path the probe found (under WindowsApps when it is not on this session's PATH).
    // Run again as a scheduled task in the user's session when winget fails for want of a logon (winget-task.ts).
    if (argv[0] === 'winget') steps.push(wingetStep([c.wingetPath ?? 'winget', ...argv.slice(1)], d.idleTimeout ?? DEFAULT_IDLE_SECONDS, explainWinget))
    else steps.push({ argv, ...bound })
  }
  const removals = changes.filter((ch) => ch.op === 'remove').map((ch) => ch.name)
  for (const ch of changes) {
    if (ch.op !== 'install') continue
    if (c.manager === 'winget') {
      const verb = ch.from === undefined || ch.down ? 'install' : 'upgrade'
      // winget has no downgrade: an older version is installed over the newer one with --force.
      const force = ch.down ? ['--force'] : []
      add(['winget', verb, '--exact', '--id', ch.name, '--version', ch.version, ...force, '--silent', '--accept-package-agreements', '--accept-source-agreements', '--disable-interactivity'])
    } else if (c.manager === 'choco') {
      const verb = ch.from === undefined ? 'install' : 'upgrade'
      add(['choco', verb, ch.name, '--version', ch.version, ...(ch.down ? ['--allow-downgrade'] : []), '-y', '--no-progress'])
    }
  }
  if (removals.length > 0 && c.manager === 'winget') {
    for (const id of removals) add(['winget', 'uninstall', '--exact', '--id', id, '--silent', ...(d.acceptAgreements ? ['--accept-source-agreements'] : []), '--disable-interactivity'])
  } else if (removals.length > 0 && c.manager === 'choco') add(['choco', 'uninstall', ...removals, '-y', '--no-progress'])
  return steps
}
