import type { Change, Step } from '../../core/types.ts'
import { psQuote } from '../../shell/powershell/quote.ts'
import { DEFAULT_IDLE_SECONDS, namesFor, type Manager, type PkgCurrent, type PkgOp, type PkgOptions } from './types.ts'

/** The PowerShell half of pkg: winget (exact ids) and Chocolatey. */

const reEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** `$v` does not show `id` as a whole word: not installed (-notmatch ignores case, as winget and choco do). */
const lacks = (v: string, id: string, before: string, after: string): string => `(${v} -notmatch ${psQuote(`${before}${reEscape(id)}${after}`)})`

function wingetBranch(d: PkgOptions, ids: string[]): string {
  const src = d.acceptAgreements ? ' --accept-source-agreements' : ''
  const out = ["'manager=winget'"]
  ids.forEach((id, i) => {
    // winget has no query for several ids: one exact query per id.
    out.push(`$o = (& winget list --exact --id ${psQuote(id)} --disable-interactivity${src} 2>$null | Out-String)`, `Sc-KvHex 'installed_${i}' $o`)
    if (d.state === 'absent') return
    const need = d.version !== undefined ? '$true' : lacks('$o', id, '\\s', '\\s')
    out.push(`if (${need}) { Sc-KvHex 'available_${i}' (& winget show --exact --id ${psQuote(id)} --versions --disable-interactivity${src} 2>$null | Out-String) }`)
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
    parts.push(`${parts.length === 0 ? 'if' : 'elseif'} (Get-Command ${m} -ErrorAction SilentlyContinue) {\n${body}\n}`)
  }
  // Native tools write to stderr: under 'Stop' Windows PowerShell would turn that into an error.
  return `$ErrorActionPreference = 'Continue'\n${parts.join(' ')}${parts.length > 0 ? " else { 'manager=none' }" : "'manager=none'"}`
}

export function psApply(d: PkgOptions, c: PkgCurrent, changes: Change<PkgOp>[]): Step[] {
  const bound = { idleTimeout: (d.idleTimeout ?? DEFAULT_IDLE_SECONDS) * 1000 }
  const steps: Step[] = []
  const add = (argv: string[]): void => {
    steps.push({ argv, ...bound })
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
