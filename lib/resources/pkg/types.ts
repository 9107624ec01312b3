/** Shapes the pkg resource's files share. */

export const POSIX_MANAGERS = ['apt', 'dnf', 'pacman', 'brew'] as const
export const WINDOWS_MANAGERS = ['winget', 'choco'] as const
export const MANAGERS = [...POSIX_MANAGERS, ...WINDOWS_MANAGERS] as const
export type Manager = (typeof MANAGERS)[number]

export interface PkgOptions {
  /** The package, when it has one name (and the same name in every manager that does not say otherwise). */
  name?: string
  /** Several packages, installed in one manager call where the manager allows it. */
  names?: string[]
  /** Names per manager where they differ from `name`/`names`. winget needs its exact ids here. */
  apt?: string | string[]
  dnf?: string | string[]
  pacman?: string | string[]
  brew?: string | string[]
  winget?: string | string[]
  choco?: string | string[]
  /** A semver range the installed version must satisfy, e.g. '>=2.35' (coerced from what the manager prints). */
  version?: string
  state?: 'present' | 'absent'
  /** The manager to use; by default the first the host has (apt, dnf, pacman; brew on macOS; winget, choco on Windows). */
  manager?: Manager
  /** winget: install with --accept-package-agreements --accept-source-agreements; winget installs are refused without it. */
  acceptAgreements?: boolean
  /** apt: extra configuration for every apt-get and apt-cache call, passed as `-o key=value` (other managers ignore it). */
  aptOptions?: Record<string, string>
  /** Seconds without output before an install or removal is stopped (default 1800). */
  idleTimeout?: number
  /** Filled in by statecraft on macOS: the Homebrew prefix the hardware decides (orders pkg after homebrew()). */
  brewPrefix?: string
}

export interface PkgCurrent {
  /** The manager the probe found (or was told to use); undefined when the host has none. */
  manager?: Manager
  /** Installed packages: name → the version the manager prints. Absent names are not installed. */
  installed: Record<string, string>
  /** Versions the manager offers per name, as it prints them; only read when something must be installed. */
  available?: Record<string, string[]>
  /** winget: the executable the probe found (on PATH, else under WindowsApps); apply runs it by this path. */
  wingetPath?: string
}

/**
 * 'install' carries the manager's own version string (pinned where the manager can pin); `from`
 * is set for an upgrade or downgrade. 'conflict': a change this resource will not make, refused
 * with `why` by the plan and by apply (the convention of directory, line and git).
 */
export type PkgOp =
  | { op: 'install'; name: string; version: string; from?: string; down?: boolean }
  | { op: 'remove'; name: string }
  | { op: 'conflict'; why: string }

/** The names a manager is asked for: its own field, else `name`/`names`; winget only by its exact ids. */
export function namesFor(d: PkgOptions, m: Manager): string[] | undefined {
  const own = d[m]
  if (own !== undefined) return typeof own === 'string' ? [own] : own
  if (m === 'winget') return undefined
  return d.names ?? (d.name !== undefined ? [d.name] : undefined)
}

/** Seconds without output before an install is stopped: installs are long, but a prompt nobody answers must end. */
export const DEFAULT_IDLE_SECONDS = 30 * 60
