import { declare, type Change, type CommonOptions, type Facts, type ProbeData, type Resource, type ResourceType, type Step } from '../core/types.ts'
import { commandLine, quote } from '../shell/posix/quote.ts'
import { checkPath, fail, rejectUnknown } from './common.ts'
import { psGuard } from '../shell/powershell/lib.ts'
import { psQuote } from '../shell/powershell/quote.ts'

export interface CommandOptions {
  argv: string[]
  /** Skip when this path exists; after running, it must exist. */
  creates?: string
  /** Skip when this command exits 0; after running, it must exit 0. */
  unless?: string[]
  cwd?: string
  env?: Record<string, string>
  /** Seconds before the command is killed. */
  timeout?: number
  /** A handler: runs only when a resource that `notify`s it changed. */
  onlyIfNotified?: boolean
}

interface CommandCurrent {
  createsExists?: boolean
  unlessPassed?: boolean
}

const FIELDS = ['argv', 'creates', 'unless', 'cwd', 'env', 'timeout', 'onlyIfNotified'] as const

function checkArgv(w: string, field: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((a) => typeof a === 'string')) {
    fail(w, field, `must be a non-empty array of strings, e.g. ['make', 'install'] (got ${JSON.stringify(v)})`)
  }
  return v
}

export function showArgv(argv: string[]): string {
  return argv.map(quote).join(' ')
}

export const commandType: ResourceType<CommandOptions, CommandCurrent> = {
  type: 'command',
  defaultId: (d) => `command:${d.argv.join(' ')}`,
  validate(d: CommandOptions, facts: Facts): CommandOptions {
    const w = `command ${JSON.stringify(d.argv)}`
    rejectUnknown(w, d, FIELDS)
    const out: CommandOptions = { argv: checkArgv(w, 'argv', d.argv) }
    if (d.creates !== undefined) out.creates = checkPath(w, 'creates', d.creates, facts)
    if (d.unless !== undefined) out.unless = checkArgv(w, 'unless', d.unless)
    if (d.cwd !== undefined) out.cwd = checkPath(w, 'cwd', d.cwd, facts)
    if (d.env !== undefined) {
      if (typeof d.env !== 'object' || d.env === null) fail(w, 'env', 'must be an object of strings')
      for (const [k, v] of Object.entries(d.env)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) fail(w, `env.${k}`, 'is not a valid environment variable name')
        if (typeof v !== 'string') fail(w, `env.${k}`, `must be a string (got ${JSON.stringify(v)})`)
      }
      out.env = d.env
    }
    if (d.timeout !== undefined) {
      if (typeof d.timeout !== 'number' || !(d.timeout > 0)) fail(w, 'timeout', `must be a positive number of seconds (got ${JSON.stringify(d.timeout)})`)
      out.timeout = d.timeout
    }
    if (d.onlyIfNotified) out.onlyIfNotified = true
    if (!out.creates && !out.unless && !out.onlyIfNotified) {
      fail(
        w,
        'creates/unless',
        'are both missing: the command would run on every run and could never be a no-op. ' +
          'Add a guard, or set onlyIfNotified: true and list it in the notify of the resource whose change should run it',
      )
    }
    return out
  },
  paths: (d) => [
    ...(d.creates ? [{ path: d.creates, kind: 'file' as const }] : []),
    ...(d.cwd ? [{ path: d.cwd, kind: 'uses' as const }] : []),
  ],
  probe(d: CommandOptions, facts: Facts): string {
    if (facts.dialect === 'powershell') {
      const ps: string[] = []
      if (d.creates) ps.push(`if (Test-Path -LiteralPath ${psQuote(d.creates)}) { 'creates=1' } else { 'creates=0' }`)
      if (d.unless) ps.push(psGuard({ argv: d.unless, ...(d.cwd ? { cwd: d.cwd } : {}), ...(d.env ? { env: d.env } : {}) }, 'unless'))
      return ps.join('\n') || '$null = 0'
    }
    const lines: string[] = []
    if (d.creates) lines.push(`if [ -e ${quote(d.creates)} ] || [ -L ${quote(d.creates)} ]; then echo creates=1; else echo creates=0; fi`)
    if (d.unless) {
      const guard = commandLine({ argv: d.unless, ...(d.cwd ? { cwd: d.cwd } : {}), ...(d.env ? { env: d.env } : {}) })
      lines.push(`(${guard}) </dev/null >/dev/null 2>&1; echo "unless=$?"`)
    }
    return lines.join('\n') || ':'
  },
  parse(data: ProbeData): CommandCurrent {
    const c: CommandCurrent = {}
    if (data.has('creates')) c.createsExists = data.get('creates') === '1'
    if (data.has('unless')) c.unlessPassed = data.get('unless') === '0'
    return c
  },
  diff(d: CommandOptions, c: CommandCurrent): Change[] {
    if (d.onlyIfNotified) return []
    if (c.createsExists || c.unlessPassed) return []
    const why = d.creates ? `${d.creates} is missing` : 'the unless check failed'
    return [{ text: `run ${showArgv(d.argv)} (${why})` }]
  },
  apply(d: CommandOptions, _c: CommandCurrent | undefined, changes: Change[]): Step[] {
    if (changes.length === 0) return []
    const step: Step = { argv: d.argv }
    if (d.cwd) step.cwd = d.cwd
    if (d.env) step.env = d.env
    if (d.timeout) step.timeout = d.timeout * 1000
    return [step]
  },
  onlyIfNotified: (d) => d.onlyIfNotified === true,
}

/**
 * A command guarded so that it is a no-op once done (`creates`, `unless`), or a handler that
 * runs only when notified.
 * @example
 * command({ argv: ['rustup-init', '-y', '--profile', 'minimal'], creates: '~/.cargo/bin/rustup' })
 */
export function command(opts: CommandOptions & CommonOptions): Resource<CommandOptions> {
  return declare(commandType, opts)
}
