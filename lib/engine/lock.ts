import { hostname } from 'node:os'
import { LockError } from '../core/errors.ts'

/** Who holds a host's run lock (the scripts that take it are in shell/<dialect>/scripts.ts). */
export interface LockHolder {
  token: string
  controller: string
  pid: number
  started: string
  bootId: string
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
  }
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
 * controller and its process no longer exists. Anything else is treated as alive.
 */
export function holderIsGone(h: LockHolder, currentBootId: string, controller = hostname()): boolean {
  if (h.bootId && currentBootId !== 'unknown' && h.bootId !== 'unknown' && h.bootId !== currentBootId) return true
  return h.controller === controller && Number.isInteger(h.pid) && h.pid > 0 && !pidAlive(h.pid)
}

export function lockedError(host: string, path: string, raw: string): LockError {
  const h = parseHolder(raw)
  const who = h
    ? `controller ${h.controller}, pid ${h.pid}, started ${h.started}`
    : `an unrecognised holder (${JSON.stringify(raw.slice(0, 80))})`
  return new LockError(
    `host ${host} is locked by another statecraft run (${who}); lock ${path} on the host. ` +
      'Wait for that run to finish; if it is gone, remove the lock file and run again.',
  )
}
