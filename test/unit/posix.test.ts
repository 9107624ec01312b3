import { execFileSync, spawnSync } from 'node:child_process'
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

  it('sends a step with env as a script on stdin, so its values are in no argv', () => {
    const x = posixDialect.step({ argv: ['make'], env: { TOKEN: 'hunter2' } })
    expect(x).toEqual({ command: 'sh -s', stdin: "TOKEN=hunter2 make\n", raw: true })
    expect(posixDialect.step({ argv: ['make'] })).toEqual({ command: 'make', raw: false })
    expect(() => posixDialect.step({ argv: ['make'], env: { A: '1' }, stdin: 'x' })).toThrow(/env and stdin/)
  })

  it('refuses an invalid env name instead of quoting it into place', () => {
    expect(() => commandLine({ argv: ['x'], env: { 'A;B': '1' } })).toThrow(/invalid environment variable name/)
  })
})
