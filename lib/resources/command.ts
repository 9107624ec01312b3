import * as v from 'valibot'
import type { Step } from '../core/types.ts'
import { commandLine, quote, showArgv } from '../shell/posix/quote.ts'
import { psGuard } from '../shell/powershell/lib.ts'
import { psQuote } from '../shell/powershell/quote.ts'
import { argv, env, flag, normalisePath, path, positive } from './fields.ts'
import { defineResource } from './kit.ts'

export interface CommandOptions {
  argv: string[]
  /** Skip when this path exists; after running, it must exist. */
  creates?: string
  /** Skip when this command exits 0; after running, it must exit 0. */
  unless?: string[]
  cwd?: string
  env?: Record<string, string>
  /** Seconds before the command is killed (default: no total limit). */
  timeout?: number
  /**
   * Seconds without any output before the command is killed (default 1800): long work is
   * bounded by its progress, and a command that waits forever does not hold the host's lock.
   */
  idleTimeout?: number
  /**
   * Seconds the command may stay silent after printing what looks like a prompt (a password,
   * yes/no, a licence) before it is ended with that prompt in the error (default 10): it gets no input.
   */
  promptTimeout?: number
  /** A handler: runs only when a resource that `notify`s it changed. */
  onlyIfNotified?: boolean
  /**
   * The command runs `sudo -A` itself (an installer that escalates on its own): it gets the run's
   * become password through a SUDO_ASKPASS helper, never in argv or on disk. POSIX hosts with
   * become settings; the password is settled (asked once, checked) before the first change.
   */
  askpass?: boolean
  /**
   * Exit codes that mean the command did its work and the host must restart to complete it (an
   * installer's "reboot required"): the host's run stops there as reboot required, and with
   * `--reboot` statecraft restarts the host and goes on. Windows adds 3010 and 1641 by itself.
   */
  rebootExitCodes?: number[]
}

interface CommandCurrent {
  createsExists?: boolean
  unlessPassed?: boolean
}

type CommandOp = { op: 'run' }

/** A command silent for this long is taken to hang (a prompt nobody answers, a stuck network read). */
const DEFAULT_IDLE_SECONDS = 30 * 60

const guard = (d: CommandOptions): Step => ({ argv: d.unless ?? [], ...(d.cwd ? { cwd: d.cwd } : {}), ...(d.env ? { env: d.env } : {}) })

/**
 * A command guarded so that it is a no-op once done (`creates`, `unless`), or a handler that
 * runs only when notified.
 * @example
 * command({ argv: ['rustup-init', '-y', '--profile', 'minimal'], creates: '~/.cargo/bin/rustup' })
 */
export const command = defineResource<CommandOptions, CommandCurrent, CommandOp>({
  type: 'command',
  describe: (i) => `command ${JSON.stringify(i.argv)}`,
  fields: {
    argv: argv(),
    creates: v.optional(path()),
    unless: v.optional(argv()),
    cwd: v.optional(path()),
    env: v.optional(env()),
    timeout: v.optional(positive('seconds')),
    idleTimeout: v.optional(positive('seconds')),
    promptTimeout: v.optional(positive('seconds')),
    onlyIfNotified: v.optional(flag()),
    askpass: v.optional(flag()),
    rebootExitCodes: v.optional(exitCodes()),
  },
  normalise(d, facts, fail) {
    const out: CommandOptions = { ...d }
    if (d.creates !== undefined) out.creates = normalisePath(d.creates, 'creates', facts, fail)
    if (d.cwd !== undefined) out.cwd = normalisePath(d.cwd, 'cwd', facts, fail)
    if (!d.onlyIfNotified) delete out.onlyIfNotified
    if (!d.askpass) delete out.askpass
    if (d.askpass && facts.dialect !== 'posix') fail('askpass', 'is for POSIX hosts, where tools call sudo -A; Windows has no sudo: leave it out')
    if (!out.creates && !out.unless && !out.onlyIfNotified) {
      fail(
        'creates/unless',
        'are both missing: the command would run on every run and could never be a no-op. ' +
          'Add a guard, or set onlyIfNotified: true and list it in the notify of the resource whose change should run it',
      )
    }
    return out
  },
  defaultId: (d) => `command:${d.argv.join(' ')}`,
  paths: (d) => [
    ...(d.creates ? [{ path: d.creates, kind: 'file' as const }] : []),
    ...(d.cwd ? [{ path: d.cwd, kind: 'uses' as const }] : []),
  ],
  parse(data) {
    const c: CommandCurrent = {}
    if (data.has('creates')) c.createsExists = data.get('creates') === '1'
    if (data.has('unless')) c.unlessPassed = data.get('unless') === '0'
    return c
  },
  diff(d, c) {
    if (d.onlyIfNotified) return []
    if (c.createsExists || c.unlessPassed) return []
    const why = d.creates ? `${d.creates} is missing` : 'the unless check failed'
    return [{ op: 'run', text: `run ${showArgv(d.argv)} (${why})` }]
  },
  posix: {
    probe(d) {
      const lines: string[] = []
      if (d.creates) lines.push(`if [ -e ${quote(d.creates)} ] || [ -L ${quote(d.creates)} ]; then echo creates=1; else echo creates=0; fi`)
      if (d.unless) lines.push(`(${commandLine(guard(d))}) </dev/null >/dev/null 2>&1; echo "unless=$?"`)
      return lines.join('\n') || ':'
    },
    apply: (d) => [run(d)],
  },
  powershell: {
    probe(d) {
      const ps: string[] = []
      if (d.creates) ps.push(`if (Test-Path -LiteralPath ${psQuote(d.creates)}) { 'creates=1' } else { 'creates=0' }`)
      if (d.unless) ps.push(psGuard(guard(d), 'unless'))
      return ps.join('\n') || '$null = 0'
    },
    apply: (d) => [run(d)],
  },
  onlyIfNotified: (d) => d.onlyIfNotified === true,
  askpass: (d) => d.askpass === true,
  notified: (d, by) => ({ op: 'run', text: `run ${showArgv(d.argv)} (notified by ${by.join(', ')})` }),
  examples: ({ path, value }) => [
    { desired: { argv: ['git', value, '--', value], creates: path, unless: ['test', '-e', value], cwd: path, env: { V: value }, rebootExitCodes: [194] }, current: {} },
  ],
})

export const commandType = command.type

/** Non-zero whole numbers: 0 is success, and a success cannot also ask for a restart. */
function exitCodes(): v.GenericSchema<unknown, number[]> {
  return v.custom<number[]>(
    (x) => Array.isArray(x) && x.length > 0 && x.every((n) => Number.isInteger(n) && n !== 0),
    (i) => `must be a non-empty array of non-zero whole exit codes, e.g. [3010] (got ${JSON.stringify(i.input)})`,
  )
}

function run(d: CommandOptions): Step {
  const step: Step = { argv: d.argv }
  if (d.rebootExitCodes) step.rebootExitCodes = d.rebootExitCodes
  if (d.cwd) step.cwd = d.cwd
  if (d.env) step.env = d.env
  if (d.timeout) step.timeout = d.timeout * 1000
  step.idleTimeout = (d.idleTimeout ?? DEFAULT_IDLE_SECONDS) * 1000
  if (d.promptTimeout) step.promptTimeout = d.promptTimeout * 1000
  if (d.askpass) step.askpass = true
  return step
}
