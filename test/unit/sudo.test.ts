import { describe, expect, it } from 'vitest'
import { newSudoExchange, StdinDriver, type SudoFailure } from '../../lib/transport/sudo.ts'

function drive(password: string | undefined, stderrChunks: (x: ReturnType<typeof newSudoExchange>) => string[]) {
  const x = newSudoExchange(password)
  const written: string[] = []
  let ended = false
  let failed: SudoFailure | undefined
  const d = new StdinDriver('SCRIPT', x, { write: (b) => written.push(String(b)), end: () => (ended = true), pipe: () => {}, fail: (w) => (failed = w) })
  let visible = ''
  for (const c of stderrChunks(x)) visible += d.onStderr(c)
  return { written, ended, failed, visible: visible + d.flush(), failure: d.failure() }
}

describe('sudo stdin driver', () => {
  it('answers the prompt, then sends stdin only after the ready marker', () => {
    const r = drive('pw', (x) => [`lecture\n${x.prompt.slice(0, 5)}`, x.prompt.slice(5), `${x.ready}\nwarn\n`])
    expect(r.written).toEqual(['pw\n', 'SCRIPT'])
    expect(r.ended).toBe(true)
    expect(r.visible).toBe('lecture\nwarn\n')
  })

  it('sends no password when sudo does not ask (NOPASSWD, cached)', () => {
    const r = drive('pw', (x) => [`${x.ready}\n`])
    expect(r.written).toEqual(['SCRIPT'])
  })

  it('fails on a second prompt (wrong password, sudo retries)', () => {
    const r = drive('pw', (x) => [x.prompt, 'Sorry, try again.\n', x.prompt])
    expect(r.failed).toBe('wrong-password')
    expect(r.written).toEqual(['pw\n'])
  })

  it('reports a wrong password when sudo gives up after one try', () => {
    expect(drive('pw', (x) => [x.prompt, 'sudo: 1 incorrect password attempt\n']).failure).toBe('wrong-password')
  })

  it('fails at once when a password is needed and none is configured', () => {
    const r = drive(undefined, (x) => [x.prompt])
    expect(r.failed).toBe('needs-password')
    expect(r.written).toEqual([])
  })
})
