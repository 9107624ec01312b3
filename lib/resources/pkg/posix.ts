import type { Change, Facts, Step } from '../../core/types.ts'
import { quote } from '../../shell/posix/quote.ts'
import { DEFAULT_IDLE_SECONDS, namesFor, type Manager, type PkgCurrent, type PkgOp, type PkgOptions } from './types.ts'

/** The POSIX half of pkg: apt (dpkg), dnf (rpm), pacman and Homebrew. */

export const brewPath = (facts: Facts): string => (facts.appleSilicon ? '/opt/homebrew/bin/brew' : '/usr/local/bin/brew')

/**
 * Homebrew refuses to run as root. When the step or probe runs under sudo (a `become` host), it
 * goes back to the login user (`$1`); brew's own update is off so the version installed is the
 * one the plan showed.
 */
const BREW_SH =
  'u=$1; shift; if [ "$(id -u)" -eq 0 ]; then exec sudo -n -u "$u" -H env HOMEBREW_NO_AUTO_UPDATE=1 HOMEBREW_NO_ENV_HINTS=1 "$@"; fi; exec env HOMEBREW_NO_AUTO_UPDATE=1 HOMEBREW_NO_ENV_HINTS=1 "$@"'

const aptOpts = (d: PkgOptions): string[] => Object.entries(d.aptOptions ?? {}).flatMap(([k, v]) => ['-o', `${k}=${v}`])

const sh = (argv: string[]): string => argv.map(quote).join(' ')

function detect(m: Manager, facts: Facts): string {
  const has = (...cmds: string[]): string => cmds.map((c) => `command -v ${c} >/dev/null 2>&1`).join(' && ')
  if (m === 'apt') return has('dpkg-query', 'apt-get', 'apt-cache')
  if (m === 'dnf') return has('rpm', 'dnf')
  if (m === 'pacman') return has('pacman')
  return `[ -x ${quote(brewPath(facts))} ]`
}

/** The one query of the package database for these names, and the one of what can be installed. */
function queries(m: Manager, names: string[], d: PkgOptions, facts: Facts): { installed: string; sep: string; available: string } {
  const brew = (args: string[]): string => `sh -c ${quote(BREW_SH)} sc-brew ${sh([facts.user, brewPath(facts), ...args])}`
  switch (m) {
    case 'apt':
      return {
        installed: `dpkg-query -W -f '\${Package}\\t\${Status}\\t\${Version}\\n' ${sh(names)}`,
        sep: '\tinstall ok installed\t',
        available: sh(['apt-cache', ...aptOpts(d), 'madison', ...names]),
      }
    case 'dnf':
      return { installed: `rpm -q --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\n' ${sh(names)}`, sep: '\t', available: sh(['dnf', '-q', 'list', '--showduplicates', '--available', ...names]) }
    case 'pacman':
      return { installed: sh(['pacman', '-Q', ...names]), sep: ' ', available: sh(['pacman', '-Si', ...names]) }
    default:
      return { installed: brew(['list', '--versions', '--formula', ...names]), sep: ' ', available: brew(['info', '--json=v2', '--formula', ...names]) }
  }
}

/**
 * Prints manager=, installed= (the query's output, hex) and, only when something is to be
 * installed or a version range is to be checked, available= (hex): a converged host without a
 * range costs one database query per resource.
 */
function branch(m: Manager, d: PkgOptions, facts: Facts): string {
  const names = namesFor(d, m) ?? []
  const q = queries(m, names, d, facts)
  const out = [`echo manager=${m}`, `sc_q=$(${q.installed} 2>/dev/null)`, 'sc_kv_hex installed "$sc_q"']
  if (d.state === 'absent') return out.join('\n')
  if (d.version !== undefined) out.push('sc_need=1')
  else {
    out.push('sc_need=0')
    for (const n of names) out.push(`case "$sc_nl$sc_q" in *${quote(`\n${n}${q.sep}`)}*) ;; *) sc_need=1 ;; esac`)
  }
  out.push(`if [ "$sc_need" = 1 ]; then printf 'available='; ${q.available} 2>/dev/null | sc_hex; echo; fi`)
  return out.join('\n')
}

/** The managers a POSIX host is checked for, in order. */
export function posixCandidates(d: PkgOptions, facts: Facts): Manager[] {
  if (d.manager) return [d.manager]
  return facts.os === 'darwin' ? ['brew'] : ['apt', 'dnf', 'pacman']
}

export function posixProbe(d: PkgOptions, facts: Facts): string {
  const parts = posixCandidates(d, facts).map((m, i) => `${i === 0 ? 'if' : 'elif'} ${detect(m, facts)}; then\n${branch(m, d, facts)}`)
  return `sc_nl='\n'\n${parts.join('\n')}\nelse echo manager=none\nfi`
}

export function posixApply(d: PkgOptions, c: PkgCurrent, changes: Change<PkgOp>[], facts: Facts): Step[] {
  const m = c.manager
  const installs = changes.filter((ch) => ch.op === 'install')
  const removals = changes.filter((ch) => ch.op === 'remove').map((ch) => ch.name)
  const bound = { idleTimeout: (d.idleTimeout ?? DEFAULT_IDLE_SECONDS) * 1000 }
  const steps: Step[] = []
  const add = (argv: string[], extra: Partial<Step> = {}): void => {
    steps.push({ argv, ...extra, ...bound })
  }
  const brew = (args: string[]): void => add(['sh', '-c', BREW_SH, 'sc-brew', facts.user, brewPath(facts), ...args], { label: ['brew', ...args].join(' ') })
  if (m === 'apt') {
    const env = { env: { DEBIAN_FRONTEND: 'noninteractive' } }
    if (installs.length > 0) {
      const down = installs.some((ch) => ch.down) ? ['--allow-downgrades'] : []
      const conf = ['-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold']
      add(['apt-get', ...aptOpts(d), '-y', ...conf, ...down, 'install', ...installs.map((ch) => `${ch.name}=${ch.version}`)], env)
    }
    if (removals.length > 0) add(['apt-get', ...aptOpts(d), '-y', 'remove', ...removals], env)
  } else if (m === 'dnf') {
    const pinned = (chs: typeof installs): string[] => chs.map((ch) => `${ch.name}-${ch.version}`)
    const up = installs.filter((ch) => !ch.down)
    const down = installs.filter((ch) => ch.down)
    if (up.length > 0) add(['dnf', '-y', 'install', ...pinned(up)])
    if (down.length > 0) add(['dnf', '-y', 'downgrade', ...pinned(down)])
    if (removals.length > 0) add(['dnf', '-y', 'remove', ...removals])
  } else if (m === 'pacman') {
    // The sync database offers one version: the plan already checked it is the one wanted.
    if (installs.length > 0) add(['pacman', '-S', '--noconfirm', '--needed', ...installs.map((ch) => ch.name)])
    if (removals.length > 0) add(['pacman', '-R', '--noconfirm', ...removals])
  } else if (m === 'brew') {
    const fresh = installs.filter((ch) => ch.from === undefined).map((ch) => ch.name)
    const upgrades = installs.filter((ch) => ch.from !== undefined).map((ch) => ch.name)
    if (fresh.length > 0) brew(['install', '--formula', ...fresh])
    if (upgrades.length > 0) brew(['upgrade', '--formula', ...upgrades])
    if (removals.length > 0) brew(['uninstall', '--formula', ...removals])
  }
  return steps
}
