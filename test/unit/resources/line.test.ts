import { describe, expect, it } from 'vitest'
import { editLines, lineType, type LineOptions } from '../../../lib/resources/line.ts'
import { hex, linuxFacts, macFacts, none, probe, psHex, type StrictProbe, windowsFacts } from '../../helpers/facts.ts'
import { runCase, type Case } from '../../helpers/table.ts'

/** A file as the POSIX probe prints it: sc_stat, then sc_content (size and hex; a hash past 1 MiB). */
const file = (content: string): StrictProbe => probe({ kind: 'file', perm: '-rw-r--r--', owner: 'ana', size: String(Buffer.byteLength(content)), content: hex(content), ...none('toolarge', 'sha256') })
const write = (p: string, mode: string, owner: string): (string | undefined)[] => ['sh', '-c', expect.any(String) as unknown as string, 'statecraft-write', p, mode, owner, expect.stringMatching(/^\d+$/) as unknown as string, expect.stringMatching(/^[0-9a-f]{64}$/) as unknown as string]

/** A file as the Windows probe prints it: Sc-Stat (kind, size) and psContent (upper-case hex). */
const winFile = (content: string): StrictProbe => probe({ kind: 'file', size: String(Buffer.byteLength(content)), content: psHex(content), ...none('perm', 'owner', 'toolarge', 'sha256') })
/** The Windows atomic write of `content` to `p`: checked by the target and the base64 bytes inside. */
const psWrites = (p: string, content: string) => (script: string): void => {
  expect(script).toMatch(new RegExp(`^\\$p = '${p.replaceAll('\\', '\\\\')}'\\n`))
  expect(script).toContain(`[Convert]::FromBase64String('${Buffer.from(content).toString('base64')}')`)
  expect(script).toContain('[IO.File]::Replace($t, $p, [NullString]::Value)')
}
const ROOT = "$env:INVOKEAI_ROOT = 'C:\\Users\\ana\\invokeai'"

const cases: Case<LineOptions>[] = [
  { name: 'line already present: no-op', facts: macFacts, desired: { path: '~/.zprofile', line: 'export A=1' }, current: file('x\nexport A=1\n'), changes: [] },
  { name: 'matched line with the desired text: no-op', facts: macFacts, desired: { path: '~/.zprofile', match: '^export A=', line: 'export A=1' }, current: file('export A=1\n'), changes: [] },
  { name: 'missing line appended', facts: macFacts, desired: { path: '~/.zprofile', line: 'export A=1' }, current: file('x\n'), changes: ['append line "export A=1" to /Users/ana/.zprofile'], steps: [write('/Users/ana/.zprofile', '0644', 'ana') as string[]] },
  { name: 'matched line replaced', facts: linuxFacts, desired: { path: '/etc/profile.d/a.sh', match: '^export A=', line: 'export A=2' }, current: file('# a\nexport A=1\n'), changes: ['replace line 2 of /etc/profile.d/a.sh: "export A=1" with "export A=2"'], steps: [write('/etc/profile.d/a.sh', '0644', 'ana') as string[]] },
  { name: 'replaced by an empty line, in a file without a final newline: the empty line gets one', facts: linuxFacts, desired: { path: '/tmp/p', match: '^x', line: '' }, current: file('a\nx=1'), changes: ['replace line 2 of /tmp/p: "x=1" with ""'], steps: [write('/tmp/p', '0644', 'ana') as string[]] },
  { name: 'absent file is created with the line', facts: linuxFacts, desired: { path: '/tmp/p', line: 'a' }, current: probe({ kind: 'absent', ...none('content', 'toolarge', 'sha256') }), changes: ['create /tmp/p with line "a"'], steps: [write('/tmp/p', '0644', '') as string[]] },
  { name: 'absent state on an absent file: no-op', facts: linuxFacts, desired: { path: '/tmp/p', line: 'a', state: 'absent' }, current: probe({ kind: 'absent', ...none('content', 'toolarge', 'sha256') }), changes: [] },
  { name: 'sensitive lines are not shown', facts: linuxFacts, desired: { path: '/tmp/p', line: 'TOKEN=s3cret', sensitive: true }, current: file(''), changes: ['append line (sensitive) to /tmp/p'], steps: [write('/tmp/p', '0644', 'ana') as string[]] },
  {
    name: 'too large to edit: planned, then refused',
    facts: linuxFacts,
    desired: { path: '/var/log/big', line: 'a' },
    current: probe({ kind: 'file', perm: '-rw-r--r--', owner: 'ana', size: '1048577', sha256: 'ab'.repeat(32), ...none('toolarge', 'content') }),
    changes: ['edit /var/log/big: larger than 1048576 bytes, too large to edit line by line'],
    applyError: /line in \/var\/log\/big: the path is not an editable regular file \(too large\)/,
  },
  // Windows: CRLF files stay CRLF; content arrives as upper-case hex.
  {
    name: 'Windows: matched line in a CRLF profile replaced, CRLF kept',
    facts: windowsFacts,
    desired: { path: '~/profile.ps1', match: '^\\$env:INVOKEAI_ROOT', line: ROOT },
    current: winFile("# profile\r\n$env:INVOKEAI_ROOT = 'D:\\old'\r\n"),
    changes: [`replace line 2 of C:\\Users\\ana\\profile.ps1: "$env:INVOKEAI_ROOT = 'D:\\\\old'" with "$env:INVOKEAI_ROOT = 'C:\\\\Users\\\\ana\\\\invokeai'"`],
    steps: [psWrites('C:\\Users\\ana\\profile.ps1', `# profile\r\n${ROOT}\r\n`)],
  },
  { name: 'Windows: line present in a CRLF profile: no-op', facts: windowsFacts, desired: { path: '~/profile.ps1', match: '^\\$env:INVOKEAI_ROOT', line: ROOT }, current: winFile(`# profile\r\n${ROOT}\r\n`), changes: [] },
  { name: 'Windows: line appended to a CRLF file with CRLF', facts: windowsFacts, desired: { path: '~/profile.ps1', line: ROOT }, current: winFile('# profile\r\n'), changes: [`append line ${JSON.stringify(ROOT)} to C:\\Users\\ana\\profile.ps1`], steps: [psWrites('C:\\Users\\ana\\profile.ps1', `# profile\r\n${ROOT}\r\n`)] },
  { name: 'Windows: absent file is created with the line', facts: windowsFacts, desired: { path: '~/profile.ps1', line: ROOT }, current: probe({ kind: 'absent', ...none('content', 'toolarge', 'sha256') }), changes: [`create C:\\Users\\ana\\profile.ps1 with line ${JSON.stringify(ROOT)}`], steps: [psWrites('C:\\Users\\ana\\profile.ps1', `${ROOT}\n`)] },
  { name: 'Windows: absent state removes the line, CRLF kept', facts: windowsFacts, desired: { path: '~/profile.ps1', line: 'Set-PSDebug -Trace 1', state: 'absent' }, current: winFile('a\r\nSet-PSDebug -Trace 1\r\nb\r\n'), changes: ['remove 1 line from C:\\Users\\ana\\profile.ps1'], steps: [psWrites('C:\\Users\\ana\\profile.ps1', 'a\r\nb\r\n')] },
  {
    name: 'Windows: too large to edit: planned, then refused',
    facts: windowsFacts,
    desired: { path: 'D:\\logs\\big.txt', line: 'a' },
    current: probe({ kind: 'file', size: '2000000', toolarge: '1', ...none('perm', 'owner', 'content', 'sha256') }),
    changes: ['edit D:\\logs\\big.txt: larger than 1048576 bytes, too large to edit line by line'],
    applyError: /not an editable regular file \(too large\)/,
  },
  { name: 'Windows: mode is refused', facts: windowsFacts, desired: { path: '~/profile.ps1', line: 'a', mode: '0644' }, error: /mode is a POSIX permission and cannot be set on a Windows host/ },
  { name: 'multi-line value refused', facts: linuxFacts, desired: { path: '/tmp/p', line: 'a\nb' }, error: /line must be a single line/ },
  { name: 'a carriage return refused', facts: linuxFacts, desired: { path: '/tmp/p', line: 'a\r' }, error: /line in \/tmp\/p: line must be a single line without a carriage return/ },
  { name: 'Windows: a lone CR refused too', facts: windowsFacts, desired: { path: 'C:\\p.txt', line: '\r' }, error: /line must be a single line without a carriage return/ },
  { name: 'bad regex refused', facts: linuxFacts, desired: { path: '/tmp/p', line: 'a', match: '(' }, error: /match is not a valid RE2 regular expression/ },
  { name: 'lookbehind is not RE2: refused, saying so', facts: linuxFacts, desired: { path: '/tmp/p', line: 'a', match: '(?<=x)a' }, error: /match is not a valid RE2 regular expression \(lookaround and backreferences are not available\)/ },
  { name: 'a backreference is not RE2: refused', facts: linuxFacts, desired: { path: '/tmp/p', line: 'a', match: '(a)\\1' }, error: /not a valid RE2 regular expression/ },
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
    ['an empty line replacing the last one, without a final newline, still ends in one', 'x=1', { match: '^x', line: '' }, '\n'],
    ['the same after other lines', 'a\nx=1', { match: '^x', line: '' }, 'a\n\n'],
  ])('%s', (_n, before, d, after) => {
    expect(editLines({ path: '/f', ...d }, before)?.after).toBe(after)
  })
})

describe('line regexes run in linear time (RE2)', () => {
  it('^(a+)+$ against 40 a and a b: no catastrophic backtracking (JavaScript takes minutes here)', () => {
    const content = `${'a'.repeat(40)}b\n`
    const d = lineType.validate({ path: '/tmp/p', match: '^(a+)+$', line: 'ok' }, linuxFacts)
    expect(editLines(d, content)).toEqual({ text: 'append line "ok" to /tmp/p', after: `${content}ok\n` })
  })
})

