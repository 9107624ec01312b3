import type { CostlyFact, Dialect, StdinSource, Step } from '../core/types.ts'
import { commandLine } from './posix/quote.ts'
import { watched, WATCHED_INPUT_LIMIT } from './posix/watch.ts'
import { posixBatch, type BatchPlan } from './posix/batch.ts'
import { splitBatch } from './protocol.ts'
import { acquireScript, BOOT_ID_SCRIPT, factsScript, markRebootScript, REBOOT_SCRIPT, releaseScript, takeoverScript } from './posix/scripts.ts'
import { PS_COMMAND, psStdin, psStep } from './powershell/quote.ts'
import { psAcquireScript, psFactsScript, psBatchScript, PS_BOOT_ID_SCRIPT, PS_REBOOT_SCRIPT, psMarkRebootScript, psReleaseScript, psTakeoverScript } from './powershell/scripts.ts'

/** What to send for one exec: a command line for the login shell and what goes on stdin. */
export interface Exec {
  command: string
  stdin?: StdinSource
  /** The command is complete as is (a script runner): the SSH transport must not wrap it in sh -c. */
  raw: boolean
  /** Keep stdin open until the command exits: closing it ends the command's process group. */
  hold?: boolean
}

/** Everything that differs between a POSIX sh host and a Windows PowerShell host. */
export interface ShellDialect {
  name: Dialect
  script(script: string): Exec
  step(step: Step): Exec
  /** The first exec's facts part, with the costly facts the recipe declared. */
  facts(costly: readonly CostlyFact[], o?: { sudo?: boolean }): string
  acquire(path: string, prefix: string): string
  takeover(path: string, staleInfo: string, info: string): string
  release(path: string, info: string): string
  /** The batched probe of many snippets, and how to split its output per snippet. */
  batch(snippets: string[], nonce: string): BatchPlan
  /** Records beside the lock that a step asked for a restart on this boot (`bootid|what`). */
  markReboot(path: string, text: string): string
  /** Prints `bootid=…`: polled while a rebooted host comes back. */
  bootId: string
  /** Starts a restart of the host (run with privileges) and answers before the connection drops. */
  reboot: string
}

export const posixDialect: ShellDialect = {
  name: 'posix',
  script: (s) => ({ command: 'sh -s', stdin: s, raw: true }),
  step(step) {
    if (step.psScript !== undefined) throw new Error('a PowerShell step reached a POSIX host')
    const input = step.stdin
    if (input === undefined) return watched(commandLine(step))
    // Small input travels inside the watched exec (a download's curl config: its curl must not
    // outlive the run and append to the .part beside the next run's).
    if (typeof input !== 'object' || !('file' in input)) {
      if (Buffer.byteLength(input) <= WATCHED_INPUT_LIMIT) return watched(commandLine(step), input)
    }
    // Large data on stdin (an atomic write checks what it got): env values would have to travel in argv.
    if (Object.keys(step.env ?? {}).length > 0) throw new Error('a step with both env and stdin: env values would have to travel in argv')
    return { command: commandLine(step), stdin: input, raw: false }
  },
  facts: factsScript,
  acquire: acquireScript,
  takeover: takeoverScript,
  release: releaseScript,
  batch: posixBatch,
  markReboot: markRebootScript,
  bootId: BOOT_ID_SCRIPT,
  reboot: REBOOT_SCRIPT,
}

export const powershellDialect: ShellDialect = {
  name: 'powershell',
  script: (s) => ({ command: PS_COMMAND, stdin: psStdin(s), raw: true }),
  step(step) {
    if (step.stdin !== undefined) throw new Error('stdin for a step on a Windows host: resources embed their data in psScript')
    return { command: PS_COMMAND, stdin: psStdin(step.psScript ?? psStep(step)), raw: true }
  },
  // Windows has no sudo: become is refused there before the sudo check would matter.
  facts: (costly) => psFactsScript(costly),
  acquire: psAcquireScript,
  takeover: psTakeoverScript,
  release: psReleaseScript,
  batch: (snippets, nonce) => ({ script: psBatchScript(snippets, nonce), parse: (stdout, host) => splitBatch(stdout, snippets.length, nonce, host) }),
  markReboot: psMarkRebootScript,
  bootId: PS_BOOT_ID_SCRIPT,
  reboot: PS_REBOOT_SCRIPT,
}

export const DIALECTS: Record<Dialect, ShellDialect> = { posix: posixDialect, powershell: powershellDialect }
