import { createHash } from 'node:crypto'
import { describe, it } from 'vitest'
import { WRITE_SCRIPT } from '../../../lib/shell/posix/write.ts'
import { fileType, type FileOptions } from '../../../lib/resources/file.ts'
import { hex, linuxFacts, macFacts, none, probe, psHex, windowsFacts } from '../../helpers/facts.ts'
import { runCase, type Case } from '../../helpers/table.ts'

const W = (p: string, mode: string, owner: string, content: string): string[] => [
  'sh', '-c', WRITE_SCRIPT, 'statecraft-write', p, mode, owner, String(Buffer.byteLength(content)), createHash('sha256').update(content).digest('hex'),
]

/** The atomic write a Windows host runs: the bytes travel base64 inside the script. */
const PW = (p: string, content: string): string => `$p = '${p}'
$d = Split-Path -Parent $p
$null = [IO.Directory]::CreateDirectory($d)
foreach ($s in @(Get-ChildItem -LiteralPath $d -Force -Filter '.statecraft.*' -ErrorAction SilentlyContinue)) {
  $w = ($s.Name -split '\\.')[2]
  if ($w -match '^\\d+$' -and -not (Get-Process -Id ([int]$w) -ErrorAction SilentlyContinue)) { Remove-Item -LiteralPath $s.FullName -Force -ErrorAction SilentlyContinue }
}
$t = Join-Path $d ('.statecraft.' + $PID + '.' + [Guid]::NewGuid().ToString('N'))
try {
  [IO.File]::WriteAllBytes($t, [Convert]::FromBase64String('${Buffer.from(content).toString('base64')}'))
  if ([IO.File]::Exists($p)) { [IO.File]::Replace($t, $p, [NullString]::Value) } else { [IO.File]::Move($t, $p) }
} finally {
  if (Test-Path -LiteralPath $t) { Remove-Item -LiteralPath $t -Force }
}`

const cases: Case<FileOptions>[] = [
  {
    name: 'absent file is created with content and mode',
    facts: linuxFacts,
    desired: { path: '/etc/app.conf', content: 'a=1\n', mode: '0640' },
    current: probe({ kind: 'absent', ...none('size', 'content', 'sha256') }),
    changes: ['create file /etc/app.conf (4 bytes)', 'set mode 0640'],
    steps: [W('/etc/app.conf', '0640', '', 'a=1\n')],
  },
  {
    name: 'identical file is a no-op',
    facts: linuxFacts,
    desired: { path: '/etc/app.conf', content: 'a=1\n', mode: '0640', owner: 'root' },
    current: probe({ kind: 'file', perm: '-rw-r-----', owner: 'root', size: '4', content: hex('a=1\n'), sha256: undefined }),
    changes: [],
  },
  {
    name: 'mode only differs: chmod, no rewrite',
    facts: linuxFacts,
    desired: { path: '/etc/app.conf', content: 'a=1\n', mode: '0644' },
    current: probe({ kind: 'file', perm: '-rw-------', owner: 'root', size: '4', content: hex('a=1\n'), sha256: undefined }),
    changes: ['set mode 0644 (was 0600)'],
    steps: [['chmod', '--', '0644', '/etc/app.conf']],
  },
  {
    name: 'content differs: atomic rewrite keeps the current mode and owner',
    facts: linuxFacts,
    desired: { path: '/etc/app.conf', content: 'a=2\n' },
    current: probe({ kind: 'file', perm: '-rw-r-----', owner: 'svc', size: '4', content: hex('a=1\n'), sha256: undefined }),
    changes: ['update content of /etc/app.conf (4 bytes, was 4 bytes)'],
    steps: [W('/etc/app.conf', '0640', 'svc', 'a=2\n')],
  },
  {
    name: 'large file compared by sha256: equal',
    facts: linuxFacts,
    desired: { path: '/big', content: 'x' },
    current: probe({ kind: 'file', perm: '-rw-r--r--', owner: 'ana', size: '2000000', sha256: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881', content: undefined }),
    changes: [],
  },
  {
    name: 'owner differs on macOS (ls shows @ for xattrs)',
    facts: macFacts,
    desired: { path: '~/.zprofile', owner: 'ana' },
    current: probe({ kind: 'file', perm: '-rw-r--r--@', owner: 'root', ...none('size', 'content', 'sha256') }),
    changes: ['set owner ana (was root)'],
    steps: [['chown', '--', 'ana', '/Users/ana/.zprofile']],
  },
  {
    name: 'state absent removes a present file',
    facts: linuxFacts,
    desired: { path: '/tmp/x', state: 'absent' },
    current: probe({ kind: 'file', perm: '-rw-r--r--', owner: 'ana', ...none('size', 'content', 'sha256') }),
    changes: ['remove file /tmp/x'],
    steps: [['rm', '-f', '--', '/tmp/x']],
  },
  { name: 'state absent on an absent file is a no-op', facts: linuxFacts, desired: { path: '/tmp/x', state: 'absent' }, current: probe({ kind: 'absent', ...none('size', 'content', 'sha256') }), changes: [] },
  { name: 'mode as a number is refused', facts: linuxFacts, desired: { path: '/x', mode: 420 as unknown as string }, error: /file \/x: mode must be an octal string like '0644' \(got 420\): write it as a string/ },
  { name: 'relative path is refused', facts: linuxFacts, desired: { path: 'etc/x' }, error: /file etc\/x: path must be absolute or start with ~\// },
  { name: 'unknown field is refused', facts: linuxFacts, desired: { path: '/x', contents: 'a' } as unknown as FileOptions, error: /contents is not a known field/ },
  // Windows: Sc-Stat prints kind and size (no perm, no owner); psContent prints upper-case hex.
  {
    name: 'Windows: absent file is created by an atomic write',
    facts: windowsFacts,
    desired: { path: '~/invokeai/invokeai.init', content: '--web\n' },
    current: probe({ kind: 'absent', ...none('size', 'content', 'sha256') }),
    changes: ['create file C:\\Users\\ana\\invokeai\\invokeai.init (6 bytes)'],
    steps: [PW('C:\\Users\\ana\\invokeai\\invokeai.init', '--web\n')],
  },
  {
    name: 'Windows: identical file (upper-case hex) is a no-op',
    facts: windowsFacts,
    desired: { path: '~/invokeai/invokeai.init', content: '--web\n' },
    current: probe({ kind: 'file', size: '6', content: psHex('--web\n'), ...none('perm', 'owner', 'sha256') }),
    changes: [],
  },
  {
    name: 'Windows: CRLF content differs: rewritten',
    facts: windowsFacts,
    desired: { path: 'C:\\ProgramData\\app.conf', content: 'a=2\r\n' },
    current: probe({ kind: 'file', size: '5', content: psHex('a=1\r\n'), ...none('perm', 'owner', 'sha256') }),
    changes: ['update content of C:\\ProgramData\\app.conf (5 bytes, was 5 bytes)'],
    steps: [PW('C:\\ProgramData\\app.conf', 'a=2\r\n')],
  },
  {
    name: 'Windows: large file compared by sha256 (Get-FileHash, lowered): equal',
    facts: windowsFacts,
    desired: { path: 'D:\\big', content: 'x' },
    current: probe({ kind: 'file', size: '2000000', sha256: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881', ...none('perm', 'owner', 'content') }),
    changes: [],
  },
  {
    name: 'Windows: quotes in the path are doubled, typographic ones too',
    facts: windowsFacts,
    desired: { path: "~/it's \u2019notes\u2019.txt", content: 'n' },
    current: probe({ kind: 'absent', ...none('size', 'content', 'sha256') }),
    changes: ["create file C:\\Users\\ana\\it's \u2019notes\u2019.txt (1 bytes)"],
    steps: [/^\$p = 'C:\\Users\\ana\\it''s \u2019\u2019notes\u2019\u2019\.txt'\n/],
  },
  {
    name: 'Windows: state absent removes the file',
    facts: windowsFacts,
    desired: { path: 'C:\\tmp\\x', state: 'absent' },
    current: probe({ kind: 'file', size: '3', ...none('perm', 'owner', 'content', 'sha256') }),
    changes: ['remove file C:\\tmp\\x'],
    steps: ["Remove-Item -LiteralPath 'C:\\tmp\\x' -Force"],
  },
  { name: 'Windows: state absent on an absent file is a no-op', facts: windowsFacts, desired: { path: 'C:\\tmp\\x', state: 'absent' }, current: probe({ kind: 'absent', ...none('size', 'content', 'sha256') }), changes: [] },
  { name: 'Windows: owner is refused', facts: windowsFacts, desired: { path: '~/x', content: 'x', owner: 'ana' }, error: /file ~\/x: owner is a POSIX permission and cannot be set on a Windows host/ },
  { name: 'Windows: a POSIX path is refused', facts: windowsFacts, desired: { path: '/etc/x' }, error: /path must be absolute \(C:\\…\) or start with ~\/ on a Windows host/ },
  { name: 'absent with content is refused', facts: linuxFacts, desired: { path: '/x', state: 'absent', content: 'a' }, error: /state is 'absent'/ },
]

describe('file', () => {
  for (const c of cases) it(c.name, () => runCase(fileType, c))
})
