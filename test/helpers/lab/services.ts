import { spawn, type ChildProcess } from 'node:child_process'
import type { Undo } from './cleanup.ts'

export interface LabServices {
  address: string
  spawn(argv: string[], opts?: { env?: Record<string, string> }): ChildProcess
}

/**
 * The stand-in services' host: a plain network namespace on the bridge (no rootfs: it shares
 * this machine's files), where a test runs a fake model hub or git server at `address`.
 * Everything spawned there is killed at stop(); what it forked dies with the namespace.
 */
export function servicesIn(netns: string, address: string, undo: Undo): LabServices {
  const children: ChildProcess[] = []
  undo.add(`stop the services in ${netns}`, () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  })
  return {
    address,
    spawn(argv, opts = {}) {
      if (argv.length === 0) throw new Error('lab.services.spawn: argv is empty; pass the program and its arguments')
      const child = spawn('ip', ['netns', 'exec', netns, ...argv], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
      children.push(child)
      return child
    },
  }
}
