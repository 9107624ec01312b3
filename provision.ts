#!/usr/bin/env node
// Entry point: `npx tsx provision.ts --host local --plan` (Node 20) or `node provision.ts …` (Node 22.18+).
import module from 'node:module'

// Node 22.1+ keeps compiled (and, on Node 24, type-stripped) modules between runs: a run starts in
// about half the time. Enabled before the library loads, hence the dynamic imports below.
;(module as { enableCompileCache?: () => unknown }).enableCompileCache?.()
const { main } = await import('./lib/cli/main.ts')
const { readSecret } = await import('./lib/cli/prompt.ts')

const controller = new AbortController()
let interrupts = 0
// SIGTERM (a CI job cancelled, `kill`) is an interruption like Ctrl-C: stop, release the locks.
const interrupt = (): void => {
  interrupts++
  if (interrupts > 1) process.exit(130)
  process.stderr.write('\nstatecraft: interrupted; releasing locks (Ctrl-C again to quit at once)\n')
  controller.abort()
}
process.on('SIGINT', interrupt)
process.on('SIGTERM', interrupt)

// A reader that went away (`--plan | head`, a pager that quit): stop quietly, like a pipeline
// expects, and end the run the way Ctrl-C does so each host's lock is released.
let readerGone = false
const onWriteError = (e: NodeJS.ErrnoException): void => {
  if (e.code !== 'EPIPE') throw e
  if (!readerGone) controller.abort()
  readerGone = true
}
process.stdout.on('error', onWriteError)
process.stderr.on('error', onWriteError)
const write = (stream: NodeJS.WriteStream) => (s: string): void => {
  if (!readerGone) stream.write(s)
}

const code = await main(process.argv.slice(2), {
  stdout: write(process.stdout),
  stderr: write(process.stderr),
  color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  cwd: process.cwd(),
  env: process.env,
  signal: controller.signal,
  ...(process.stdin.isTTY && process.stderr.isTTY ? { prompt: readSecret } : {}),
})
process.exitCode = code
