import { coerce, rcompare, satisfies } from '../../core/semver.ts'
import type { Manager } from './types.ts'

/**
 * Pure readers of what the package managers print, and the version arithmetic on top. Each
 * reader takes the tool's output exactly as it comes (the probe sends it hex encoded) and the
 * names asked for; what it does not recognise is ignored, never guessed.
 */

/** The upstream part of a manager's version: no epoch (`1:`), no Debian revision or rpm release (`-0+deb12u1`). */
export function shortVersion(raw: string): string {
  return raw.replace(/^\d+:/, '').replace(/-[^-]*$/, '')
}

/** The semver a range is checked against: Debian `1:2.39.5-0+deb12u1` → 2.39.5, winget `2.42.0.2` → 2.42.0. */
export function semverOf(raw: string): string | undefined {
  return coerce(shortVersion(raw))?.version
}

export function satisfied(raw: string, range: string): boolean {
  const v = semverOf(raw)
  return v !== undefined && satisfies(v, range)
}

/** Newest first by semver; equal ones keep the manager's order (which lists the newest first). */
export function newestFirst(raws: string[]): string[] {
  const known = raws.filter((r) => semverOf(r) !== undefined)
  return [...known].sort((a, b) => rcompare(semverOf(a) as string, semverOf(b) as string))
}

/** The version to install: the newest satisfying `range` (or the newest at all); undefined when none does. */
export function pick(raws: string[], range?: string): string | undefined {
  return newestFirst(raws).find((r) => range === undefined || satisfied(r, range))
}

const lines = (text: string): string[] =>
  text
    .replaceAll('\r\n', '\n')
    .split('\n')
    // winget draws a spinner with carriage returns before its table: keep what the last one left.
    .map((l) => l.slice(l.lastIndexOf('\r') + 1))

/** Case-insensitive lookup of the name asked for (winget and choco ids are not case-sensitive). */
function matcher(names: string[], m: Manager): (printed: string) => string | undefined {
  const fold = m === 'winget' || m === 'choco'
  // brew prints a tapped formula (user/tap/name) by its short name.
  const key = (s: string): string => (fold ? s.toLowerCase() : s)
  const by = new Map<string, string>()
  for (const n of names) {
    by.set(key(n), n)
    if (m === 'brew' && n.includes('/')) by.set(key(n.slice(n.lastIndexOf('/') + 1)), n)
  }
  return (printed) => by.get(key(printed))
}

/** What is installed, from the probe's query: name → version. */
export function parseInstalled(m: Manager, text: string, names: string[]): Record<string, string> {
  const want = matcher(names, m)
  const out: Record<string, string> = {}
  const put = (printed: string | undefined, version: string | undefined): void => {
    const n = printed === undefined ? undefined : want(printed)
    if (n !== undefined && version) out[n] = version
  }
  for (const l of lines(text)) {
    if (m === 'apt') {
      // dpkg-query -W -f '${Package}\t${Status}\t${Version}\n': removed packages keep a status line.
      const [p, status, version] = l.split('\t')
      if (status === 'install ok installed' || status === 'hold ok installed') put(p, version)
    } else if (m === 'dnf') {
      // rpm -q --qf '%{NAME}\t%{VERSION}-%{RELEASE}\n'; a missing one prints "package x is not installed".
      const [p, version] = l.split('\t')
      put(p, version)
    } else if (m === 'pacman' || m === 'brew') {
      // pacman -Q: "git 2.43.0-1"; brew list --versions: "git 2.42.0 2.43.0" (every installed version).
      const [p, ...versions] = l.trim().split(/\s+/)
      put(p, newestFirst(versions)[0] ?? versions[versions.length - 1])
    } else if (m === 'choco') {
      // "Chocolatey v2.2.2" header, "git 2.43.0" rows, "1 packages installed." trailer.
      const row = /^(\S+) (\S+)$/.exec(l.trim())
      if (row && !/^Chocolatey$/.test(row[1] as string) && !/^\d+$/.test(row[1] as string)) put(row[1], row[2])
    }
  }
  return out
}

/** winget list --exact --id <id>: a table whose rows hold the id as one word and the version after it. */
export function parseWingetList(text: string, id: string): string | undefined {
  const all = lines(text)
  const sep = all.findIndex((l) => /^-{4,}\s*$/.test(l))
  if (sep < 0) return undefined
  for (const row of all.slice(sep + 1)) {
    const words = row.trim().split(/\s+/)
    const at = words.findIndex((w) => w.toLowerCase() === id.toLowerCase())
    if (at < 0) continue
    const v = words[at + 1]
    // "< 1.2.3": winget could not tell the exact version.
    return v === '<' ? words[at + 2] : v
  }
  return undefined
}

/** Versions offered per name, from the probe's availability query. */
export function parseAvailable(m: Manager, text: string, names: string[]): Record<string, string[]> {
  const want = matcher(names, m)
  const out: Record<string, string[]> = {}
  const add = (printed: string | undefined, version: string | undefined): void => {
    const n = printed === undefined ? undefined : want(printed)
    if (n === undefined || !version) return
    const list = (out[n] ??= [])
    if (!list.includes(version)) list.push(version)
  }
  if (m === 'brew') {
    // brew info --json=v2 --formula: only the stable version can be installed.
    try {
      const j = JSON.parse(text) as { formulae?: { name?: string; full_name?: string; versions?: { stable?: string } }[] }
      for (const f of j.formulae ?? []) add(want(f.full_name ?? '') ? f.full_name : f.name, f.versions?.stable)
    } catch {
      // Not JSON (brew failed): nothing is offered, which the plan reports.
    }
    return out
  }
  if (m === 'dnf') {
    // dnf list --showduplicates --available: rows "name.arch version repo", a long one wrapped onto two lines.
    const words = lines(text)
      .filter((l) => !/^(Available|Installed|Last metadata)/i.test(l))
      .join(' ')
      .trim()
      .split(/\s+/)
    for (let i = 0; i + 2 < words.length + 1; i += 3) add(words[i]?.replace(/\.[^.]+$/, ''), words[i + 1]?.replace(/^0:/, ''))
    return out
  }
  let name: string | undefined
  for (const l of lines(text)) {
    if (m === 'apt') {
      // apt-cache madison: " git | 1:2.39.5-0+deb12u1 | http://deb.debian.org/debian bookworm/main amd64 Packages"
      const [p, version, source] = l.split('|').map((s) => s.trim())
      if (source !== undefined && !/Sources$/.test(source)) add(p, version)
    } else if (m === 'pacman') {
      // pacman -Si: blocks of "Key : value" lines.
      const kv = /^(\w[\w ]*?)\s*:\s(.*)$/.exec(l)
      if (kv?.[1] === 'Name') name = kv[2]?.trim()
      if (kv?.[1] === 'Version') add(name, kv[2]?.trim())
    } else if (m === 'choco') {
      // choco search --exact --all-versions --limit-output: "git|2.43.0"
      const [p, version] = l.trim().split('|')
      add(p, version)
    }
  }
  return out
}

/** winget show --id <id> --exact --versions: a "Version" column under a dashed line. */
export function parseWingetShow(text: string): string[] {
  const all = lines(text)
  const sep = all.findIndex((l) => /^-{4,}\s*$/.test(l))
  if (sep < 0) return []
  return all
    .slice(sep + 1)
    .map((l) => l.trim())
    .filter((l) => l !== '')
}
