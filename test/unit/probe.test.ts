import { describe, expect, it } from 'vitest'
import { batchScript } from '../../lib/shell/posix/scripts.ts'
import { splitBatch } from '../../lib/shell/protocol.ts'
import { holderIsGone, lockedError, markedForReboot, parseHolder } from '../../lib/engine/lock.ts'
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

describe('a lock kept across a restart (--reboot)', () => {
  const raw = 'statecraft-lock-v1|tok|ctrl-a|4242|2026-11-26T06:00:00.000Z|boot-1'
  const until = new Date('2026-11-26T06:10:00.000Z')
  const marked = markedForReboot(raw, until)
  const before = Date.parse('2026-11-26T06:05:00.000Z')
  const after = Date.parse('2026-11-26T06:10:00.001Z')
  it('keeps the holder (token and boot id) and adds the time it will be back by; marking twice keeps one mark', () => {
    expect(marked).toBe(`${raw}|reboot-until=2026-11-26T06:10:00.000Z`)
    expect(parseHolder(marked)).toEqual({ ...parseHolder(raw), rebootUntil: '2026-11-26T06:10:00.000Z' })
    expect(markedForReboot(marked, new Date('2026-11-26T07:00:00.000Z'))).toBe(`${raw}|reboot-until=2026-11-26T07:00:00.000Z`)
  })
  it('a lock from an older version, or an unknown seventh field, has no mark', () => {
    expect(parseHolder(`${raw}|something-else`)).toEqual(parseHolder(raw))
  })
  it('is alive across the restart until its time, though the boot id changed', () => {
    expect(holderIsGone(parseHolder(marked)!, 'boot-2', 'ctrl-b', before)).toBe(false)
  })
  it('is gone once its time has passed and the boot id changed (the run never came back)', () => {
    expect(holderIsGone(parseHolder(marked)!, 'boot-2', 'ctrl-b', after)).toBe(true)
    expect(holderIsGone(parseHolder(marked)!, 'boot-1', 'ctrl-b', after)).toBe(false)
  })
  it('is gone within its time when it ran on this controller and its process is dead', () => {
    const dead = parseHolder(markedForReboot('statecraft-lock-v1|t|me|999999999|x|boot-1', until))!
    expect(holderIsGone(dead, 'boot-2', 'me', before)).toBe(true)
    const alive = parseHolder(markedForReboot(`statecraft-lock-v1|t|me|${process.pid}|x|boot-1`, until))!
    expect(holderIsGone(alive, 'boot-2', 'me', before)).toBe(false)
  })
  it('an unreadable time is no promise: the boot id rule applies', () => {
    expect(holderIsGone(parseHolder(`${raw}|reboot-until=soon`)!, 'boot-2', 'ctrl-b', before)).toBe(true)
  })
  it('the locked error names the restart', () => {
    expect(lockedError('box', '~/.statecraft/run.lock', marked).message).toMatch(/locked by another statecraft run \(controller ctrl-a, pid 4242, started 2026-11-26T06:00:00.000Z, rebooting the host and back for its lock by 2026-11-26T06:10:00.000Z\)/)
  })
})

describe('redaction', () => {
  it('masks every occurrence of every secret, deeply', () => {
    const r = redact({ a: 'token hf_abc123 and hf_abc123', b: [{ c: 'x hf_abc123' }], n: 1 }, ['hf_abc123'])
    expect(JSON.stringify(r)).not.toContain('hf_abc123')
    expect(r).toEqual({ a: 'token ******** and ********', b: [{ c: 'x ********' }], n: 1 })
  })
})
