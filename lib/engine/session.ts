import { BecomeError, CommandError, ConnectError, LockError, TransportError } from '../core/errors.ts'
import type { Facts, ProbeData, Step } from '../core/types.ts'
import { FACTS_SCRIPT, parseFacts } from '../facts/gather.ts'
import { parseKv } from '../facts/shell-lib.ts'
import { commandLine } from '../transport/posix.ts'
import type { ExecOptions, ExecResult, Transport } from '../transport/types.ts'
import { newSudoExchange } from '../transport/sudo.ts'
import { acquireScript, decodeHolder, holderIsGone, lockedError, newHolderPrefix, parseHolder, releaseScript, takeoverScript } from './lock.ts'
import { batchScript, newNonce, splitBatch } from './probe.ts'
import { showArgv } from '../resources/command.ts'

export type Log = (line: string) => void

/** How to gain privileges on the host; the password only ever travels on stdin. */
export interface BecomeSettings {
  user: string
  password?: string
  /** Where the password came from, for error messages (never the password itself). */
  source: string
}

/** Everything the engine sends to one host goes through here, so round trips stay countable. */
export class HostSession {
  lockInfo: string | null = null
  /** Set after facts when some resource needs privileges the login user lacks. */
  become: BecomeSettings | null = null
  readonly host: string
  readonly transport: Transport
  readonly lockPath: string
  readonly signal: AbortSignal | undefined
  readonly log: Log | undefined
  constructor(host: string, transport: Transport, lockPath: string, signal?: AbortSignal, log?: Log) {
    this.host = host
    this.transport = transport
    this.lockPath = lockPath
    this.signal = signal
    this.log = log
  }

  private async exec(line: string, opts: ExecOptions, become: boolean): Promise<ExecResult> {
    const b = become ? this.become : null
    if (!b) return this.transport.exec(line, opts)
    const x = newSudoExchange(b.password)
    const wrapped = commandLine({ argv: ['sudo', '-S', '-p', x.prompt, '-u', b.user, '--', 'sh', '-c', `printf '%s\\n' ${x.ready} >&2; ${line}`] })
    const r = await this.transport.exec(wrapped, { ...opts, sudo: x })
    if (r.signal === 'needs-password') {
      throw new BecomeError(`host ${this.host}: sudo asks for a password and none is configured: set becomePasswordEnv in the inventory to the name of an environment variable that holds it`)
    }
    if (r.signal === 'wrong-password') throw new BecomeError(`host ${this.host}: sudo rejected the password from ${b.source}`)
    if (r.code === 127 && /sudo: (not found|command not found)|sudo: No such file/.test(r.stderr)) {
      throw new BecomeError(`host ${this.host}: become needs sudo, which is not installed there`)
    }
    return r
  }

  private async sh(script: string, what: string, become = false): Promise<ExecResult> {
    const r = await this.exec('sh -s', { stdin: script, ...(this.signal ? { signal: this.signal } : {}) }, become)
    if (r.code !== 0) {
      throw new TransportError(`host ${this.host}: the ${what} script failed (exit ${r.code ?? r.signal}): ${tail(r.stderr)}`)
    }
    return r
  }

  /** Round trip 1: facts and the run lock together. */
  async start(): Promise<Facts> {
    const prefix = newHolderPrefix(newNonce())
    let r: ExecResult
    try {
      r = await this.sh(`${FACTS_SCRIPT}\n${acquireScript(this.lockPath, prefix)}`, 'fact-gathering')
    } catch (e) {
      if (e instanceof TransportError) throw new ConnectError(e.message, { cause: e })
      throw e
    }
    const facts = parseFacts(r.stdout, this.host)
    const kv = parseKv(r.stdout)
    const info = decodeHolder(kv.get('lockinfo'))
    const lock = kv.get('lock')
    if (lock === 'acquired') {
      this.lockInfo = info
    } else if (lock === 'held') {
      const raw = decodeHolder(kv.get('holder'))
      const holder = parseHolder(raw)
      if (!holder || !holderIsGone(holder, facts.bootId)) throw lockedError(this.host, this.lockPath, raw)
      this.log?.(`${this.host}: taking over the lock of a run that is gone (pid ${holder.pid} on ${holder.controller})`)
      const t = await this.sh(takeoverScript(this.lockPath, raw, info), 'lock takeover')
      if (parseKv(t.stdout).get('lock') !== 'acquired') throw lockedError(this.host, this.lockPath, raw)
      this.lockInfo = info
    } else {
      throw new LockError(`host ${this.host}: cannot create the run lock ${this.lockPath} (is its directory writable?)`)
    }
    return facts
  }

  async release(): Promise<void> {
    if (!this.lockInfo) return
    const info = this.lockInfo
    this.lockInfo = null
    // Not tied to the abort signal: an interrupted run must still give the lock back.
    await this.transport.exec('sh -s', { stdin: releaseScript(this.lockPath, info) })
  }

  /** One exec for any number of probe snippets. */
  async probe(snippets: string[], become = false): Promise<ProbeData[]> {
    if (snippets.length === 0) return []
    const nonce = newNonce()
    const r = await this.sh(batchScript(snippets, nonce), 'probe', become)
    return splitBatch(r.stdout, snippets.length, nonce, this.host)
  }

  async run(step: Step, become = false): Promise<ExecResult> {
    const line = commandLine(step)
    const label = step.label ?? showArgv(step.argv)
    this.log?.(`${this.host}: ${become && this.become ? `[sudo -u ${this.become.user}] ` : ''}$ ${label}`)
    const r = await this.exec(line, {
      ...(step.stdin !== undefined ? { stdin: step.stdin } : {}),
      ...(step.timeout ? { timeout: step.timeout } : {}),
      ...(this.signal ? { signal: this.signal } : {}),
    }, become)
    if (r.code !== 0) {
      const how = r.signal === 'timeout' ? `timed out after ${(step.timeout ?? 0) / 1000}s` : `exited with ${r.code ?? r.signal}`
      throw new CommandError(`${label} ${how}: ${tail(r.stderr) || '(no output on stderr)'}`, r.code, r.stderr)
    }
    return r
  }
}

function tail(s: string): string {
  const t = s.trim()
  return t.length > 600 ? `…${t.slice(-600)}` : t
}
