import type { Distro } from '../core/types.ts'

/**
 * Pure parsers of what the facts script read about the OS. Each returns undefined for a value
 * the host did not print (an older host, a missing file), never throws.
 */

/** os-release (freedesktop): `KEY=value`, values optionally quoted with shell-like escapes. */
export function parseOsRelease(text: string): Map<string, string> {
  const m = new Map<string, string>()
  for (const raw of text.replaceAll('\r\n', '\n').split('\n')) {
    const line = raw.trim()
    const eq = line.indexOf('=')
    if (line.startsWith('#') || eq <= 0) continue
    let v = line.slice(eq + 1)
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.endsWith(v[0])) {
      v = v.slice(1, -1)
      if (line[eq + 1] === '"') v = v.replace(/\\([\\$"`])/g, '$1')
    }
    m.set(line.slice(0, eq), v)
  }
  return m
}

export function distroOf(osRelease: string | undefined): Distro | undefined {
  if (!osRelease) return undefined
  const m = parseOsRelease(osRelease)
  const id = m.get('ID')
  if (!id) return undefined
  const version = m.get('VERSION_ID') || undefined
  const like = (m.get('ID_LIKE') ?? '').split(/\s+/).filter((x) => x !== '')
  return { id, ...(version !== undefined ? { version } : {}), like }
}

/** Windows: `10.0.<CurrentBuildNumber>.<UBR>` from the registry values, as `winver` and `ver` show it. */
export function windowsVersion(major: string | undefined, minor: string | undefined, build: string | undefined, ubr: string | undefined): string | undefined {
  if (!build || !/^\d+$/.test(build)) return undefined
  const num = (s: string | undefined, d: string): string => (s && /^\d+$/.test(s) ? s : d)
  const v = `${num(major, '10')}.${num(minor, '0')}.${build}`
  return ubr && /^\d+$/.test(ubr) ? `${v}.${ubr}` : v
}

/** A decimal count, or undefined for an empty or garbled value. */
export function count(s: string | undefined): number | undefined {
  if (!s || !/^\d+$/.test(s.trim())) return undefined
  const n = Number(s.trim())
  return Number.isSafeInteger(n) ? n : undefined
}

/** Memory in bytes from whichever source the host printed: bytes (macOS) or kB (Linux meminfo, Windows). */
export function memoryOf(bytes: string | undefined, kb: string | undefined): number | undefined {
  const b = count(bytes)
  if (b !== undefined && b > 0) return b
  const k = count(kb)
  return k !== undefined && k > 0 ? k * 1024 : undefined
}

/** The package manager names the script printed, space separated, deduplicated, in order. */
export function packageManagersOf(list: string | undefined): string[] {
  return [...new Set((list ?? '').split(/\s+/).filter((x) => /^[a-z][a-z0-9-]*$/.test(x)))]
}
