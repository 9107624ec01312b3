import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { posixDialect } from '../../lib/shell/dialect.ts'
import { commandLine, quote } from '../../lib/shell/posix/quote.ts'
import { HOSTILE } from '../helpers/hostile.ts'


describe('posix quoting', () => {
  it.each(HOSTILE)('round-trips %j through a real sh', (v) => {
    const out = execFileSync('/bin/sh', ['-c', `printf '%s' ${quote(v)}`]).toString('utf8')
    expect(out).toBe(v)
  })

  it('builds cwd and env into the command line, every value quoted', () => {
    expect(commandLine({ argv: ['echo', 'a b'], cwd: '/tmp/x y', env: { A: "it's" } })).toBe(
      "cd -- '/tmp/x y' && A='it'\\''s' echo 'a b'",
    )
  })

  it.each([['a=b'], ['if'], ['!'], ['{']])('runs a program named %j, never reading it as shell syntax', (name) => {
    const r = spawnSync('/bin/sh', ['-c', commandLine({ argv: [name, 'x'], env: { A: '1' } })], { encoding: 'utf8' })
    expect(r.stderr).toMatch(new RegExp(`${name.replace(/[{!]/, '\\$&')}: (not found|No such file)`))
  })

  it('starts every command as the same fixed watcher script, the command line (env and all) on its held stdin', () => {
    const x = posixDialect.step({ argv: ['make', 'a\nb'], env: { TOKEN: 'hunter2' }, cwd: '/src' })
    const y = posixDialect.step({ argv: ['true'] })
    expect(x.command).toBe(y.command)
    expect(x.command).not.toMatch(/hunter2|make/)
    expect(x).toMatchObject({ raw: true, hold: true, stdin: "cd -- /src && TOKEN=hunter2 make 'a'\"$sc_nl\"'b'\n\n" })
    // Data on stdin (atomic writes) goes as before; env cannot join it without reaching argv.
    // Small input rides along, octal-escaped on the second line; large data (an atomic write of a
    // big file) goes as a plain stream, which cannot carry env without argv.
    expect(posixDialect.step({ argv: ['cat'], stdin: 'x%' })).toMatchObject({ command: x.command, stdin: 'cat\n\\170\\045\n', hold: true })
    const big = 'y'.repeat(20_000)
    expect(posixDialect.step({ argv: ['cat'], stdin: big })).toEqual({ command: 'cat', stdin: big, raw: false })
    expect(() => posixDialect.step({ argv: ['make'], env: { A: '1' }, stdin: big })).toThrow(/env and stdin/)
  })

  it('the watcher runs the command line exactly, newlines included, with stdin from /dev/null', async () => {
    const x = posixDialect.step({ argv: ['sh', '-c', 'printf "%s|%s|" "$1" "$V"; cat', 'sh', "l1\nl2 'q'"], env: { V: 'v\nw' } })
    // In a process group of its own, as the transports start it: the watcher ends that group.
    const child = spawn('/bin/sh', ['-c', x.command], { detached: true, stdio: ['pipe', 'pipe', 'ignore'] })
    let out = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString()))
    const closed = new Promise((resolve) => child.on('close', resolve))
    const exited = new Promise((resolve) => child.on('exit', (c) => (child.stdin.end(), resolve(c))))
    child.stdin.write(x.stdin as string)
    const code = await exited
    await closed
    expect(out).toBe("l1\nl2 'q'|v\nw|")
    expect(code).toBe(0)
  })

  it('refuses an invalid env name instead of quoting it into place', () => {
    expect(() => commandLine({ argv: ['x'], env: { 'A;B': '1' } })).toThrow(/invalid environment variable name/)
  })
})
