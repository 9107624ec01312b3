import { spawn } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { findSecrets, registeredSecrets } from './sweep.ts'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const PROVISION = `${ROOT}provision.ts`

/** Node 22.18+ strips types itself; older Node runs the same sources through tsx. */
export function nodeRunsTs(): boolean {
  const [maj = 0, min = 0] = process.versions.node.split('.').map(Number)
  return maj > 22 || (maj === 22 && min >= 18)
}

export function tsNodeArgs(): string[] {
  return nodeRunsTs() ? [] : ['--import', pathToFileURL(`${ROOT}node_modules/tsx/dist/loader.mjs`).href]
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliRun {
  child: ReturnType<typeof spawn>
  done: Promise<CliResult>
}

/** Starts `provision.ts` as a user would, in `cwd` with HOME set to a temp dir. */
export function startCli(args: string[], opts: { cwd: string; home: string; env?: Record<string, string> }): CliRun {
  const child = spawn(process.execPath, [...tsNodeArgs(), PROVISION, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, HOME: opts.home, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString('utf8')))
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')))
  // The secrets sweep: no registered secret may appear in anything the CLI prints.
  const done = new Promise<CliResult>((resolve, reject) =>
    child.on('close', (code) => {
      const hits = findSecrets(stdout + stderr, registeredSecrets(), `statecraft ${args.join(' ')}`)
      if (hits.length > 0) reject(new Error(`secrets sweep: ${hits.join('\n')}`))
      else resolve({ code, stdout, stderr })
    }),
  )
  return { child, done }
}

export function cli(args: string[], opts: { cwd: string; home: string; env?: Record<string, string> }): Promise<CliResult> {
  return startCli(args, opts).done
}
