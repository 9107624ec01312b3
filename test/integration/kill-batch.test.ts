import { spawn } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { converge, defineRecipe, file, LocalTransport } from '../../lib/index.ts'
import { tempDir } from '../helpers/tmp.ts'

/** Eight files in one directory, with `v` as their content: replacing them stages them in a batch. */
const eight = (v: string) =>
  defineRecipe<{ root: string }>({
    name: 'eight',
    options: { root: { required: true } },
    resources: ({ options: { root } }) => Array.from({ length: 8 }, (_, i) => file({ path: `${root}/d/f${i}`, content: `${v} ${i}\n` })),
  })

/** A local host whose `mv` SIGKILLs the batch shell that launched it: a batch killed mid-way. */
function killingHost(home: string): LocalTransport {
  const bin = `${home}/bin`
  mkdirSync(bin, { recursive: true })
  writeFileSync(`${bin}/mv`, '#!/bin/sh\nkill -KILL "$PPID"\nexit 1\n')
  chmodSync(`${bin}/mv`, 0o755)
  return new LocalTransport({ env: { ...process.env, HOME: home, PATH: `${bin}:${process.env.PATH}` } })
}

const staged = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('.statecraft.')).sort()

describe('a batched apply killed mid-way', () => {
  it('leaves its staging directory, which the next batch into that directory sweeps; live and foreign ones stay', async () => {
    const root = tempDir()
    const home = tempDir()
    const local = () => [{ name: 'local', transport: new LocalTransport({ env: { ...process.env, HOME: home } }) }]
    expect((await converge({ recipe: eight('v1'), hosts: local(), mode: 'apply', set: { root } })).ok).toBe(true)

    const killed = await converge({ recipe: eight('v2'), hosts: [{ name: 'local', transport: killingHost(tempDir()) }], mode: 'apply', set: { root } })
    expect(killed.ok).toBe(false)
    const left = staged(`${root}/d`)
    expect(left).toHaveLength(1)
    expect(left[0]).toMatch(/^\.statecraft\.\d+\.s00000$/)
    expect(readdirSync(`${root}/d/${left[0]}`).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `f${i}`))
    // Killed before its renames: the old files are whole.
    expect(readFileSync(`${root}/d/f3`, 'utf8')).toBe('v1 3\n')

    // Beside it: the staging directory of a batch still running (a live pid), and a dead pid's
    // directory that belongs to another user (not ours to remove).
    const live = spawn('sleep', ['600'], { stdio: 'ignore' })
    try {
      const running = `${root}/d/.statecraft.${live.pid}.s00000`
      mkdirSync(running)
      const foreign = `${root}/d/${left[0]?.replace(/s00000$/, 's00001')}`
      mkdirSync(foreign)
      chownSync(foreign, 65534, 65534)
      expect(statSync(foreign).uid).toBe(65534)

      const next = await converge({ recipe: eight('v2'), hosts: local(), mode: 'apply', set: { root } })
      expect(next.ok).toBe(true)
      expect(next.summary).toMatchObject({ changed: 8, failed: 0 })
      expect(readFileSync(`${root}/d/f3`, 'utf8')).toBe('v2 3\n')
      expect(staged(`${root}/d`)).toEqual([running, foreign].map((p) => p.slice(`${root}/d/`.length)).sort())
    } finally {
      live.kill()
    }
  })
})
