import { BecomeError, CommandError, ConnectError, hasCode, LockError, RebootRequiredError, TransportError } from '../core/errors.ts'
import type { CostlyFact, Dialect, Facts, OsName, ProbeData, Step } from '../core/types.ts'
import { parseFacts } from '../facts/gather.ts'
import { decodeHex, parseKv } from '../shell/protocol.ts'
import { DIALECTS, posixDialect, type Exec, type ShellDialect } from '../shell/dialect.ts'
import { commandLine, showArgv } from '../shell/posix/quote.ts'
import { withAskpass } from '../shell/posix/askpass.ts'
import { applyBatchScript, type BatchMember, type MemberResult } from '../shell/posix/apply-batch.ts'
import type { ExecOptions, ExecResult, Transport } from '../transport/types.ts'
import { newSudoExchange } from '../transport/sudo.ts'
import { redact } from './report.ts'
import { holderIsGone, lockedError, markedForReboot, newHolderPrefix, parseHolder } from './lock.ts'
import { newNonce } from '../shell/protocol.ts'
import { DEFAULT_PROMPT_MS, lastSection, progressParser, promptOf, tail } from './output.ts'


export type Log = (line: string) => void

/** How to gain privileges on the host; the password only ever travels on stdin. */
export interface BecomeSettings {
  user: string
  password?: string
  /** Where the password came from, for error messages (never the password itself). */
  source: string
}

export interface SessionOptions {
  host: string
  transport: Transport
  lockPath: string
  signal?: AbortSignal
  log?: Log
  /** The inventory's os hint: a Windows host is asked in PowerShell first. */
  osHint?: OsName
  /** Milliseconds the batched probe may take (default 2 minutes). */
  probeTimeout?: number
}

/** Everything the engine sends to one host goes through here, so round trips stay countable. */
export class HostSession {
  lockInfo: string | null = null
  /** Values to redact from command output before it is cut to the tail shown in errors. */
  secrets: string[] = []
  /** Collected for the host's report (HostReport.warnings). */
  readonly warnings: string[] = []
  /** What asked, on this very boot, for a restart that has not happened (a mark beside the lock). */
  pendingReboot: string | undefined
  /** The host's boot id, from the facts. */
  private bootId = 'unknown'
  /** Set after facts when some resource needs privileges the login user lacks. */
  become: BecomeSettings | null = null
  dialect: ShellDialect = posixDialect
  readonly host: string
  readonly transport: Transport
  readonly lockPath: string
  readonly signal: AbortSignal | undefined
  readonly log: Log | undefined
  private readonly osHint: OsName | undefined
  private readonly probeTimeout: number

  constructor(o: SessionOptions) {
    this.host = o.host
    this.transport = o.transport
    this.lockPath = o.lockPath
    this.signal = o.signal
    this.log = o.log
    this.osHint = o.osHint
    this.probeTimeout = o.probeTimeout ?? 120_000
  }

  private async exec(x: Exec, extra: Omit<ExecOptions, 'stdin' | 'raw'>, become: boolean): Promise<ExecResult> {
    const opts: ExecOptions = { ...extra, raw: x.raw, ...(x.hold ? { hold: true } : {}), ...(x.stdin !== undefined ? { stdin: x.stdin } : {}), ...(this.signal ? { signal: this.signal } : {}) }
    const b = become ? this.become : null
    if (!b) return this.transport.exec(x.command, opts)
    const sx = newSudoExchange(b.password)
    const wrapped = commandLine({ argv: ['sudo', '-S', '-p', sx.prompt, '-u', b.user, '--', 'sh', '-c', `printf '%s\\n' ${sx.ready} >&2; ${x.command}`] })
    const r = await this.transport.exec(wrapped, { ...opts, raw: false, sudo: sx })
    if (r.signal === 'needs-password') {
      throw new BecomeError(`host ${this.host}: sudo asks for a password and none is configured: set becomePasswordEnv in the inventory to the name of an environment variable that holds it`)
    }
    if (r.signal === 'wrong-password') throw new BecomeError(`host ${this.host}: sudo rejected the password from ${b.source}`)
    if (r.code === 127 && /sudo: (not found|command not found)|sudo: No such file/.test(r.stderr)) {
      throw new BecomeError(`host ${this.host}: become needs sudo, which is not installed there`)
    }
    return r
  }

  private async script(script: string, what: string, become = false, dialect = this.dialect): Promise<ExecResult> {
    const r = await this.exec(dialect.script(script), {}, become)
    if (r.code !== 0) {
      throw new TransportError(`host ${this.host}: the ${what} script failed (exit ${r.code ?? r.signal}): ${tail(redact(r.stderr, this.secrets))}`)
    }
    return r
  }

  /**
   * Round trip 1: facts and the run lock together, in the dialect the host answers to. POSIX sh
   * is tried first unless the inventory says Windows; a host that refuses it is asked in PowerShell.
   * The costly facts the recipe declared (`gpu`) join this same exec.
   */
  async start(costly: readonly CostlyFact[] = [], o: { sudo?: boolean; resume?: string } = {}): Promise<Facts> {
    const prefix = newHolderPrefix(newNonce())
    const order: Dialect[] = this.osHint === 'windows' ? ['powershell', 'posix'] : ['posix', 'powershell']
    const failures: string[] = []
    for (const name of order) {
      const d = DIALECTS[name]
      let r: ExecResult
      try {
        r = await this.script(`${d.facts(costly, o)}\n${d.acquire(this.lockPath, prefix)}`, 'fact-gathering', false, d)
      } catch (e) {
        if (!hasCode(e, 'E_TRANSPORT')) throw e
        failures.push(`${name}: ${(e as Error).message}`)
        continue
      }
      this.dialect = d
      const facts = { ...parseFacts(r.stdout, this.host), dialect: name }
      const kv = parseKv(r.stdout)
      await this.takeLock(kv, facts, o.resume)
      this.bootId = facts.bootId
      const [markBoot, ...what] = decodeHex(kv.get('rebootmark')).trim().split('|')
      // A mark from an earlier boot: that restart happened.
      if (markBoot && markBoot !== 'unknown' && markBoot === facts.bootId) this.pendingReboot = what.join('|') || 'an earlier run'
      return facts
    }
    throw new ConnectError(`host ${this.host}: neither POSIX sh nor PowerShell ran the first command (${failures.join('; ')})`)
  }

  /** `resume`: the lock text this run left marked before it rebooted the host; it takes that back. */
  private async takeLock(kv: Map<string, string>, facts: Facts, resume?: string): Promise<void> {
    const info = decodeHex(kv.get('lockinfo'))
    const lock = kv.get('lock')
    if (lock === 'acquired') {
      this.lockInfo = info
    } else if (lock === 'held') {
      const raw = decodeHex(kv.get('holder'))
      const holder = parseHolder(raw)
      const ours = resume !== undefined && raw === resume
      if (!holder || !(ours || holderIsGone(holder, facts.bootId))) throw lockedError(this.host, this.lockPath, raw)
      if (ours) {
        this.log?.(`${this.host}: back after the reboot; taking this run's lock again`)
      } else {
        const why = `taking over the lock of a run that is gone (pid ${holder.pid} on ${holder.controller}, started ${holder.started})`
        this.warnings.push(why)
        this.log?.(`${this.host}: ${why}`)
      }
      const t = await this.script(this.dialect.takeover(this.lockPath, raw, info), 'lock takeover')
      if (parseKv(t.stdout).get('lock') !== 'acquired') throw lockedError(this.host, this.lockPath, raw)
      this.lockInfo = info
    } else {
      throw new LockError(`host ${this.host}: cannot create the run lock ${this.lockPath} (is its directory writable?)`)
    }
  }

  /**
   * Before a reboot: the lock stays this run's across it, marked with the time by which the run
   * will be back for it (lock.ts). Returns the marked text, which the run recognises afterwards.
   */
  async markForReboot(until: Date): Promise<string> {
    const info = this.lockInfo
    if (!info) throw new LockError(`host ${this.host}: the run holds no lock to keep across the reboot`)
    const marked = markedForReboot(info, until)
    const t = await this.script(this.dialect.takeover(this.lockPath, info, marked), 'lock marking')
    if (parseKv(t.stdout).get('lock') !== 'acquired') {
      throw new LockError(`host ${this.host}: the run's lock ${this.lockPath} was taken while it ran; not restarting the host. Check which other run holds it`)
    }
    this.lockInfo = marked
    return marked
  }

  /**
   * Starts the host's restart (as root: the become user when the login user is not). The lock is
   * then left to the restarted host, marked. A connection that drops before the answer is expected.
   */
  async reboot(asRoot: boolean): Promise<void> {
    let r: ExecResult
    try {
      r = await this.exec(this.dialect.script(this.dialect.reboot), { timeout: 60_000 }, asRoot)
    } catch (e) {
      if (!hasCode(e, 'E_TRANSPORT')) throw e
      this.lockInfo = null
      return
    }
    if (r.code !== 0) throw new TransportError(`host ${this.host}: the restart command failed (exit ${r.code ?? r.signal}): ${tail(redact(r.stderr, this.secrets))}`)
    this.lockInfo = null
  }

  /**
   * Remembers on the host that this boot owes a restart: the step's own guard may already hold
   * (its work is staged), and the next run must not take that for done. Best effort: the run
   * stops as reboot required either way.
   */
  private async markRebootPending(what: string): Promise<void> {
    try {
      await this.script(this.dialect.markReboot(this.lockPath, `${this.bootId}|${redact(what, this.secrets)}`), 'restart mark')
    } catch (e) {
      this.log?.(`${this.host}: could not record the pending restart: ${(e as Error).message}`)
    }
  }

  async release(): Promise<void> {
    if (!this.lockInfo) return
    const info = this.lockInfo
    this.lockInfo = null
    // Not tied to the abort signal: an interrupted run must still give the lock back.
    const x = this.dialect.script(this.dialect.release(this.lockPath, info))
    await this.transport.exec(x.command, { raw: x.raw, ...(x.stdin !== undefined ? { stdin: x.stdin } : {}) })
  }

  /**
   * One exec for any number of probe snippets, bounded in time: a guard that never ends must not
   * hang even a plan. `names` say which resource each snippet belongs to, for that error.
   */
  async probe(snippets: string[], become = false, names: string[] = []): Promise<ProbeData[]> {
    if (snippets.length === 0) return []
    const nonce = newNonce()
    const plan = this.dialect.batch(snippets, nonce)
    const r = await this.exec(this.dialect.script(plan.script), { timeout: this.probeTimeout }, become)
    if (r.signal === 'timeout') {
      const i = lastSection(r.stdout, nonce)
      const who = i === undefined ? 'the probe' : `the probe of ${names[i] ?? `section ${i + 1}`}`
      throw new TransportError(
        `host ${this.host}: ${who} did not finish within ${this.probeTimeout / 1000}s (a guard that never ends or waits for input?); ` +
          'nothing was changed. Fix the guard, or raise probeTimeout',
      )
    }
    if (r.code !== 0) throw new TransportError(`host ${this.host}: the probe script failed (exit ${r.code ?? r.signal}): ${tail(redact(r.stderr, this.secrets))}`)
    // PowerShell prints CRLF; a POSIX host's raw names (the batched stat) may end in a CR of their own.
    return plan.parse(this.dialect.name === 'powershell' ? r.stdout.replaceAll('\r\n', '\n') : r.stdout, this.host)
  }

  /**
   * The steps of many independent resources in one exec (shell/posix/apply-batch.ts); each
   * member's result, which the engine then verifies with one batched probe. POSIX hosts only.
   */
  async applyBatch(members: BatchMember[], become = false): Promise<MemberResult[]> {
    const plan = applyBatchScript(members, newNonce())
    for (const m of members) {
      const labels = m.kind === 'write' ? [`write ${m.write.path}`] : m.steps.map((s) => s.label ?? showArgv(s.argv))
      for (const l of labels) this.log?.(`${this.host}: ${become && this.become ? `[sudo -u ${this.become.user}] ` : ''}$ ${l} (batched)`)
    }
    const r = await this.exec(this.dialect.script(plan.script), {}, become)
    if (r.code !== 0) throw new TransportError(`host ${this.host}: the batched apply script failed (exit ${r.code ?? r.signal}): ${tail(redact(r.stderr, this.secrets))}`)
    return plan.parse(r.stdout, this.host)
  }

  /**
   * Before the first step that hands the become password to sudo -A (askpass): one `true` under
   * sudo, so that a wrong password is this clear error and not a failing installer halfway.
   */
  async checkBecome(): Promise<void> {
    const r = await this.exec(this.dialect.script('true'), {}, true)
    if (r.code !== 0) throw new BecomeError(`host ${this.host}: sudo -u ${this.become?.user} true failed (exit ${r.code ?? r.signal}): ${tail(redact(r.stderr, this.secrets))}`)
  }

  async run(step: Step, become = false): Promise<ExecResult> {
    const label = step.label ?? showArgv(step.argv)
    this.log?.(`${this.host}: ${become && this.become ? `[sudo -u ${this.become.user}] ` : ''}$ ${label}`)
    await step.prepare?.()
    const onStderr = step.progress ? progressParser(step.progress) : undefined
    const promptTimeout = step.promptTimeout ?? DEFAULT_PROMPT_MS
    const bounds = { ...(step.timeout ? { timeout: step.timeout } : {}), ...(step.idleTimeout ? { idleTimeout: step.idleTimeout } : {}), promptTimeout }
    // A step that runs sudo itself gets the login user's become password through SUDO_ASKPASS
    // (a step under become already runs as the target user: its password is not this one).
    const password = step.askpass && !become && this.dialect.name === 'posix' ? this.become?.password : undefined
    const sent = password !== undefined ? withAskpass(step, password) : step
    const r = await this.exec(this.dialect.step(sent), { ...bounds, ...(onStderr ? { onStderr } : {}) }, become)
    if (step.progress) r.stderr = r.stderr.replace(/^statecraft-progress .*\n?/gm, '')
    // Windows installers: 3010 = done, a restart completes it; 1641 = the installer started one.
    const rebootCodes = [...(step.rebootExitCodes ?? []), ...(this.dialect.name === 'powershell' ? [3010, 1641] : [])]
    if (r.code !== null && rebootCodes.includes(r.code)) {
      await this.markRebootPending(`${label} exited ${r.code}`)
      throw new RebootRequiredError(
        `host ${this.host}: ${label} finished (exit ${r.code}) and needs the host to restart; restart it, then run again: the run goes on from there ` +
          '(or run with --reboot, and statecraft restarts it and goes on)',
      )
    }
    if (r.code !== 0) {
      const how =
        r.signal === 'timeout'
          ? `timed out after ${(step.timeout ?? 0) / 1000}s`
          : r.signal === 'idle-timeout'
            ? `was stopped after ${(step.idleTimeout ?? 0) / 1000}s without any output`
            : r.signal === 'prompt'
              ? `stopped to wait for input (${JSON.stringify(redact(promptOf(r), this.secrets))}) and was ended after ${promptTimeout / 1000}s: statecraft gives commands no input; ` +
                'make the command non-interactive (a --yes / --non-interactive flag, or an env such as DEBIAN_FRONTEND=noninteractive)'
              : `exited with ${r.code ?? r.signal}`
      const explained = step.explain?.({ code: r.code, stderr: r.stderr, askpass: password !== undefined })
      // Redact before cutting: a cut through a secret would leave a part no redaction recognises.
      const stderr = redact(r.stderr, this.secrets)
      const hint = step.askpass && password === undefined && /sudo/.test(stderr) ? `; ${NO_ASKPASS}` : ''
      throw new CommandError(explained ?? `${label} ${how}: ${tail(stderr) || '(no output on stderr)'}${hint}`, r.code, stderr)
    }
    return r
  }
}

/** Why a step that may run sudo itself got no password (Step.askpass). */
export const NO_ASKPASS =
  'statecraft had no sudo password to hand it through SUDO_ASKPASS: give the host become settings with the password (becomePasswordEnv in the inventory, or answer the prompt on a terminal)'

