import { describe, expect, it } from 'vitest'
import type { Change, Facts, ResourceType } from '../../lib/core/types.ts'
import { builtinTypes, macOnlyTypes } from '../../lib/resources/all.ts'
import { directoryType } from '../../lib/resources/directory.ts'
import { downloadType } from '../../lib/resources/download/download.ts'
import { fileType } from '../../lib/resources/file.ts'
import { linuxFacts, macFacts } from '../helpers/facts.ts'
import { windowsFacts } from '../helpers/lint.ts'

// Not a fixture table: only what apply does with the ops matters here, so unprinted keys read as absent.
const probe = (lines: Record<string, string>): Map<string, string> => new Map(Object.entries(lines))

const reworded = (changes: Change[]): Change[] => changes.map((c, i) => ({ ...c, text: `something else entirely ${i}` }))
const argvs = (type: ResourceType<any, any, any>, d: unknown, c: unknown, changes: Change[], facts: Facts) =>
  type.apply(d, c, changes, facts).map((s) => [s.argv, s.psScript, s.stdin])

describe('apply switches on the op of a change, never on its wording', () => {
  const cases: [string, ResourceType<any, any, any>, object, Map<string, string>, Facts][] = [
    ['file: mode and owner', fileType, { path: '/etc/x', mode: '0600', owner: 'root' }, probe({ kind: 'file', perm: '-rw-r--r--', owner: 'ana' }), linuxFacts],
    ['file: new content', fileType, { path: '/etc/x', content: 'a' }, probe({ kind: 'file', perm: '-rw-r--r--', owner: 'ana', content: '62' }), linuxFacts],
    ['file: absent', fileType, { path: '/etc/x', state: 'absent' }, probe({ kind: 'link' }), linuxFacts],
    ['directory: create with mode', directoryType, { path: '/srv/d', mode: '0750' }, probe({ kind: 'absent' }), linuxFacts],
    ['directory: remove on Windows', directoryType, { path: 'C:\\d', state: 'absent', force: true }, probe({ kind: 'directory' }), windowsFacts],
    ['download: record the stamp', downloadType, { url: 'https://h/x', dest: '/m', sha256: 'a'.repeat(64) }, probe({ stampok: '0', exists: '1', hash: 'a'.repeat(64) }), linuxFacts],
  ]
  for (const [name, type, input, data, facts] of cases) {
    it(name, () => {
      const d = type.validate(input, facts)
      const c = type.parse(data, d)
      const changes = type.diff(d, c)
      expect(changes.length).toBeGreaterThan(0)
      const steps = argvs(type, d, c, changes, facts)
      expect(steps.length).toBeGreaterThan(0)
      expect(argvs(type, d, c, reworded(changes), facts)).toEqual(steps)
    })
  }

  it('the same text under another op gives that op\'s steps', () => {
    const d = fileType.validate({ path: '/etc/x', mode: '0600', owner: 'root' }, linuxFacts)
    const c = fileType.parse(probe({ kind: 'file', perm: '-rw-------', owner: 'ana' }), d)
    expect(fileType.apply(d, c, [{ op: 'chmod', mode: '0600', text: 'set owner root (was ana)' }], linuxFacts).map((s) => s.argv)).toEqual([['chmod', '--', '0600', '/etc/x']])
  })

  it('every change of every built-in carries an op (the examples)', () => {
    for (const type of builtinTypes) {
      for (const e of type.examples?.({ path: '/tmp/p', value: 'v' }) ?? []) {
        const d = type.validate(e.desired, macOnlyTypes.has(type.type) ? macFacts : linuxFacts)
        for (const ch of type.diff(d, e.current)) expect(typeof ch.op, `${type.type}: ${ch.text}`).toBe('string')
      }
    }
  })
})
