import { hostname } from 'node:os'
import { LockError } from '../core/errors.ts'
import { quote } from '../transport/posix.ts'

/**
 * The per-host run lock lives on the target as a symlink whose target text records the holder:
 * creating a symlink is atomic and fails if it exists, so two controllers cannot both win.
 */
export interface LockHolder {
  token: string
  controller: string
  pid: number
  started: string
  bootId: string
}

export const DEFAULT_LOCK_PATH = '~/.statecraft/run.lock'

function lockPathExpr(path: string): string {
  return path.startsWith('~/') ? `"$HOME"/${quote(path.slice(2))}` : quote(path)
}

export function newHolderPrefix(token: string, started = new Date()): string {
  return ['statecraft-lock-v1', token, hostname(), String(process.pid), started.toISOString()].join('|')
}

/** Appended to the facts script: takes the lock, or prints who holds it. */
export function acquireScript(path: string, prefix: string): string {
  return `sc_lock=${lockPathExpr(path)}
sc_info=${quote(prefix)}"|$sc_bootid"
mkdir -p -- "$(dirname -- "$sc_lock")" 2>/dev/null
if ln -s -- "$sc_info" "$sc_lock" 2>/dev/null; then echo "lock=acquired"
elif [ -L "$sc_lock" ]; then echo "lock=held"; printf 'holder='; readlink -- "$sc_lock" | tr -d '\\n' | sc_hex; echo
else echo "lock=error"; fi
sc_kv_hex lockinfo "$sc_info"
`
}

/** Replaces a stale lock only if it still records the same holder, then takes it. */
export function takeoverScript(path: string, staleInfo: string, info: string): string {
  return `sc_lock=${lockPathExpr(path)}
if [ "$(readlink -- "$sc_lock")" = ${quote(staleInfo)} ]; then rm -f -- "$sc_lock"; fi
if ln -s -- ${quote(info)} "$sc_lock" 2>/dev/null; then echo "lock=acquired"; else echo "lock=held"; fi
`
}

export function releaseScript(path: string, info: string): string {
  return `sc_lock=${lockPathExpr(path)}
if [ "$(readlink -- "$sc_lock")" = ${quote(info)} ]; then rm -f -- "$sc_lock"; fi
`
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
