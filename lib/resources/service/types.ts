import type { Change } from '../../core/types.ts'

export type ServiceState = 'running' | 'stopped' | 'absent'
export type RestartPolicy = 'always' | 'on-failure' | 'no'
export type Backend = 'systemd' | 'launchd' | 'schtask'

export interface ServiceOptions {
  /** Unit name (`<name>.service`), launchd label, scheduled task name: letters, digits and `._@-`. */
  name: string
  /** The program and its arguments; run directly, never through a shell. */
  argv: string[]
  cwd?: string
  env?: Record<string, string>
  /**
   * The account it runs as. Linux system unit: `User=` (root when unset). Linux `scope: 'user'`:
   * whose user unit it is (the login user when unset). macOS: whose GUI domain (the login user
   * when unset) or, with `domain: 'daemon'`, the LaunchDaemon's `UserName`. Windows: the task's
   * principal (the login user when unset).
   */
  user?: string
  /** Linux: a system unit (default) or a systemd user unit of `user`, with lingering enabled. */
  scope?: 'system' | 'user'
  /** 'running' (default): defined, enabled at boot/logon and running now. 'stopped': defined, disabled, not running. */
  state?: ServiceState
  /** When it is started again after it exits (default 'always'; on Windows both restart on failure only). */
  restart?: RestartPolicy
  description?: string
  /**
   * Files for stdout and stderr (stderr defaults to stdout's). macOS: default ~/Library/Logs/<name>.log
   * for both. Linux: appended to (StandardOutput=append:), default the journal. Not on Windows.
   */
  logs?: { stdout?: string; stderr?: string }
  /** macOS: the user's GUI domain (a LaunchAgent, default), or a LaunchDaemon with UserName (needs become; runs with nobody logged in). */
  domain?: 'gui' | 'daemon'
  /**
   * The definition holds a secret (an `env` value): its text is hidden from plans and diffs and
   * the unit or plist is written 0600. Set for you when a recipe's secret option reaches `env`.
   * Refused on Windows with `env`: a task's environment travels in its command line.
   */
  sensitive?: boolean
  /** Filled in by statecraft from the host's facts. */
  resolved?: Resolved
}

export interface Resolved {
  backend: Backend
  /** The account it runs as (systemd system scope: undefined = root). */
  user?: string
  /** Where the definition lives, when it does not depend on a home only the probe learns (user units). */
  path?: string
  /** The generated definition: unit text, plist XML (the scheduled task is compared field by field). */
  text?: string
}

/** What the probe read, for every backend. */
export interface ServiceCurrent {
  backend: Backend
  /** Who ran the probe (id -u); undefined on Windows. */
  probeUid?: number
  /** The service's user: its uid (missing: the account does not exist) and home. */
  userUid?: number
  userMissing?: boolean
  home?: string
  /** The definition on the host (unit/plist text), undefined when there is none. */
  text?: string
  /** systemd: `systemctl show` properties; launchd: parsed `launchctl print`; Windows: the task's fields. */
  props: Record<string, string>
  /** Loaded/registered with the service manager. */
  loaded: boolean
  running: boolean
  enabled: boolean
  pid?: number
  /** systemd: the manager must re-read the unit (NeedDaemonReload=yes). */
  needReload?: boolean
  /** systemd user scope: lingering is enabled for the user. */
  linger?: boolean
  /** launchd gui domain: a GUI session of the user exists to bootstrap into. */
  guiSession?: boolean
  /** Windows: each field that differs between the registered task and the declaration (empty when alike). */
  taskDiffers?: string[]
}

export type ServiceOp =
  | { op: 'write' }
  | { op: 'reload' }
  | { op: 'linger' }
  | { op: 'enable' }
  | { op: 'disable' }
  | { op: 'start' }
  | { op: 'stop' }
  | { op: 'restart' }
  | { op: 'remove' }
  | { op: 'conflict'; why: string }

export type ServiceChange = Change<ServiceOp>

const HIDDEN = '(sensitive content hidden)'

/** The before/after of a definition for `--diff`, hidden when it holds a secret. */
export function contentOf(d: ServiceOptions, path: string, before: string, after: string): { path: string; before: string; after: string } {
  return d.sensitive ? { path, before: HIDDEN, after: HIDDEN } : { path, before, after }
}

/** A definition holding a secret is readable by its owner only. */
export const fileMode = (d: ServiceOptions): string => (d.sensitive ? '0600' : '0644')

export const has = (changes: ServiceChange[], ...ops: ServiceOp['op'][]): boolean => changes.some((c) => ops.includes(c.op))

/** Which lines of two texts differ, by their key (`ExecStart`, `<key>KeepAlive</key>`): for change texts. */
export function differingKeys(before: string, after: string, keyOf: (line: string) => string | undefined): string[] {
  const count = (t: string): Map<string, string[]> => {
    const m = new Map<string, string[]>()
    for (const l of t.split('\n')) {
      const k = keyOf(l)
      if (k) m.set(k, [...(m.get(k) ?? []), l])
    }
    return m
  }
  const a = count(before)
  const b = count(after)
  const keys = [...new Set([...b.keys(), ...a.keys()])]
  return keys.filter((k) => JSON.stringify(a.get(k) ?? []) !== JSON.stringify(b.get(k) ?? []))
}
