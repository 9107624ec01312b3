import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { homedir, userInfo } from 'node:os'
import { dirname } from 'node:path'
import type { Client, ClientChannel } from 'ssh2'
import { AbortedError, ConnectError, TransportError } from '../../core/errors.ts'
import { quote } from '../../shell/posix/quote.ts'
import { StdinDriver, type SudoFailure } from '../sudo.ts'
import { Deadline, type Expiry } from '../deadline.ts'
import type { ExecOptions, ExecResult, Transport, TransportStats } from '../types.ts'
import { planAuth } from './auth.ts'
import { connectClient } from './client.ts'
import { parseJump, resolveSshTarget, type SshHostSpec, type SshTarget } from './config.ts'
import { checkHostKey, fingerprint, knownHostsLine, parseKnownHosts, preferredHostKeyAlgorithms, type HostKeyVerdict, type KnownHost } from './known-hosts.ts'

const DEFAULT_HOST_KEY_ALGOS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']

export interface SshTransportOptions {
  spec: SshHostSpec
  /** The controller user's home, for ~/.ssh; defaults to os.homedir(). */
  home?: string
  /** Trust a host seen for the first time and record its key (never a changed key). */
  acceptNewHostKeys?: boolean
  connectTimeoutMs?: number
  keepaliveMs?: number
  /** ssh-agent socket; defaults to $SSH_AUTH_SOCK. */
  agentSocket?: string
}

/** One long-lived connection per host; reconnects once if it dropped between two steps. */
/** After a command exits, how long what it left behind may hold the channel open. */
const EXIT_GRACE_MS = 500

export class SshTransport implements Transport {
  readonly stats: TransportStats = { roundTrips: 0, connections: 0 }
  private readonly o: SshTransportOptions
  private ssh: Client | null = null
  private jump: Client | null = null
  private dropped = false
  private target: SshTarget | null = null

  constructor(o: SshTransportOptions) {
    this.o = o
  }

  get name(): string {
    return this.o.spec.name
  }

  private async connect(): Promise<Client> {
    const home = this.o.home ?? homedir()
    const t = (this.target ??= resolveSshTarget(this.o.spec, home, userInfo().username))
    const sock = t.proxyJump ? await this.openJump(t, home) : undefined
    const ssh = await this.open(t, t.host, t.port, t.user, sock)
    this.ssh = ssh
    this.dropped = false
    ssh.on('close', () => (this.dropped = true))
    ssh.on('error', () => (this.dropped = true))
    return ssh
  }

  private async openJump(t: SshTarget, home: string): Promise<NodeJS.ReadWriteStream> {
    const j = parseJump(t.proxyJump as string)
    const jt = resolveSshTarget({ name: `${t.name} (ProxyJump ${j.address})`, address: j.address, ...(j.port ? { port: j.port } : {}), ...(j.user ? { user: j.user } : {}) }, home, userInfo().username)
    this.jump = await this.open(jt, jt.host, jt.port, jt.user)
    const conn = this.jump
    return new Promise((resolve, reject) => {
      conn.forwardOut('127.0.0.1', 0, t.host, t.port, (err, stream) => {
        if (err) reject(new ConnectError(`host ${t.name}: ProxyJump ${t.proxyJump} cannot reach ${t.host}:${t.port}: ${err.message}`, { cause: err }))
        else resolve(stream as unknown as NodeJS.ReadWriteStream)
      })
    })
  }

  private async open(t: SshTarget, host: string, port: number, user: string, sock?: NodeJS.ReadWriteStream): Promise<Client> {
    const files = t.knownHostsFiles
    const entries: KnownHost[] = files.flatMap((f) => (existsSync(f) ? parseKnownHosts(readFileSync(f, 'utf8')) : []))
    let verdict: HostKeyVerdict | null = null
    let offered: Buffer | null = null
    const acceptNew = this.o.acceptNewHostKeys === true || t.strictHostKeyChecking !== 'yes'
    const auth = planAuth(t, this.o.agentSocket ?? process.env.SSH_AUTH_SOCK)
    const where = `${user}@${host}:${port}`
    if (auth.methods.length === 0) {
      throw new ConnectError(`host ${t.name} (${where}): no SSH key to offer: start ssh-agent with your key, create ~/.ssh/id_ed25519, or set identityFile in the inventory`)
    }
    this.stats.connections++
    let ssh: Client
    try {
      ssh = await connectClient({
        ...(sock ? { sock: sock as never } : { host }),
        port,
        username: user,
        readyTimeout: this.o.connectTimeoutMs ?? 10_000,
        keepaliveInterval: this.o.keepaliveMs ?? 15_000,
        keepaliveCountMax: 3,
        algorithms: { serverHostKey: preferredHostKeyAlgorithms(entries, host, port, DEFAULT_HOST_KEY_ALGOS) as never },
        authHandler: auth.methods as never,
        hostVerifier: ((key: Buffer) => {
          offered = key
          verdict = checkHostKey(entries, host, port, key)
          return verdict.kind === 'known' || (verdict.kind === 'unknown' && acceptNew)
        }) as never,
      })
    } catch (e) {
      throw connectError(e as Error & { code?: string; level?: string }, t, where, verdict, offered, files[0] as string, auth.tried)
    }
    // Small request/response packets: Nagle's algorithm would add ~40 ms to every round trip.
    ssh.setNoDelay(true)
    if (verdict && (verdict as HostKeyVerdict).kind === 'unknown' && offered) {
      const file = files[0] as string
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
      appendFileSync(file, `${knownHostsLine(host, port, offered)}\n`, { mode: 0o600 })
    }
    return ssh
  }

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (opts.signal?.aborted) throw new AbortedError()
    if (!this.ssh || this.dropped) {
      if (this.ssh) this.ssh.end()
      await this.connect()
    }
    this.stats.roundTrips++
    const conn = this.ssh
    if (!conn) throw new TransportError(`host ${this.name}: not connected`)
    // A POSIX command line runs under sh whatever the login shell is (zsh, fish, bash with rc files).
    const remote = opts.raw ? command : `sh -c ${quote(command)}`
    return new Promise((resolve, reject) => {
      // Listeners are attached inside the callback: a fast command's exit status can arrive in the
      // same packet batch as the exec reply, before any later microtask could attach them.
      conn.exec(remote, (e, channel) => {
        if (e) return reject(new TransportError(`host ${this.name}: cannot start a command: ${e.message}`, { cause: e }))
        this.attach(channel, opts, resolve, reject)
      })
    })
  }

  private attach(channel: ClientChannel, opts: ExecOptions, resolve: (r: ExecResult) => void, reject: (e: Error) => void): void {
    const conn = this.ssh as Client
    const out: Buffer[] = []
    const err: Buffer[] = []
    let code: number | null = null
    let signal: string | null = null
    let special: SudoFailure | Expiry | undefined
    let aborted = false
    const stop = (): void => {
      try {
        channel.signal('KILL')
      } catch {}
      channel.end()
      channel.close()
    }
    const deadline = new Deadline(opts, (why) => ((special = why), stop()))
    const onAbort = (): void => {
      aborted = true
      stop()
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    const onDrop = (): void => {
      cleanup()
      reject(new TransportError(`host ${this.name}: the connection dropped while a command was running; it may or may not have finished. Run again: the next run converges what is left.`))
    }
    conn.once('close', onDrop)
    const cleanup = (): void => {
      deadline.clear()
      opts.signal?.removeEventListener('abort', onAbort)
      conn.removeListener('close', onDrop)
    }
    const driver = new StdinDriver(opts.stdin ?? '', opts.sudo, {
      write: (b) => channel.write(b),
      // A held stdin closes when the command exits or the run ends: the host-side watcher then
      // ends the command's process group (also when this controller dies: the connection closes).
      end: () => opts.hold || channel.end(),
      pipe: (r) => {
        r.on('error', () => stop())
        r.pipe(channel)
      },
      fail: (why) => ((special = why), stop()),
    })
    channel.on('data', (b: Buffer) => (deadline.touch(b.toString('utf8')), out.push(b)))
    channel.stderr.on('data', (b: Buffer) => {
        const text = driver.onStderr(b.toString('utf8'))
        deadline.touch(text)
        err.push(Buffer.from(text))
        if (text) opts.onStderr?.(text)
      })
    // The run ends when the command exits, not when the last pipe closes: whatever it left in the
    // background gets a moment to finish writing, then the channel is closed.
    let lingering: NodeJS.Timeout | undefined
    channel.on('exit', (c: number | null, s?: string) => {
      code = c
      signal = s ?? null
      deadline.clear()
      channel.end()
      lingering = setTimeout(() => channel.close(), EXIT_GRACE_MS)
    })
    channel.on('close', () => {
      clearTimeout(lingering)
      cleanup()
      if (aborted) return reject(new AbortedError())
      resolve({ code, signal: special ?? driver.failure() ?? signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') + driver.flush() })
    })
  }

  async close(): Promise<void> {
    this.ssh?.end()
    this.jump?.end()
    this.ssh = null
    this.jump = null
  }
}

function connectError(e: Error & { code?: string; level?: string }, t: SshTarget, where: string, v: HostKeyVerdict | null, offered: Buffer | null, knownHosts: string, tried: string[]): ConnectError {
  const at = `host ${t.name} (${where})`
  if (v && offered && v.kind !== 'known') {
    const fp = fingerprint(offered)
    if (v.kind === 'unknown') {
      return new ConnectError(`${at}: unknown host key ${fp}. If that fingerprint is right, run again with --accept-new-host-keys to record it in ${knownHosts}, or add it with ssh-keyscan`, { cause: e })
    }
    if (v.kind === 'revoked') return new ConnectError(`${at}: the host key ${fp} is marked @revoked in known_hosts; refusing`, { cause: e })
    const rec = v.recorded.map((r) => `${r.keyType} at line ${r.line}`).join(', ')
    return new ConnectError(
      `${at}: HOST KEY CHANGED: the host offered ${fp}, but known_hosts records a different key (${rec}). ` +
        `This can be an attack. If the host was really reinstalled, remove the old key with ssh-keygen -R '${t.port === 22 ? t.host : `[${t.host}]:${t.port}`}' and run again`,
      { cause: e },
    )
  }
  if (e.code === 'ECONNREFUSED') return new ConnectError(`${at}: connection refused: is sshd running there and is the port right?`, { cause: e })
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return new ConnectError(`${at}: cannot resolve the host name`, { cause: e })
  if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH') return new ConnectError(`${at}: host unreachable`, { cause: e })
  if (e.level === 'client-timeout' || /Timed out/i.test(e.message)) return new ConnectError(`${at}: timed out connecting; is the host up and reachable?`, { cause: e })
  if (e.level === 'client-authentication' || /authentication methods failed/i.test(e.message)) {
    return new ConnectError(`${at}: authentication failed; tried ${tried.join(', ')}. Add your public key to the user's ~/.ssh/authorized_keys on the host, or set identityFile`, { cause: e })
  }
  return new ConnectError(`${at}: ${e.message}`, { cause: e })
}
