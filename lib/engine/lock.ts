import { hostname } from 'node:os'
import { LockError } from '../core/errors.ts'

/** Who holds a host's run lock (the scripts that take it are in shell/<dialect>/scripts.ts). */
export interface LockHolder {
  token: string
  controller: string
  pid: number
  started: string
  bootId: string
  /**
   * Set while the holder reboots the host and means to take the lock again when it returns: until
   * this time (ISO) a changed boot id does not prove the holder gone.
   */
  rebootUntil?: string
}

export const DEFAULT_LOCK_PATH = '~/.statecraft/run.lock'

export function newHolderPrefix(token: string, started = new Date()): string {
  return ['statecraft-lock-v1', token, hostname(), String(process.pid), started.toISOString()].join('|')
}

export function parseHolder(raw: string): LockHolder | null {
  const parts = raw.split('|')
  if (parts[0] !== 'statecraft-lock-v1' || parts.length < 6) return null
  return {
    token: parts[1] ?? '',
    controller: parts[2] ?? '',
    pid: Number(parts[3]),
    started: parts[4] ?? '',
    bootId: parts[5] ?? '',
    ...(parts[6]?.startsWith(REBOOT_FIELD) ? { rebootUntil: parts[6].slice(REBOOT_FIELD.length) } : {}),
  }
}

const REBOOT_FIELD = 'reboot-until='

/**
 * The lock text a run leaves while it reboots the host: its own text (token and all) plus the time
 * until which it will be back for it. Older versions read the first six fields and ignore the rest.
 */
export function markedForReboot(info: string, until: Date): string {
  const base = info.split('|').slice(0, 6).join('|')
  return `${base}|${REBOOT_FIELD}${until.toISOString()}`
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * A holder is provably gone when the host rebooted since it locked, or when it ran on this very
 * controller and its process no longer exists. Anything else is treated as alive. A holder that
 * marked the lock for a reboot it started stays alive across that reboot until its mark's time
 * has passed (then the changed boot id says it never came back), unless its process is seen gone.
 */
export function holderIsGone(h: LockHolder, currentBootId: string, controller = hostname(), now = Date.now()): boolean {
  const until = h.rebootUntil === undefined ? Number.NaN : Date.parse(h.rebootUntil)
  // An unreadable mark is no promise: the boot id rule applies as to any lock.
  const crossing = Number.isFinite(until) && now < until
  if (!crossing && h.bootId && currentBootId !== 'unknown' && h.bootId !== 'unknown' && h.bootId !== currentBootId) return true
  return h.controller === controller && Number.isInteger(h.pid) && h.pid > 0 && !pidAlive(h.pid)
}

export function lockedError(host: string, path: string, raw: string): LockError {
  const h = parseHolder(raw)
  const who = h
    ? `controller ${h.controller}, pid ${h.pid}, started ${h.started}${h.rebootUntil ? `, rebooting the host and back for its lock by ${h.rebootUntil}` : ''}`
    : `an unrecognised holder (${JSON.stringify(raw.slice(0, 80))})`
  return new LockError(
    `host ${host} is locked by another statecraft run (${who}); lock ${path} on the host. ` +
      'Wait for that run to finish; if it is gone, remove the lock file and run again.',
  )
}
