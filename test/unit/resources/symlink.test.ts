import { describe, expect, it } from 'vitest'
import { symlinkType, type SymlinkOptions } from '../../../lib/resources/symlink.ts'
import { hex, linuxFacts, macFacts, none, probe, psHex, windowsFacts } from '../../helpers/facts.ts'
import { runCase, type Case } from '../../helpers/table.ts'

const cases: Case<SymlinkOptions>[] = [
  { name: 'absent link is created', facts: linuxFacts, desired: { path: '/opt/cur', target: 'v2' }, current: probe({ kind: 'absent', target: undefined }), changes: ['create link /opt/cur -> v2'], steps: [['ln', '-sfn', '--', 'v2', '/opt/cur']] },
  { name: 'link to the same target is a no-op', facts: linuxFacts, desired: { path: '/opt/cur', target: 'v2' }, current: probe({ kind: 'link', perm: 'lrwxrwxrwx', owner: 'ana', target: hex('v2') }), changes: [] },
  { name: 'a target with newlines, trailing ones too, is read back whole', facts: linuxFacts, desired: { path: '/opt/cur', target: 'a\nb\n' }, current: probe({ kind: 'link', perm: 'lrwxrwxrwx', owner: 'ana', target: hex('a\nb\n') }), changes: [] },
  { name: 'a target differing only in a newline is repointed', facts: linuxFacts, desired: { path: '/opt/cur', target: 'ab' }, current: probe({ kind: 'link', perm: 'lrwxrwxrwx', owner: 'ana', target: hex('a\nb') }), changes: ['point /opt/cur -> ab (was -> a\nb)'], steps: [['ln', '-sfn', '--', 'ab', '/opt/cur']] },
  { name: 'link elsewhere is repointed', facts: macFacts, desired: { path: '~/cur', target: '~/v2' }, current: probe({ kind: 'link', perm: 'lrwxr-xr-x', owner: 'ana', target: hex('/Users/ana/v1') }), changes: ['point /Users/ana/cur -> /Users/ana/v2 (was -> /Users/ana/v1)'], steps: [['ln', '-sfn', '--', '/Users/ana/v2', '/Users/ana/cur']] },
  { name: 'absent: link removed', facts: linuxFacts, desired: { path: '/opt/cur', state: 'absent' }, current: probe({ kind: 'link', perm: 'lrwxrwxrwx', owner: 'ana', target: hex('v1') }), changes: ['remove link /opt/cur (was -> v1)'], steps: [['rm', '-f', '--', '/opt/cur']] },
  { name: 'absent: a regular file is not a link, left alone', facts: linuxFacts, desired: { path: '/opt/cur', state: 'absent' }, current: probe({ kind: 'file', perm: '-rw-r--r--', owner: 'ana', target: undefined }), changes: [] },
  { name: 'file in the way with force: replaced', facts: linuxFacts, desired: { path: '/opt/cur', target: 'v2', force: true }, current: probe({ kind: 'file', perm: '-rw-r--r--', owner: 'ana', target: undefined }), changes: ['replace file /opt/cur with link -> v2'], steps: [['ln', '-sfn', '--', 'v2', '/opt/cur']] },
  { name: 'a file in the way without force: refused', facts: linuxFacts, desired: { path: '/opt/cur', target: 'v2' }, current: probe({ kind: 'file', perm: '-rw-r--r--', owner: 'ana', target: undefined }), changes: ['replace file /opt/cur with link -> v2'], applyError: /symlink \/opt\/cur: a regular file stands there; set force: true to replace it/ },
  { name: 'a directory in the way, even with force: refused', facts: linuxFacts, desired: { path: '/opt/cur', target: 'v2', force: true }, current: probe({ kind: 'directory', perm: 'drwxr-xr-x', owner: 'ana', target: undefined }), changes: ['replace directory /opt/cur with link -> v2'], applyError: /never deletes a directory/ },
  // Windows: Sc-Stat prints kind=link for a reparse point; the target comes from Sc-KvHex (upper-case hex).
  { name: 'Windows: absent link is created', facts: windowsFacts, desired: { path: '~/cur', target: '~/v2' }, current: probe({ kind: 'absent', target: undefined }), changes: ['create link C:\\Users\\ana\\cur -> C:\\Users\\ana\\v2'], steps: ["$null = New-Item -ItemType SymbolicLink -Path 'C:\\Users\\ana\\cur' -Target 'C:\\Users\\ana\\v2'"] },
  { name: 'Windows: link to the same target is a no-op', facts: windowsFacts, desired: { path: '~/cur', target: '~/v2' }, current: probe({ kind: 'link', target: psHex('C:\\Users\\ana\\v2'), ...none('perm', 'owner') }), changes: [] },
  {
    name: 'Windows: link elsewhere is deleted and made again',
    facts: windowsFacts,
    desired: { path: '~/cur', target: 'v2' },
    current: probe({ kind: 'link', target: psHex('D:\\v1'), ...none('perm', 'owner') }),
    changes: ['point C:\\Users\\ana\\cur -> v2 (was -> D:\\v1)'],
    steps: ["(Get-Item -LiteralPath 'C:\\Users\\ana\\cur' -Force).Delete()\n$null = New-Item -ItemType SymbolicLink -Path 'C:\\Users\\ana\\cur' -Target 'v2'"],
  },
  { name: 'Windows: absent: link removed', facts: windowsFacts, desired: { path: '~/cur', state: 'absent' }, current: probe({ kind: 'link', target: psHex('D:\\v1'), ...none('perm', 'owner') }), changes: ['remove link C:\\Users\\ana\\cur (was -> D:\\v1)'], steps: ["(Get-Item -LiteralPath 'C:\\Users\\ana\\cur' -Force).Delete()"] },
  { name: 'Windows: absent: a regular file is left alone', facts: windowsFacts, desired: { path: '~/cur', state: 'absent' }, current: probe({ kind: 'file', size: '4', ...none('perm', 'owner', 'target') }), changes: [] },
  { name: 'Windows: a file in the way without force: refused', facts: windowsFacts, desired: { path: '~/cur', target: 'v2' }, current: probe({ kind: 'file', size: '4', ...none('perm', 'owner', 'target') }), changes: ['replace file C:\\Users\\ana\\cur with link -> v2'], applyError: /set force: true/ },
  { name: 'target required', facts: linuxFacts, desired: { path: '/opt/cur' }, error: /symlink \/opt\/cur: target is required/ },
]

describe('symlink', () => {
  for (const c of cases) it(c.name, () => runCase(symlinkType, c))

  it('refuses to replace a file without force, and a directory ever', () => {
    const d = symlinkType.validate({ path: '/opt/cur', target: 'v2' }, linuxFacts)
    const file = symlinkType.parse(probe({ kind: 'file', perm: '-rw-r--r--', owner: 'a', target: undefined }), d)
    expect(() => symlinkType.apply(d, file, symlinkType.diff(d, file), linuxFacts)).toThrow(/set force: true/)
    const df = symlinkType.validate({ path: '/opt/cur', target: 'v2', force: true }, linuxFacts)
    const dir = symlinkType.parse(probe({ kind: 'directory', perm: 'drwxr-xr-x', owner: 'a', target: undefined }), df)
    expect(() => symlinkType.apply(df, dir, symlinkType.diff(df, dir), linuxFacts)).toThrow(/never deletes a directory/)
  })
})
