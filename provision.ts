#!/usr/bin/env node
// Entry point: `npx tsx provision.ts --host local --plan` (Node 20) or `node provision.ts …` (Node 22.18+).
import { existsSync, readdirSync, statSync } from 'node:fs'
import module from 'node:module'
import { fileURLToPath } from 'node:url'

// Node 22.1+ keeps compiled (and, on Node 24, type-stripped) modules between runs: a run starts in
// about half the time. Enabled before the library loads, hence the dynamic imports below.
;(module as { enableCompileCache?: () => unknown }).enableCompileCache?.()
const built = import.meta.url.endsWith('.ts') ? prebuilt() : undefined
const { main } = built ? ((await import(new URL('lib/cli/main.js', built).href)) as typeof import('./lib/cli/main.ts')) : await import('./lib/cli/main.ts')
const { readSecret } = built ? ((await import(new URL('lib/cli/prompt.js', built).href)) as typeof import('./lib/cli/prompt.ts')) : await import('./lib/cli/prompt.ts')

/**
 * The sources (`npx tsx provision.ts`, `node provision.ts` on Node 24) run the build beside them
 * (dist/, from `npm run build` or the published package) when it is newer than every source file:
 * no transpiling or type-stripping of ~150 modules on every run, and a recipe that imports
 * 'statecraft' (dist/) shares the CLI's copy of the library instead of loading a second one.
 * After an edit the build is older, and the sources run. STATECRAFT_SOURCES=1 always runs them.
 */
function prebuilt(): URL | undefined {
  const dist = new URL('dist/', import.meta.url)
  if (process.env.STATECRAFT_SOURCES === '1') return undefined
  let builtAt: number
  try {
    builtAt = statSync(new URL('provision.js', dist)).mtimeMs
  } catch {
    return undefined
  }
  // An installed package is not edited in place: its build is the one to run, without a look at
  // every source (128 stats: 11-33 ms on a loaded 2-core machine, bench/STARTUP.md).
  if (fileURLToPath(import.meta.url).includes('/node_modules/')) return dist
  const newer = (f: string): boolean => f.endsWith('.ts') && statSync(f).mtimeMs > builtAt
  if (newer(fileURLToPath(import.meta.url))) return undefined
  for (const top of ['lib', 'recipes']) {
    const dir = fileURLToPath(new URL(`${top}/`, import.meta.url))
    if (!existsSync(dir)) continue
    for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) if (newer(`${dir}${f}`)) return undefined
  }
  return dist
}

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
