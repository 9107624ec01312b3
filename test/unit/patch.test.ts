import { describe, expect, it } from 'vitest'
import { loadPatch } from '../../lib/cli/patch.ts'

const numbered = (n: number, tag: string): string => Array.from({ length: n }, (_, i) => `${tag} ${i} ${(i * 7919) % 104729}`).join('\n') + '\n'

describe('--diff patches', () => {
  it('shows a unified diff of a small change', async () => {
    const patch = await loadPatch()
    const out = patch('/etc/app.conf', 'a=1\nb=2\n', 'a=1\nb=3\n')
    expect(out.split('\n').slice(2)).toEqual(expect.arrayContaining(['-b=2', '+b=3']))
  })

  it('summarises a file too large to compare instead of freezing the controller', async () => {
    const patch = await loadPatch()
    const before = numbered(40_000, 'old')
    const out = patch('/big', before, numbered(40_000, 'new'))
    expect(out.split('\n').slice(2)).toEqual(['(diff not shown: 40000 lines -> 40000 lines, more than 1024 KiB to compare)'])
  })

  it('gives up on a wholly different file after its time budget, with a summary', async () => {
    const patch = await loadPatch()
    // Under the size bound, but every line differs: O(N·D) is about 10^9 steps, far past 2 s anywhere.
    const out = patch('/mid', numbered(24_000, 'old'), numbered(24_000, 'new'))
    expect(out.split('\n').slice(2)).toEqual(['(diff not shown: 24000 lines -> 24000 lines, not comparable within 2 s)'])
  })
})
