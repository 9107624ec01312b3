import { describe, expect, it } from 'vitest'
import { editLines, lineType, type LineOptions } from '../../../lib/resources/line.ts'
import { hex, linuxFacts, macFacts, none, probe, type StrictProbe } from '../../helpers/facts.ts'
import { runCase, type Case } from '../../helpers/table.ts'

const file = (content: string): StrictProbe => probe({ kind: 'file', perm: '-rw-r--r--', owner: 'ana', content: hex(content), toolarge: undefined })
const write = (p: string, mode: string, owner: string): (string | undefined)[] => ['sh', '-c', expect.any(String) as unknown as string, 'statecraft-write', p, mode, owner]

const cases: Case<LineOptions>[] = [
  { name: 'line already present: no-op', facts: macFacts, desired: { path: '~/.zprofile', line: 'export A=1' }, current: file('x\nexport A=1\n'), changes: [] },
  { name: 'matched line with the desired text: no-op', facts: macFacts, desired: { path: '~/.zprofile', match: '^export A=', line: 'export A=1' }, current: file('export A=1\n'), changes: [] },
  { name: 'missing line appended', facts: macFacts, desired: { path: '~/.zprofile', line: 'export A=1' }, current: file('x\n'), changes: ['append line "export A=1" to /Users/ana/.zprofile'], steps: [write('/Users/ana/.zprofile', '0644', 'ana') as string[]] },
  { name: 'matched line replaced', facts: linuxFacts, desired: { path: '/etc/profile.d/a.sh', match: '^export A=', line: 'export A=2' }, current: file('# a\nexport A=1\n'), changes: ['replace line 2 of /etc/profile.d/a.sh: "export A=1" with "export A=2"'], steps: [write('/etc/profile.d/a.sh', '0644', 'ana') as string[]] },
  { name: 'absent file is created with the line', facts: linuxFacts, desired: { path: '/tmp/p', line: 'a' }, current: probe({ kind: 'absent', ...none('content', 'toolarge') }), changes: ['create /tmp/p with line "a"'], steps: [write('/tmp/p', '0644', '') as string[]] },
  { name: 'absent state on an absent file: no-op', facts: linuxFacts, desired: { path: '/tmp/p', line: 'a', state: 'absent' }, current: probe({ kind: 'absent', ...none('content', 'toolarge') }), changes: [] },
  { name: 'sensitive lines are not shown', facts: linuxFacts, desired: { path: '/tmp/p', line: 'TOKEN=s3cret', sensitive: true }, current: file(''), changes: ['append line (sensitive) to /tmp/p'], steps: [write('/tmp/p', '0644', 'ana') as string[]] },
  { name: 'multi-line value refused', facts: linuxFacts, desired: { path: '/tmp/p', line: 'a\nb' }, error: /line must be a single line/ },
  { name: 'bad regex refused', facts: linuxFacts, desired: { path: '/tmp/p', line: 'a', match: '(' }, error: /match is not a valid regular expression/ },
]

describe('line', () => {
  for (const c of cases) it(c.name, () => runCase(lineType, c))

  it.each([
    ['append keeps a missing final newline intact', 'a\nb', { line: 'c' }, 'a\nb\nc\n'],
    ['replace keeps no final newline', 'a\nexport A=1', { match: '^export A=', line: 'export A=2' }, 'a\nexport A=2'],
    ['replace picks the last match', 'A=1\nA=2\n', { match: '^A=', line: 'A=3' }, 'A=1\nA=3\n'],
    ['absent removes every match', 'A=1\nb\nA=2\n', { match: '^A=', line: '', state: 'absent' as const }, 'b\n'],
    ['absent removes exact lines', 'a\nb\na\n', { line: 'a', state: 'absent' as const }, 'b\n'],
    ['empty file gets the line', '', { line: 'x' }, 'x\n'],
  ])('%s', (_n, before, d, after) => {
    expect(editLines({ path: '/f', ...d }, before)?.after).toBe(after)
  })
})
