import { describe, expect, it } from 'vitest'
import { batchScript } from '../../lib/shell/posix/scripts.ts'
import { splitBatch } from '../../lib/shell/protocol.ts'
import { holderIsGone, parseHolder } from '../../lib/engine/lock.ts'
import { redact } from '../../lib/engine/report.ts'

describe('batched probe output', () => {
  it('splits sections by the nonce marker', () => {
    const out = '@@statecraft:n1:0\nkind=file\n@@statecraft:n1:1\nkind=absent\n@@statecraft:n1:end\n'
    const parts = splitBatch(out, 2, 'n1', 'h')
    expect(parts.map((p) => p.get('kind'))).toEqual(['file', 'absent'])
  })

  it('cannot be forged by a marker with another nonce', () => {
    const out = '@@statecraft:n1:0\nkind=file\n@@statecraft:evil:1\nkind=absent\n@@statecraft:n1:1\nkind=link\n@@statecraft:n1:end\n'
    expect(splitBatch(out, 2, 'n1', 'h').map((p) => p.get('kind'))).toEqual(['absent', 'link'])
  })

  it('fails clearly when output is cut short', () => {
    expect(() => splitBatch('@@statecraft:n1:0\nkind=file\n', 1, 'n1', 'gpu-1')).toThrow(/host gpu-1: the probe script's output was cut short \(0 of 1 sections\)/)
  })

  it('runs each snippet in a subshell', () => {
    expect(batchScript(['cd /', 'echo x=1'], 'n')).toContain("echo '@@statecraft:n:1'\n(\necho x=1\n)")
  })
})

describe('lock holder', () => {
  const raw = 'statecraft-lock-v1|tok|ctrl-a|4242|2026-11-26T06:00:00.000Z|boot-1'
  it('parses the holder', () => {
    expect(parseHolder(raw)).toEqual({ token: 'tok', controller: 'ctrl-a', pid: 4242, started: '2026-11-26T06:00:00.000Z', bootId: 'boot-1' })
    expect(parseHolder('something else')).toBeNull()
  })
  it('is gone after a reboot of the host', () => {
    expect(holderIsGone(parseHolder(raw)!, 'boot-2', 'ctrl-b')).toBe(true)
  })
  it('is alive when another controller holds it on the same boot', () => {
    expect(holderIsGone(parseHolder(raw)!, 'boot-1', 'ctrl-b')).toBe(false)
  })
  it('is gone when it ran on this controller and its pid is dead; alive when its pid lives', () => {
    const dead = parseHolder('statecraft-lock-v1|t|me|999999999|x|boot-1')!
    expect(holderIsGone(dead, 'boot-1', 'me')).toBe(true)
    const alive = parseHolder(`statecraft-lock-v1|t|me|${process.pid}|x|boot-1`)!
    expect(holderIsGone(alive, 'boot-1', 'me')).toBe(false)
  })
})

describe('redaction', () => {
  it('masks every occurrence of every secret, deeply', () => {
    const r = redact({ a: 'token hf_abc123 and hf_abc123', b: [{ c: 'x hf_abc123' }], n: 1 }, ['hf_abc123'])
    expect(JSON.stringify(r)).not.toContain('hf_abc123')
    expect(r).toEqual({ a: 'token ******** and ********', b: [{ c: 'x ********' }], n: 1 })
  })
})
