import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { commandLine, quote } from '../../lib/shell/posix/quote.ts'
import { HOSTILE } from '../helpers/hostile.ts'


describe('posix quoting', () => {
  it.each(HOSTILE)('round-trips %j through a real sh', (v) => {
    const out = execFileSync('/bin/sh', ['-c', `printf '%s' ${quote(v)}`]).toString('utf8')
    expect(out).toBe(v)
  })

  it('builds cwd and env into the command line, every value quoted', () => {
    expect(commandLine({ argv: ['echo', 'a b'], cwd: '/tmp/x y', env: { A: "it's" } })).toBe(
      "cd -- '/tmp/x y' && env 'A=it'\\''s' echo 'a b'",
    )
  })

  it('refuses an invalid env name instead of quoting it into place', () => {
    expect(() => commandLine({ argv: ['x'], env: { 'A;B': '1' } })).toThrow(/invalid environment variable name/)
  })
})
