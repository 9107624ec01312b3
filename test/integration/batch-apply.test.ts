import { execFileSync } from 'node:child_process'
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { converge, defineRecipe, directory, file, LocalTransport, symlink } from '../../lib/index.ts'
import { HOSTILE } from '../helpers/hostile.ts'
import { tempDir } from '../helpers/tmp.ts'

/** Bytes that printf, the shell and naive escaping get wrong. */
const TRICKY = `%s %% %d \\n \\0 '"\`$(id)\n\0\xff\r\ttail`

/** n directories with four files each: 5n resources, independent but for each file's directory. */
const tree = (n: number, content: (d: number, f: number) => string = (d, f) => `key=${d}.${f}\n`) =>
  defineRecipe<{ root: string }>({
    name: 'tree',
    options: { root: { required: true } },
    resources: ({ options: { root } }) =>
      Array.from({ length: n }, (_, d) => [
        directory({ path: `${root}/d${d}`, mode: '0750' }),
        ...Array.from({ length: 4 }, (_, f) => file({ path: `${root}/d${d}/f${f}.conf`, content: content(d, f), mode: f === 0 ? '0600' : '0644' })),
      ]).flat(),
  })

/** Programs a batched apply may start, each wrapped to log its launch. */
const PROGRAMS = ['mkdir', 'chmod', 'chown', 'mv', 'rm', 'ln', 'mktemp', 'stat', 'od', 'tail', 'tr']

function host(home: string, log?: string): LocalTransport {
  if (!log) return new LocalTransport({ env: { ...process.env, HOME: home } })
  const bin = `${home}/bin`
  mkdirSync(bin, { recursive: true })
  for (const p of PROGRAMS) {
    const real = execFileSync('sh', ['-c', `command -v ${p}`], { encoding: 'utf8' }).trim()
    writeFileSync(`${bin}/${p}`, `#!/bin/sh\necho ${p} >> '${log}'\nexec ${real} "$@"\n`)
    chmodSync(`${bin}/${p}`, 0o755)
  }
  return new LocalTransport({ env: { ...process.env, HOME: home, PATH: `${bin}:${process.env.PATH}` } })
}

async function run(recipe: ReturnType<typeof tree>, root: string, home: string, log?: string) {
  const r = await converge({ recipe, hosts: [{ name: 'local', transport: host(home, log) }], mode: 'apply', set: { root } })
  return { r, h: r.hosts[0]! }
}

describe('independent small resources are applied in batches', () => {
  it('a first converge costs the same round trips for 10 and for 600 resources, and the result is exact', async () => {
    const small = await run(tree(2), `${tempDir()}/t`, tempDir())
    const root = `${tempDir()}/t`
    const big = await run(tree(120), root, tempDir())
    expect(small.r.ok && big.r.ok).toBe(true)
    expect(big.r.summary).toMatchObject({ changed: 600, failed: 0 })
    // Facts, probe, then per wave (directories, then their files) one apply and one verify, release.
    expect(big.h.roundTrips).toBe(7)
    expect(small.h.roundTrips).toBe(big.h.roundTrips)
    for (const d of [0, 57, 119]) {
      expect(statSync(`${root}/d${d}`).mode & 0o7777).toBe(0o750)
      expect(readFileSync(`${root}/d${d}/f3.conf`, 'utf8')).toBe(`key=${d}.3\n`)
      expect(statSync(`${root}/d${d}/f0.conf`).mode & 0o7777).toBe(0o600)
      expect(statSync(`${root}/d${d}/f1.conf`).mode & 0o7777).toBe(0o644)
    }
    const again = await run(tree(120), root, tempDir())
    expect(again.r.summary).toMatchObject({ changed: 0, unchanged: 600 })
    expect(again.h.roundTrips).toBe(3)
  })

  it('starts programs per kind of change, not per resource: no mv for new files, one per directory for replaced ones', async () => {
    const home = tempDir()
    const root = `${tempDir()}/t`
    const log = `${home}/launches`
    writeFileSync(log, '')
    await run(tree(100), root, home, log)
    const launches = (): Record<string, number> => {
      const counts: Record<string, number> = {}
      for (const p of readFileSync(log, 'utf8').split('\n').filter(Boolean)) counts[p] = (counts[p] ?? 0) + 1
      writeFileSync(log, '')
      return counts
    }
    // 500 resources: mkdir -p for the directories, mkdir -p for the files' parents (and one for the
    // run lock's directory); one chmod for the directories' mode; new files get theirs from the umask.
    const first = launches()
    expect(first.mv ?? 0).toBe(0)
    expect(first.mkdir).toBe(3)
    expect(first.chmod).toBe(1)
    // New content for every file: staged and renamed, one mv per directory.
    const changed = await run(tree(100, (d, f) => `key=${d}.${f} v2\n`), root, home, log)
    expect(changed.r.summary).toMatchObject({ changed: 400, unchanged: 100 })
    const second = launches()
    expect(changed.h.roundTrips).toBe(5)
    expect(second.mv).toBe(100)
    expect(second.chmod).toBe(2)
    expect(readdirSync(`${root}/d7`).sort()).toEqual(['f0.conf', 'f1.conf', 'f2.conf', 'f3.conf'])
    expect(readFileSync(`${root}/d7/f2.conf`, 'utf8')).toBe('key=7.2 v2\n')
  })

  it('writes any bytes to any name exactly, replaces a link without following it, and leaves no staging behind', async () => {
    const root = tempDir()
    const elsewhere = `${tempDir()}/target`
    writeFileSync(elsewhere, 'keep me')
    mkdirSync(`${root}/x`)
    writeFileSync(`${root}/x/old`, 'old')
    execFileSync('ln', ['-s', elsewhere, `${root}/x/link`])
    const names = HOSTILE.filter((h) => h !== '' && !h.includes('/') && h !== '.' && h !== '..')
    const recipe = defineRecipe({
      name: 'hostile',
      resources: () => [
        ...names.map((n) => file({ path: `${root}/x/${n}`, content: `${TRICKY}${n}` })),
        file({ path: `${root}/x/old`, content: TRICKY, mode: '0640' }),
        file({ path: `${root}/x/link`, content: 'new' }),
      ],
    })
    const r = await converge({ recipe, hosts: [{ name: 'local', transport: host(tempDir()) }], mode: 'apply' })
    expect(r.hosts[0]!.error).toBeUndefined()
    expect(r.summary).toMatchObject({ changed: names.length + 2, failed: 0 })
    for (const n of names) expect(readFileSync(`${root}/x/${n}`, 'latin1')).toBe(Buffer.from(`${TRICKY}${n}`).toString('latin1'))
    expect(readFileSync(`${root}/x/old`)).toEqual(Buffer.from(TRICKY))
    expect(statSync(`${root}/x/old`).mode & 0o7777).toBe(0o640)
    expect(lstatSync(`${root}/x/link`).isSymbolicLink()).toBe(false)
    expect(readFileSync(`${root}/x/link`, 'utf8')).toBe('new')
    expect(readFileSync(elsewhere, 'utf8')).toBe('keep me')
    expect(readdirSync(`${root}/x`).filter((n) => n.startsWith('.statecraft.'))).toEqual([])
  })

  it('a member that fails fails alone, named with its step and what it printed; the rest converge', async () => {
    const root = tempDir()
    writeFileSync(`${root}/plain`, 'a file, not a directory')
    const recipe = defineRecipe({
      name: 'mixed',
      resources: () => [
        directory({ path: `${root}/ok1` }),
        symlink({ path: `${root}/plain/link`, target: 'x' }),
        file({ path: `${root}/plain/f`, content: 'x' }),
        file({ path: `${root}/ok2`, content: 'fine' }),
        symlink({ path: `${root}/ok3`, target: 'ok2' }),
      ],
    })
    const r = await converge({ recipe, hosts: [{ name: 'local', transport: host(tempDir()) }], mode: 'apply' })
    const by = Object.fromEntries(r.hosts[0]!.resources.map((x) => [x.id, x]))
    expect(by[`symlink:${root}/plain/link`]?.error).toMatchObject({ code: 'E_COMMAND', message: expect.stringMatching(/^ln -sfn -- x .*plain\/link exited with 1: ln: .*Not a directory/) })
    expect(by[`file:${root}/plain/f`]?.error).toMatchObject({ code: 'E_VERIFY', message: expect.stringMatching(/applied, but the host still differs.*the batched write said: mkdir: .*plain.*File exists/) })
    expect([by[`directory:${root}/ok1`]?.status, by[`file:${root}/ok2`]?.status, by[`symlink:${root}/ok3`]?.status]).toEqual(['changed', 'changed', 'changed'])
    expect(readlinkSync(`${root}/ok3`)).toBe('ok2')
    // A failed member costs the others nothing: the new file has its default mode.
    expect(statSync(`${root}/ok2`).mode & 0o7777).toBe(0o644)
  })
})
