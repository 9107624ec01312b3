import { EventEmitter } from 'node:events'
import { PassThrough, Writable } from 'node:stream'
import type { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { converge, defineRecipe, directory, file } from '../../lib/index.ts'
import { PS_COMMAND } from '../../lib/shell/powershell/quote.ts'
import { LocalTransport } from '../../lib/transport/local.ts'
import { ReplayedWindows } from '../helpers/windows-host.ts'

// There is no Windows machine here: `--host local` on Windows is replayed. The local transport is
// given platform 'win32' and a spawn that hands each command line to a replayed Windows 11 host
// (the one the SSH engine tests use), so what is checked is what the transport starts and how the
// engine picks the dialect, not PowerShell itself.
function replayedSpawn(win: ReplayedWindows, started: { file: string; args: string[] }[]): typeof spawn {
  return ((file: string, args: string[]) => {
    started.push({ file, args })
    const child = Object.assign(new EventEmitter(), { pid: 4242, stdout: new PassThrough(), stderr: new PassThrough(), kill: () => true })
    const chunks: Buffer[] = []
    const stdin = new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(Buffer.from(c))
        cb()
      },
      final(cb) {
        // cmd.exe /d /s /c "LINE": the line is the last argument without its outer quotes.
        const line = String(args[3]).slice(1, -1)
        void win.host.exec(line, { stdin: Buffer.concat(chunks).toString('utf8') }).then((r) => {
          child.stdout.end(r.stdout)
          child.stderr.end(r.stderr)
          child.emit('exit', r.code, null)
          setImmediate(() => child.emit('close', r.code, null))
        })
        cb()
      },
    })
    return Object.assign(child, { stdin })
  }) as unknown as typeof spawn
}

const recipe = defineRecipe({
  name: 'win-local',
  resources: () => [directory({ path: '~/statecraft-demo' }), file({ path: '~/statecraft-demo/hello.txt', content: 'hello\n' })],
})

describe('--host local on Windows (replayed)', () => {
  it('runs each command line through cmd.exe /d /s /c, asks PowerShell first, converges, and a second plan changes nothing in 3 round trips', async () => {
    const win = new ReplayedWindows({}, {})
    const started: { file: string; args: string[] }[] = []
    const local = (): LocalTransport => new LocalTransport({ platform: 'win32', env: {}, spawn: replayedSpawn(win, started) })
    const apply = await converge({ recipe, hosts: [{ name: 'local', transport: local() }] })
    expect(apply.hosts[0]!.error).toBeUndefined()
    expect(apply.summary).toMatchObject({ changed: 2, failed: 0 })
    // No `sh -s` attempt first: the dialect is PowerShell from the first round trip, as for an SSH host with os: windows.
    expect(started[0]).toEqual({ file: 'cmd.exe', args: ['/d', '/s', '/c', `"${PS_COMMAND}"`] })
    expect(started.every((s) => s.file === 'cmd.exe' && s.args[3] === `"${PS_COMMAND}"`)).toBe(true)
    expect(win.read('C:\\Users\\ana\\statecraft-demo\\hello.txt')?.toString()).toBe('hello\n')
    const plan = await converge({ recipe, hosts: [{ name: 'local', transport: local() }], mode: 'plan' })
    expect(plan.summary).toMatchObject({ changed: 0, unchanged: 2 })
    expect(plan.hosts[0]!.roundTrips).toBe(3)
  })

  it('stays POSIX sh in its own process group elsewhere', () => {
    const started: { file: string; args: string[]; opts: unknown }[] = []
    const spawnSpy = ((file: string, args: string[], opts: unknown) => {
      started.push({ file, args, opts })
      throw new Error('not started')
    }) as unknown as typeof spawn
    const t = new LocalTransport({ platform: 'linux', env: {}, spawn: spawnSpy })
    expect(t.osHint).toBeUndefined()
    void t.exec('true').catch(() => undefined)
    expect(started[0]).toMatchObject({ file: '/bin/sh', args: ['-c', 'true'], opts: { detached: true } })
  })
})
