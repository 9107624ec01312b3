import { readFileSync, rmSync } from 'node:fs'
import { mustSync, settle } from './run.ts'

/**
 * What a lab has done to the machine, undone in reverse order. Every step is synchronous so the
 * same list serves stop(), a failure half-way through setup, and a SIGINT/SIGTERM or exit of the
 * test process (where nothing asynchronous gets to run). Each step is added before the thing it
 * undoes is made, and checks what exists, so it is right whenever the interrupt came. A step
 * that fails does not stop the ones after it; the failures are reported together. Once run, the
 * list is closed: a step added later (setup still going after an interrupt) runs at once.
 */
export class Undo {
  private steps: { what: string; run: () => void }[] = []
  private closed = false

  add(what: string, run: () => void): void {
    this.steps.push({ what, run })
    if (this.closed) this.runAll()
  }

  runAll(): string[] {
    this.closed = true
    const failures: string[] = []
    for (let s = this.steps.pop(); s !== undefined; s = this.steps.pop()) {
      try {
        s.run()
      } catch (e) {
        failures.push(`${s.what}: ${(e as Error).message.trim().split('\n')[0]}`)
      }
    }
    return failures
  }
}

const live = new Set<Undo>()

/** The teardown of an interrupt or exit: commands settled first, then every lab undone. */
function undoAll(): void {
  settle()
  for (const u of live) u.runAll()
  live.clear()
}

function onSignal(sig: NodeJS.Signals): void {
  undoAll()
  process.off('exit', undoAll)
  process.off(sig === 'SIGINT' ? 'SIGTERM' : 'SIGINT', onSignal)
  // Die of the same signal, as the process would have without this handler.
  process.kill(process.pid, sig)
}

/** Keeps `u` to be run if the process is interrupted or exits before the lab is stopped. */
export function guard(u: Undo): void {
  if (live.size === 0) {
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    process.on('exit', undoAll)
  }
  live.add(u)
}

export function unguard(u: Undo): void {
  live.delete(u)
  if (live.size === 0) {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('exit', undoAll)
  }
}

/** Mount points at or below dir, deepest first (mountinfo escapes spaces as \040). */
export function mountsUnder(dir: string): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(`${dir}/`)))
  return [...new Set(points)].sort((a, b) => b.length - a.length)
}

/**
 * Removes a lab directory, first unmounting whatever is mounted below it: a recursive delete
 * would otherwise walk into a mounted overlay (and delete the shared base through it) or /proc.
 */
export function removeTree(dir: string): void {
  for (const m of mountsUnder(dir)) mustSync(['umount', '--lazy', m])
  rmSync(dir, { recursive: true, force: true })
}
