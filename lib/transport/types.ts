export interface ExecResult {
  code: number | null
  signal: string | null
  stdout: string
  stderr: string
}

import type { OsName, StdinSource } from '../core/types.ts'
import type { SudoExchange } from './sudo.ts'

export interface ExecOptions {
  stdin?: StdinSource
  /** The command runs under sudo: hold stdin back and answer its password prompt. */
  sudo?: SudoExchange
  /** Milliseconds before the command is killed. */
  timeout?: number
  /** Milliseconds without any output (stdout or stderr) before the command is killed. */
  idleTimeout?: number
  /** Milliseconds a command may sit silent after printing what looks like a prompt. */
  promptTimeout?: number
  signal?: AbortSignal
  /** Called with stderr as it arrives (progress lines). */
  onStderr?: (text: string) => void
  /** A complete script-runner command (sh -s, powershell -Command -): run it exactly as given. */
  raw?: boolean
  /**
   * Keep stdin open after writing it, until the command exits. The host side watches it (see
   * shell/posix/watch.ts): when it closes — the command exited, the run timed out or was
   * interrupted, the controller died, the connection dropped — the command's process group ends.
   */
  hold?: boolean
}

/** Counts what a run cost on one host; the JSON report carries these. */
export interface TransportStats {
  /** Execs or transfers whose result the engine waited for. */
  roundTrips: number
  connections: number
}

/**
 * A way to run commands on one host. `command` is a command line for the host's shell, built by
 * the dialect module from an argv array; nothing else in the library builds command lines.
 */
export interface Transport {
  readonly stats: TransportStats
  /** What the transport knows of the host's OS before asking (the local one on Windows): its shell is tried first. */
  readonly osHint?: OsName
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>
  close(): Promise<void>
}
