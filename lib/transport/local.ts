import { spawn as nodeSpawn } from 'node:child_process'
import type { OsName } from '../core/types.ts'
import { AbortedError, TransportError } from '../core/errors.ts'
import type { ExecOptions, ExecResult, Transport, TransportStats } from './types.ts'
import { Deadline } from './deadline.ts'
import { StdinDriver, type SudoFailure } from './sudo.ts'

export interface LocalTransportOptions {
  /** Environment for every command; defaults to this process's. Tests pass a temp HOME here. */
  env?: NodeJS.ProcessEnv
  /** The shell that runs command lines; POSIX sh by default (cmd.exe on Windows). */
  shell?: string
  /** The OS this process runs on; tests replay Windows with 'win32'. */
  platform?: NodeJS.Platform
  /** Starts processes; tests replay a host through it. */
  spawn?: typeof nodeSpawn
}

/** After a command exits, how long what it left behind may hold its output pipes open. */
const EXIT_GRACE_MS = 500

/** Runs on the controller itself: one spawned process per round trip. */
export class LocalTransport implements Transport {
  readonly stats: TransportStats = { roundTrips: 0, connections: 1 }
  /**
   * Windows: the engine asks in PowerShell first, as it does an SSH host with `os: windows`. The
   * command lines it sends then are ones OpenSSH's default shell, cmd.exe, would run.
   */
  readonly osHint: OsName | undefined
  private readonly env: NodeJS.ProcessEnv
  private readonly shell: string
  private readonly windows: boolean
  private readonly spawn: typeof nodeSpawn

  constructor(opts: LocalTransportOptions = {}) {
    this.env = opts.env ?? process.env
    this.windows = (opts.platform ?? process.platform) === 'win32'
    this.osHint = this.windows ? 'windows' : undefined
    this.shell = opts.shell ?? (this.windows ? (this.env.ComSpec ?? 'cmd.exe') : '/bin/sh')
    this.spawn = opts.spawn ?? nodeSpawn
  }

  /** How one command line starts: `sh -c LINE` in its own process group, or `cmd.exe /d /s /c "LINE"` (what Node's shell option runs). */
  private start(command: string) {
    if (!this.windows) return this.spawn(this.shell, ['-c', command], { env: this.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    return this.spawn(this.shell, ['/d', '/s', '/c', `"${command}"`], { env: this.env, stdio: ['pipe', 'pipe', 'pipe'], windowsVerbatimArguments: true, windowsHide: true })
  }

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.stats.roundTrips++
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) return reject(new AbortedError())
      // Own process group, so a timeout or Ctrl-C stops the command's children too (a `sleep` holding the pipes).
      const child = this.start(command)
      const killGroup = (sig: NodeJS.Signals): void => {
        // Windows has no process groups: taskkill /T ends the tree under cmd.exe.
        if (this.windows && child.pid) {
          this.spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on('error', () => child.kill())
          return
        }
        try {
          if (child.pid) process.kill(-child.pid, sig)
        } catch {
          child.kill(sig)
        }
      }
      const out: Buffer[] = []
      const err: Buffer[] = []
      let aborted = false
      const deadline = new Deadline(opts, () => killGroup('SIGKILL'))
      const onAbort = (): void => {
        aborted = true
        killGroup('SIGTERM')
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      let sudoFailure: SudoFailure | undefined
      const driver = new StdinDriver(opts.stdin ?? '', opts.sudo, {
        write: (b) => child.stdin.write(b),
        // A held stdin closes when the command exits (or the run ends): the host-side watcher then
        // ends the process group.
        end: () => opts.hold || child.stdin.end(),
        pipe: (r) => {
          r.on('error', () => killGroup('SIGKILL'))
          r.pipe(child.stdin)
        },
        fail: (why) => {
          sudoFailure = why
          killGroup('SIGKILL')
        },
      })
      child.stdout.on('data', (b: Buffer) => (deadline.touch(b.toString('utf8')), out.push(b)))
      child.stderr.on('data', (b: Buffer) => {
        const text = driver.onStderr(b.toString('utf8'))
        deadline.touch(text)
        err.push(Buffer.from(text))
        if (text) opts.onStderr?.(text)
      })
      child.stdin.on('error', () => {}) // a command that exits without reading stdin is not our error
      child.on('error', (e) => {
        deadline.clear()
        reject(new TransportError(`cannot start ${this.shell} on the local host: ${e.message}`, { cause: e }))
      })
      // The run ends when the command exits, not when the last pipe closes: whatever it left in the
      // background gets a moment to finish writing, then its process group is ended.
      let lingering: NodeJS.Timeout | undefined
      child.on('exit', () => {
        deadline.clear()
        child.stdin.end()
        lingering = setTimeout(() => killGroup('SIGKILL'), EXIT_GRACE_MS)
      })
      child.on('close', (code, signal) => {
        deadline.clear()
        clearTimeout(lingering)
        opts.signal?.removeEventListener('abort', onAbort)
        if (aborted) return reject(new AbortedError())
        const stderr = Buffer.concat(err).toString('utf8') + driver.flush()
        resolve({
          code,
          signal: sudoFailure ?? driver.failure() ?? deadline.expired ?? signal,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr,
        })
      })
    })
  }

  async close(): Promise<void> {}
}
