import { describe, expect, it } from 'vitest'
import { progressReporter } from '../../lib/cli/progress.ts'

describe('CLI progress', () => {
  it('prints a line every few seconds without a terminal, with rate and ETA', () => {
    let t = 0
    const out: string[] = []
    const p = progressReporter({ tty: false, write: (s) => out.push(s), every: 5, now: () => t })
    p('studio-mac', 'ckpt', 0, 7_700_000_000)
    t = 2000
    p('studio-mac', 'ckpt', 200_000_000, 7_700_000_000)
    t = 6000
    p('studio-mac', 'ckpt', 600_000_000, 7_700_000_000)
    expect(out).toEqual(['studio-mac ckpt: 0 kB / 7.70 GB (0%)\n', 'studio-mac ckpt: 600.0 MB / 7.70 GB (7%), 100.0 MB/s, ETA 1m11s\n'])
  })

  it('redraws one line with a bar on a terminal', () => {
    let t = 0
    const out: string[] = []
    const p = progressReporter({ tty: true, write: (s) => out.push(s), now: () => t })
    p('h', 'x', 0, 100)
    t = 1000
    p('h', 'x', 50, 100)
    expect(out[1]).toBe('\r\x1b[K[############------------] h x: 0 kB / 0 kB (50%), 0 kB/s, ETA 1s')
  })
})
