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

const code = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  cwd: process.cwd(),
  env: process.env,
  signal: controller.signal,
  ...(process.stdin.isTTY && process.stderr.isTTY ? { prompt: readSecret } : {}),
})
process.exitCode = code
