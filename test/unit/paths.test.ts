import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../lib/core/errors.ts'
import { prepare } from '../../lib/engine/node.ts'
import { buildGraph } from '../../lib/engine/graph.ts'
import { graphNode } from '../../lib/engine/node.ts'
import { normalisePath } from '../../lib/resources/fields.ts'
import { command, directory, download, file, git, line, symlink } from '../../lib/index.ts'
import { linuxFacts, windowsFacts } from '../helpers/facts.ts'

const fail = (field: string, problem: string): never => {
  throw new ValidationError(`${field} ${problem}`)
}

describe('normalisePath: one path, one spelling', () => {
  it.each([
    ['/x/same.txt', '/x/same.txt'],
    ['/x/a/../same.txt', '/x/same.txt'],
    ['/x//same.txt', '/x/same.txt'],
    ['/x/./same.txt', '/x/same.txt'],
    ['/x/d/', '/x/d'],
    ['/x/d//', '/x/d'],
    ['//x', '/x'],
    ['/', '/'],
    ['/..', '/'],
    ['/srv/app/a/../../../etc/passwd', '/etc/passwd'],
    ['~', '/home/ana'],
    ['~/a/../b', '/home/ana/b'],
    ['~/../bob/.ssh', '/home/bob/.ssh'],
  ])('POSIX %j -> %j', (raw, want) => {
    expect(normalisePath(raw, 'path', linuxFacts, fail)).toBe(want)
  })

  it.each([
    ['C:\\x\\same.txt', 'C:\\x\\same.txt'],
    ['c:\\x\\same.txt', 'C:\\x\\same.txt'],
    ['C:/x//a/../same.txt', 'C:\\x\\same.txt'],
    ['C:\\x\\d\\', 'C:\\x\\d'],
    ['c:\\', 'C:\\'],
    ['C:/', 'C:\\'],
    ['C:\\a\\..\\..\\b', 'C:\\b'],
    ['~/invokeai/../models', 'C:\\Users\\ana\\models'],
    ['\\\\srv\\share\\d\\..\\e\\', '\\\\srv\\share\\e'],
  ])('Windows %j -> %j', (raw, want) => {
    expect(normalisePath(raw, 'path', windowsFacts, fail)).toBe(want)
  })

  it('still refuses relative paths, before normalising could hide them', () => {
    expect(() => normalisePath('a/../../etc', 'path', linuxFacts, fail)).toThrow(/path must be absolute or start with ~\//)
    expect(() => normalisePath('x\\..\\y', 'path', windowsFacts, fail)).toThrow(/must be absolute/)
  })

  it('every built-in type normalises its path fields, so ids and ordering edges use one spelling', () => {
    const ids = prepare(
      [
        file({ path: '/x//a/../f' }),
        directory({ path: '/x/./d/' }),
        symlink({ path: '/x/l/.', target: '~/t/../u' }),
        line({ path: '/x//p', line: 'a' }),
        command({ argv: ['true'], creates: '/x/c/../c2', cwd: '/x/d/../d' }),
        git({ repo: 'https://example.com/r.git', ref: 'main', dest: '/x/g//' }),
        download({ url: 'https://example.com/m', dest: '/x/./m', sha256: 'a'.repeat(64) }),
      ],
      linuxFacts,
    )
    expect(ids.map((n) => n.id)).toEqual(['file:/x/f', 'directory:/x/d', 'symlink:/x/l', 'line:/x/p:a', 'command:true', 'git:/x/g', 'download:/x/m'])
    expect(ids[2]?.desired.target).toBe('/home/ana/u')
    expect(ids[4]?.desired).toMatchObject({ creates: '/x/c2', cwd: '/x/d' })
    // The command runs in /x/d, whatever the spelling: ordered after the directory.
    const g = buildGraph(ids.map(graphNode))
    expect(g.preds.get('command:true')).toEqual([{ from: 'directory:/x/d', defers: false, why: 'under-directory' }])
  })
})

describe('one thing declared twice is refused, however it is written', () => {
  it('names both ids and the path when the ids differ', () => {
    const decls = [file({ id: 'a', path: '/x/same.txt', content: '1' }), file({ id: 'b', path: '/x/a/../same.txt', content: '2' })]
    expect(() => prepare(decls, linuxFacts)).toThrow(/resources 'a' and 'b' are one file: both manage \/x\/same\.txt .*; declare it once/)
  })

  it('names the id and the path when both are default ids', () => {
    const decls = [file({ path: '/x/same.txt', content: '1' }), file({ path: '/x//same.txt', content: '2' })]
    expect(() => prepare(decls, linuxFacts)).toThrow(/resource id 'file:\/x\/same\.txt' is used twice: both manage \/x\/same\.txt/)
  })

  it('on Windows, across drive-letter case and separators', () => {
    const decls = [directory({ id: 'a', path: 'c:\\Models' }), directory({ id: 'b', path: 'C:/Models/' })]
    expect(() => prepare(decls, windowsFacts)).toThrow(/resources 'a' and 'b' are one directory: both manage C:\\Models/)
  })

  it('two lines in one file, or two commands with the same argv and no path, are two things', () => {
    expect(() => prepare([line({ path: '/x/p', line: 'a' }), line({ path: '/x//p', line: 'b' })], linuxFacts)).not.toThrow()
    expect(() => prepare([command({ id: 'a', argv: ['make'], cwd: '/a', onlyIfNotified: true }), command({ id: 'b', argv: ['make'], cwd: '/b', onlyIfNotified: true })], linuxFacts)).not.toThrow()
  })

  it('two lines on one match in one file fight, and are refused', () => {
    expect(() => prepare([line({ id: 'a', path: '/x/p', match: '^A=', line: 'A=1' }), line({ id: 'b', path: '/x/./p', match: '^A=', line: 'A=2' })], linuxFacts)).toThrow(
      /resources 'a' and 'b' are one line: both manage \/x\/p/,
    )
  })
})
