import { execFile, execFileSync, type ExecFileOptions } from 'node:child_process'

export interface Ran {
  stdout: string
  stderr: string
  code: number
}

export interface RunOpts {
  input?: string
  timeoutMs?: number
  /**
   * Run it in a process group of its own, killed whole by killGroups(): for a long build
   * (debootstrap and its downloads) that an interrupt must stop before its tree is removed.
   */
  group?: boolean
}

const groups = new Set<number>()

/** SIGKILLs every group started with `group: true` that is still running (teardown, signals). */
export function killGroups(): void {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {}
  }
  groups.clear()
}

/** Runs argv (no shell), never throws: the lab reads the exit code itself. */
export function run(argv: string[], opts: RunOpts = {}): Promise<Ran> {
  return new Promise((resolve) => {
    // execFile hands `detached` to spawn; its options type does not list it.
    const options: ExecFileOptions & { detached: boolean } = { maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 0, killSignal: 'SIGKILL', detached: opts.group === true }
    const child = execFile(argv[0] as string, argv.slice(1), options, (err, stdout, stderr) => {
      if (child.pid !== undefined) groups.delete(child.pid)
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 128 + 9
      resolve({ stdout: String(stdout), stderr: String(stderr), code })
    })
    if (opts.group === true && child.pid !== undefined) groups.add(child.pid)
    if (opts.input !== undefined) child.stdin?.end(opts.input)
    else child.stdin?.end()
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
