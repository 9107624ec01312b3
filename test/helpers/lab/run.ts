import { execFileSync, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { constants } from 'node:os'

export interface Ran {
  stdout: string
  stderr: string
  code: number
}

export interface RunOpts {
  input?: string
  timeoutMs?: number
  /**
   * Run it in a process group of its own, killed whole by settle(): for a long build
   * (debootstrap and its downloads) that an interrupt must stop before its tree is removed.
   */
  group?: boolean
  /**
   * What an interrupt does to it while it runs: a setup step ('wait', the default: `ip link
   * add`, `mount`, `nft add` are short, and what they create must exist before the teardown
   * looks for it) or a command inside a host ('kill': it could run for minutes).
   */
  onInterrupt?: 'wait' | 'kill'
}

/** The commands running now, by pid: what an interrupt must settle before the teardown. */
const running = new Map<number, { group: boolean; kill: boolean }>()
let interrupted = false

function signal(pid: number, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, 'SIGKILL')
  } catch {}
}

/** The state letter in a /proc/<pid>/stat line (it follows the name, which may hold ") "). */
const stateOf = (stat: string): string => stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)

/** Whether pid has ended: gone, or a zombie (nothing reaps children while a handler runs). */
function ended(pid: number): boolean {
  try {
    return stateOf(readFileSync(`/proc/${pid}/stat`, 'utf8')) === 'Z'
  } catch {
    return true
  }
}

/** Whether any process of group pgid still runs (debootstrap's dpkg and tar outlive its leader briefly). */
function groupRuns(pgid: number): boolean {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(after[2]) === pgid && after[0] !== 'Z') return true
    } catch {}
  }
  return false
}

const settled = (pid: number, r: { group: boolean }): boolean => ended(pid) && (!r.group || !groupRuns(pid))

/**
 * For teardown in a signal or exit handler (synchronous): no command starts after it; long
 * builds and host commands are SIGKILLed; short setup steps are waited for (up to 10 s), so
 * that whatever they create exists when the teardown's idempotent steps look for it.
 */
export function settle(): void {
  interrupted = true
  for (const [pid, r] of running) if (r.group || r.kill) signal(pid, r.group)
  const waiting = (): boolean => [...running].some(([pid, r]) => !settled(pid, r))
  const until = Date.now() + 10_000
  while (waiting() && Date.now() < until) sleepSync(20)
  for (const [pid, r] of running) if (!settled(pid, r)) signal(pid, r.group)
  for (let i = 0; i < 100 && waiting(); i++) sleepSync(20)
}

/** Runs argv (no shell), never throws: the lab reads the exit code itself. */
export function run(argv: string[], opts: RunOpts = {}): Promise<Ran> {
  if (interrupted) return Promise.resolve({ stdout: '', stderr: `lab: interrupted; not starting \`${argv.join(' ')}\``, code: 130 })
  return new Promise((resolve) => {
    const group = opts.group === true
    // spawn, not execFile: execFile drops `detached`, so a build would share this process's
    // group and no interrupt could kill it whole.
    const child = spawn(argv[0] as string, argv.slice(1), { detached: group, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    const timer = opts.timeoutMs ? setTimeout(() => child.pid !== undefined && signal(child.pid, group), opts.timeoutMs) : undefined
    const done = (code: number, note = ''): void => {
      clearTimeout(timer)
      if (child.pid !== undefined) running.delete(child.pid)
      resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() + note, code })
    }
    child.once('error', (e) => done(127, `lab: could not start ${argv[0]}: ${e.message}`))
    // 'close': the output is all read; a signal reads as 128 + its number, as in a shell.
    child.once('close', (code, sig) => done(code ?? 128 + (sig ? (constants.signals[sig] ?? 9) : 9)))
    if (child.pid !== undefined) running.set(child.pid, { group, kill: opts.onInterrupt === 'kill' })
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input)
  })
}

/** Runs argv and throws, naming the command and what it printed, when it fails. */
export async function must(argv: string[], opts: RunOpts = {}): Promise<string> {
  const r = await run(argv, opts)
  if (r.code !== 0) throw new Error(`lab: \`${argv.join(' ')}\` exited with ${r.code}: ${(r.stderr || r.stdout).trim().slice(-2000)}`)
  return r.stdout
}

/** The synchronous twin, for teardown in a signal or exit handler (nothing async runs there). */
export function mustSync(argv: string[]): string {
  return execFileSync(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }).toString()
}

/** Blocks the thread for ms (teardown in a signal handler waits for killed processes to go). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
