import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { converge, defineRecipe, line, LocalTransport } from '../../lib/index.ts'
import { tempDir } from '../helpers/tmp.ts'

/** Programs a probe of `line` resources could start (the old per-resource read started wc, tr, od). */
const PROGRAMS = ['stat', 'ls', 'head', 'od', 'wc', 'tr', 'cut', 'cat', 'openssl', 'sha256sum']

/** `files` profiles with `perFile` lines each: files × perFile resources. */
const profiles = (files: number, perFile: number) =>
  defineRecipe<{ root: string }>({
    name: 'profiles',
    options: { root: { required: true } },
    resources: ({ options: { root } }) =>
      Array.from({ length: files }, (_, f) => Array.from({ length: perFile }, (_, l) => line({ path: `${root}/p${f}`, match: `^export V${l}=`, line: `export V${l}=${f}` }))).flat(),
  })

/** A local host whose programs log each launch to `log`, then run the real one. */
function loggingHost(home: string, log: string): LocalTransport {
  const bin = `${home}/bin`
  mkdirSync(bin, { recursive: true })
  for (const p of PROGRAMS) {
    const real = execFileSync('sh', ['-c', `command -v ${p} || true`], { encoding: 'utf8' }).trim()
    if (!real) continue
    writeFileSync(`${bin}/${p}`, `#!/bin/sh\necho ${p} >> '${log}'\nexec ${real} "$@"\n`)
    chmodSync(`${bin}/${p}`, 0o755)
  }
  return new LocalTransport({ env: { ...process.env, HOME: home, PATH: `${bin}:${process.env.PATH}` } })
}

/** Converges `recipe` twice into a new root; the launches of the second run (a no-op) by program. */
async function noopLaunches(recipe: ReturnType<typeof profiles>): Promise<{ counts: Record<string, number>; root: string; roundTrips: number }> {
  const home = tempDir()
  const root = tempDir()
  const log = `${home}/launches`
  const hosts = () => [{ name: 'local', transport: loggingHost(home, log) }]
  const first = await converge({ recipe, hosts: hosts(), mode: 'apply', set: { root } })
  expect(first.ok).toBe(true)
  writeFileSync(log, '')
  const again = await converge({ recipe, hosts: hosts(), mode: 'apply', set: { root } })
  expect(again.summary).toMatchObject({ changed: 0, failed: 0 })
  const counts: Record<string, number> = {}
  for (const p of readFileSync(log, 'utf8').split('\n').filter(Boolean)) counts[p] = (counts[p] ?? 0) + 1
  return { counts, root, roundTrips: again.hosts[0]!.roundTrips }
}

describe('line resources are read by the batched probe', () => {
  it('a no-op starts the same programs for 1 line as for 200 lines in 40 files, or 15 lines in one file', async () => {
    const none = await noopLaunches(profiles(0, 0))
    const one = await noopLaunches(profiles(1, 1))
    const many = await noopLaunches(profiles(40, 5))
    const sameFile = await noopLaunches(profiles(1, 15))
    expect(many.counts).toEqual(one.counts)
    expect(sameFile.counts).toEqual(one.counts)
    // Over the facts and lock execs' own: the batch's served reads (stat's flavour, one stat for
    // kinds and modes, one for sizes, one od for all contents), never a wc, tr or od per file.
    const extra = Object.fromEntries(Object.entries(one.counts).map(([p, n]) => [p, n - (none.counts[p] ?? 0)]).filter(([, n]) => n !== 0))
    expect(extra).toEqual({ stat: 3, od: 1 })
    expect([one.roundTrips, many.roundTrips, sameFile.roundTrips]).toEqual([3, 3, 3])
    // And what they read was right: every line is in place, none twice.
    const p7 = readFileSync(`${many.root}/p7`, 'utf8')
    expect(p7).toBe(Array.from({ length: 5 }, (_, l) => `export V${l}=7\n`).join(''))
    expect(readFileSync(`${sameFile.root}/p0`, 'utf8').split('\n').filter(Boolean)).toHaveLength(15)
  })

  it('a file read by many line resources reaches each one: a change to one line is planned for that resource only', async () => {
    const root = tempDir()
    const home = tempDir()
    const hosts = [{ name: 'local', transport: new LocalTransport({ env: { ...process.env, HOME: home } }) }]
    const recipe = profiles(2, 4)
    expect((await converge({ recipe, hosts, mode: 'apply', set: { root } })).ok).toBe(true)
    writeFileSync(`${root}/p1`, readFileSync(`${root}/p1`, 'utf8').replace('export V2=1', 'export V2=old'))
    const plan = await converge({ recipe, hosts, mode: 'plan', set: { root } })
    const rs = plan.hosts[0]!.resources
    expect(rs.filter((r) => r.status === 'changed').map((r) => r.changes)).toEqual([[`replace line 3 of ${root}/p1: "export V2=old" with "export V2=1"`]])
    // The later line of the same file is re-checked after that edit, not guessed; all others read converged.
    expect(rs.filter((r) => r.status === 'pending').map((r) => r.id)).toEqual([`line:${root}/p1:^export V3=`])
    expect(rs.filter((r) => r.status === 'unchanged')).toHaveLength(6)
  })
})
