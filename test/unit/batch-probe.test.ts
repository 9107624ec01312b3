import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chunks, posixBatch } from '../../lib/shell/posix/batch.ts'
import { contentSnippet, statSnippet } from '../../lib/shell/posix/lib.ts'
import { quote, unquote } from '../../lib/shell/posix/quote.ts'
import { anyString } from '../helpers/arbitraries.ts'
import { HOSTILE } from '../helpers/hostile.ts'
import { tempDir } from '../helpers/tmp.ts'

/** The programs the probe may start; each is wrapped so that every launch is logged. */
const PROGRAMS = ['stat', 'ls', 'head', 'od', 'wc', 'tr', 'cut', 'openssl', 'sha256sum']

/** A PATH whose programs log each launch to `log` (and `broken` ones fail), then run the real one. */
function loggingPath(dir: string, log: string, broken: string[] = []): string {
  const bin = `${dir}/bin`
  mkdirSync(bin)
  for (const p of PROGRAMS) {
    const real = execFileSync('sh', ['-c', `command -v ${p} || true`], { encoding: 'utf8' }).trim()
    if (!real) continue
    const body = broken.includes(p) ? 'exit 1' : `exec ${real} "$@"`
    writeFileSync(`${bin}/${p}`, `#!/bin/sh\necho ${p} >> ${quote(log)}\n${body}\n`)
    chmodSync(`${bin}/${p}`, 0o755)
  }
  return bin
}

function run(snippets: string[], path?: string): { data: Map<string, string>[]; script: string } {
  const plan = posixBatch(snippets, 'n0nce')
  const env = path ? { PATH: path } : { PATH: process.env.PATH ?? '/usr/bin:/bin' }
  const out = execFileSync('/bin/sh', ['-s'], { input: plan.script, env, encoding: 'utf8', maxBuffer: 1 << 28 })
  return { data: plan.parse(out, 'h'), script: plan.script }
}

/** Files, directories, a link, a big file, a missing path, and names that break naive scripts. */
function tree(dir: string, n: number): string[] {
  const paths: string[] = []
  for (let i = 0; i < n; i++) {
    const f = `${dir}/f${i}`
    writeFileSync(f, i % 7 === 0 ? '' : `line ${i}\n\0binary\xff`)
    if (i % 5 === 0) chmodSync(f, 0o600)
    paths.push(f)
    if (i % 3 === 0) {
      mkdirSync(`${dir}/d${i}`)
      paths.push(`${dir}/d${i}`)
    }
  }
  for (const h of HOSTILE.filter((x) => !x.includes('/') && x !== '' && x !== '.' && x !== '..')) {
    writeFileSync(`${dir}/${h}`, h)
    paths.push(`${dir}/${h}`)
  }
  // Names ending in a CR: stat prints them raw, so the line ends CR LF and must not be read as CRLF.
  writeFileSync(`${dir}/ends-in-cr\r`, 'cr')
  mkdirSync(`${dir}/\r`)
  paths.push(`${dir}/ends-in-cr\r`, `${dir}/\r`)
  writeFileSync(`${dir}/big`, Buffer.alloc(1024 * 1024 + 1, 1))
  symlinkSync('f1', `${dir}/link`)
  mkdirSync(`${dir}/sticky`, { mode: 0o1777 })
  chmodSync(`${dir}/sticky`, 0o1777)
  paths.push(`${dir}/big`, `${dir}/link`, `${dir}/sticky`, `${dir}/missing`, `${dir}/missing/below`)
  return paths
}

/** The same reads, but each run by itself (a leading `true` keeps them from being served ahead). */
const oneByOne = (p: string): string => `true\n${statSnippet(p)}\n${contentSnippet(p)}`
const ahead = (p: string): string => `${statSnippet(p)}\n${contentSnippet(p)}`

describe('the batched probe serves stat and content reads for all paths at once', () => {
  it('reads exactly what the per-path functions read: kinds, modes, owners, sizes, contents, hashes', () => {
    const dir = tempDir()
    const paths = tree(dir, 60)
    const want = run(paths.map(oneByOne)).data
    const got = run(paths.map(ahead))
    expect(got.data).toEqual(want)
    // The cases are really there: each kind, a hash for the big file, a hostile name's content.
    const kinds = new Set(want.map((d) => d.get('kind')))
    expect(kinds).toEqual(new Set(['file', 'directory', 'link', 'absent']))
    expect(got.data[paths.indexOf(`${dir}/big`)]?.get('sha256')).toMatch(/^[0-9a-f]{64}$/)
    expect(got.data[paths.indexOf(`${dir}/a\nb\nc`)]?.get('content')).toBe(Buffer.from('a\nb\nc').toString('hex'))
    expect(got.data[paths.indexOf(`${dir}/sticky`)]?.get('perm')).toBe('drwxrwxrwt')
    expect(got.data[paths.indexOf(`${dir}/\r`)]?.get('kind')).toBe('directory')
    expect(got.data[paths.indexOf(`${dir}/ends-in-cr\r`)]?.get('content')).toBe(Buffer.from('cr').toString('hex'))
    // Served reads run in no subshell; only a snippet with more to do gets one.
    expect(got.script).not.toMatch(/^\($/m)
    expect(run([`${statSnippet(paths[0] as string)}\necho x=1`]).script).toMatch(/^\($/m)
  })

  it('starts a fixed handful of programs for 1,200 files, not ~6 per file', () => {
    const dir = tempDir()
    const log = `${dir}/launches`
    writeFileSync(log, '')
    const files = Array.from({ length: 1200 }, (_, i) => `${dir}/f${i}`)
    for (const f of files) writeFileSync(f, `${f}\n`)
    const bin = loggingPath(dir, log)
    const { data } = run(files.map(ahead), `${bin}:/usr/bin:/bin`)
    expect(data.every((d, i) => d.get('content') === Buffer.from(`${files[i]}\n`).toString('hex'))).toBe(true)
    const launches = readFileSync(log, 'utf8').trim().split('\n')
    // One stat to pick its flavour; per chunk of paths one stat for kinds and modes, one for sizes, one od.
    expect(launches.sort()).toEqual(['od', 'stat', 'stat', 'stat'])
  })

  it('reads a file several resources ask for once, and gives each of them its content', () => {
    const dir = tempDir()
    writeFileSync(`${dir}/profile`, 'export A=1\n')
    writeFileSync(`${dir}/other`, 'x')
    const paths = [`${dir}/profile`, `${dir}/other`, `${dir}/profile`, `${dir}/profile`]
    const { data, script } = run(paths.map(ahead))
    expect(data.map((d) => d.get('content'))).toEqual(paths.map((p) => readFileSync(p).toString('hex')))
    expect(data.map((d) => d.get('size'))).toEqual(['11', '1', '11', '11'])
    expect(script.match(/^sc_contents .*$/m)?.[0]).toBe(`sc_contents 0 ${quote(`${dir}/profile`)} ${quote(`${dir}/other`)}`)
  })

  it('cuts long lists into chunks by count and by bytes, so no launch nears ARG_MAX', () => {
    const short = Array.from({ length: 4500 }, (_, i) => `/p${i}`)
    expect(chunks(short).map((c) => [c.at, c.words.length])).toEqual([[0, 2000], [2000, 2000], [4000, 500]])
    const long = Array.from({ length: 100 }, () => `/${'x'.repeat(4000)}`)
    const cut = chunks(long)
    expect(cut.length).toBe(4)
    expect(cut.every((c) => c.words.join(' ').length < 128 * 1024)).toBe(true)
    expect(cut.flatMap((c) => c.words)).toEqual(long)
  })

  it('falls back to ls and wc where stat is missing or unlike GNU and BSD, with the same results', () => {
    const dir = tempDir()
    const paths = tree(dir, 12)
    const log = `${dir}/launches`
    writeFileSync(log, '')
    const bin = loggingPath(dir, log, ['stat'])
    const want = run(paths.map(oneByOne)).data
    expect(run(paths.map(ahead), `${bin}:/usr/bin:/bin`).data).toEqual(want)
    expect(readFileSync(log, 'utf8')).toMatch(/^ls$/m)
  })

  it('fails the probe, never misattributes, when what it read does not add up (a file changed meanwhile)', () => {
    const paths = ['/x/a', '/x/b']
    const plan = posixBatch(paths.map(ahead), 'n')
    const m = (t: string): string => `@@statecraft:n:${t}`
    const out = (stat: string, content: string): string => `${m('0')}\n${m('1')}\n${m('stat')}\n${stat}${m('content')}\n${content}${m('end')}\n`
    const okStat = '-rw-r--r-- 2 ana /x/a\n-rw-r--r-- 1 ana /x/b\n'
    expect(plan.parse(out(okStat, 's 1 2\ns 2 1\n=\n 61 62 63\n'), 'h').map((d) => d.get('content'))).toEqual(['6162', '63'])
    expect(() => plan.parse(out(okStat, 's 1 2\ns 2 1\n=\n 61 62\n'), 'h')).toThrow(/host h: a file changed while the probe read it/)
    expect(() => plan.parse(out(`${okStat}-rw-r--r-- 1 ana /x/c\n`, '=\n'), 'h')).toThrow(/host h: a path changed/)
    expect(() => plan.parse(out(okStat, 'x 1\n=\n'), 'h')).toThrow(/host h: a file changed/)
    expect(() => plan.parse(`${m('0')}\n${m('1')}\n${m('end')}\n`, 'h')).toThrow(/cut short/)
    // A missing path has no line: the next line is matched by its name, not by position.
    expect(plan.parse(out('-rw-r--r-- 1 ana /x/b\n', '=\n'), 'h').map((d) => d.get('kind'))).toEqual(['absent', 'file'])
  })
})

describe('unquote', () => {
  it('gives back any string quote() wrote, and refuses words that are not plain literals', () => {
    fc.assert(fc.property(anyString(), (s) => s === '' || unquote(quote(s)) === s))
    for (const w of ['$HOME', '"a"', 'a b', "'open", '~/x', '`id`']) expect(unquote(w)).toBeUndefined()
  })
})
