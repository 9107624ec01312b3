import { describe, it } from 'vitest'
import { directoryType, type DirectoryOptions } from '../../../lib/resources/directory.ts'
import { linuxFacts, macFacts, none, probe, windowsFacts } from '../../helpers/facts.ts'
import { runCase, type Case } from '../../helpers/table.ts'

const cases: Case<DirectoryOptions>[] = [
  {
    name: 'absent directory is created with parents, then mode set',
    facts: linuxFacts,
    desired: { path: '/srv/app/data', mode: '0750' },
    current: probe({ kind: 'absent' }),
    changes: ['create directory /srv/app/data', 'set mode 0750'],
    steps: [['mkdir', '-p', '--', '/srv/app/data'], ['chmod', '--', '0750', '/srv/app/data']],
  },
  { name: 'existing directory with the same mode is a no-op', facts: linuxFacts, desired: { path: '/srv', mode: '0755' }, current: probe({ kind: 'directory', perm: 'drwxr-xr-x', owner: 'root' }), changes: [] },
  { name: 'unset mode is not compared', facts: linuxFacts, desired: { path: '/srv' }, current: probe({ kind: 'directory', perm: 'drwx------', owner: 'root' }), changes: [] },
  {
    name: 'setgid and sticky bits are read from ls',
    facts: linuxFacts,
    desired: { path: '/shared', mode: '3775' },
    current: probe({ kind: 'directory', perm: 'drwxrwsr-t', owner: 'root' }),
    changes: [],
  },
  {
    name: 'mode and owner differ on macOS home',
    facts: macFacts,
    desired: { path: '~/invokeai', mode: '0755', owner: 'ana' },
    current: probe({ kind: 'directory', perm: 'drwx------+', owner: 'root' }),
    changes: ['set mode 0755 (was 0700)', 'set owner ana (was root)'],
    steps: [['chown', '--', 'ana', '/Users/ana/invokeai'], ['chmod', '--', '0755', '/Users/ana/invokeai']],
  },
  { name: 'absent: empty directory removed with rmdir', facts: linuxFacts, desired: { path: '/tmp/d', state: 'absent' }, current: probe({ kind: 'directory', perm: 'drwxr-xr-x', owner: 'ana', empty: '1' }), changes: ['remove empty directory /tmp/d'], steps: [['rmdir', '--', '/tmp/d']] },
  {
    name: 'absent without force: a directory with entries is planned as a conflict, then refused',
    facts: linuxFacts,
    desired: { path: '/tmp/d', state: 'absent' },
    current: probe({ kind: 'directory', perm: 'drwxr-xr-x', owner: 'ana', empty: '0' }),
    changes: ['remove directory /tmp/d: not empty (force is not set)'],
    applyError: /directory \/tmp\/d: is not empty, so it is not removed without force; empty it first, or set force: true/,
  },
  {
    name: 'absent without force: a directory that cannot be listed is not guessed empty',
    facts: linuxFacts,
    desired: { path: '/tmp/d', state: 'absent' },
    current: probe({ kind: 'directory', perm: 'd-wx------', owner: 'root', empty: 'unknown' }),
    changes: ['remove directory /tmp/d: cannot tell whether it is empty (force is not set)'],
    applyError: /directory \/tmp\/d: cannot be read to tell whether it is empty/,
  },
  { name: 'absent with force: rm -rf', facts: linuxFacts, desired: { path: '/tmp/d', state: 'absent', force: true }, current: probe({ kind: 'directory', perm: 'drwxr-xr-x', owner: 'ana' }), changes: ['remove directory /tmp/d and everything in it'], steps: [['rm', '-rf', '--', '/tmp/d']] },
  { name: 'absent when nothing is there: no-op', facts: linuxFacts, desired: { path: '/tmp/d', state: 'absent' }, current: probe({ kind: 'absent' }), changes: [] },
  {
    name: 'a file in the way: planned as a conflict, then refused (never replaced)',
    facts: linuxFacts,
    desired: { path: '/srv/d', mode: '0755' },
    current: probe({ kind: 'file', perm: '-rw-r--r--', owner: 'ana' }),
    changes: ['create directory /srv/d: a file stands there'],
    applyError: /directory \/srv\/d: a regular file stands there; move or remove it first/,
  },
  {
    name: 'a link in the way (even to a directory): planned as a conflict, then refused',
    facts: linuxFacts,
    desired: { path: '/srv/d' },
    current: probe({ kind: 'link', perm: 'lrwxrwxrwx', owner: 'ana' }),
    changes: ['create directory /srv/d: a link stands there'],
    applyError: /directory \/srv\/d: a symbolic link stands there; .*remove the link, or manage the directory it points to/,
  },
  { name: 'absent: a file there is not a directory, left alone', facts: linuxFacts, desired: { path: '/srv/d', state: 'absent' }, current: probe({ kind: 'file', perm: '-rw-r--r--', owner: 'ana' }), changes: [] },
  // Windows: Sc-Stat prints kind only for a directory (no perm, no owner).
  {
    name: 'Windows: absent directory is created with parents',
    facts: windowsFacts,
    desired: { path: '~/invokeai/models' },
    current: probe({ kind: 'absent' }),
    changes: ['create directory C:\\Users\\ana\\invokeai\\models'],
    steps: ["$null = [IO.Directory]::CreateDirectory('C:\\Users\\ana\\invokeai\\models')"],
  },
  { name: 'Windows: existing directory is a no-op', facts: windowsFacts, desired: { path: '~/invokeai' }, current: probe({ kind: 'directory', ...none('perm', 'owner') }), changes: [] },
  { name: 'Windows: absent: empty directory removed', facts: windowsFacts, desired: { path: 'C:\\tmp\\d', state: 'absent' }, current: probe({ kind: 'directory', empty: '1', ...none('perm', 'owner') }), changes: ['remove empty directory C:\\tmp\\d'], steps: ["[IO.Directory]::Delete('C:\\tmp\\d')"] },
  { name: 'Windows: absent with force: removed recursively', facts: windowsFacts, desired: { path: 'C:\\tmp\\d', state: 'absent', force: true }, current: probe({ kind: 'directory', ...none('perm', 'owner') }), changes: ['remove directory C:\\tmp\\d and everything in it'], steps: ["Remove-Item -LiteralPath 'C:\\tmp\\d' -Recurse -Force"] },
  { name: 'Windows: absent when nothing is there: no-op', facts: windowsFacts, desired: { path: 'C:\\tmp\\d', state: 'absent' }, current: probe({ kind: 'absent' }), changes: [] },
  { name: 'Windows: absent without force: a directory with entries is refused', facts: windowsFacts, desired: { path: 'C:\\tmp\\d', state: 'absent' }, current: probe({ kind: 'directory', empty: '0', ...none('perm', 'owner') }), changes: ['remove directory C:\\tmp\\d: not empty (force is not set)'], applyError: /directory C:\\tmp\\d: is not empty/ },
  { name: 'Windows: a file in the way: planned as a conflict, then refused', facts: windowsFacts, desired: { path: 'C:\\d' }, current: probe({ kind: 'file', size: '3', ...none('perm', 'owner') }), changes: ['create directory C:\\d: a file stands there'], applyError: /directory C:\\d: a regular file stands there/ },
  { name: 'Windows: mode is refused', facts: windowsFacts, desired: { path: 'C:\\d', mode: '0755' }, error: /directory C:\\d: mode is a POSIX permission and cannot be set on a Windows host/ },
  { name: 'bad state is refused', facts: linuxFacts, desired: { path: '/x', state: 'gone' as 'absent' }, error: /directory \/x: state must be 'present' or 'absent' \(got "gone"\)/ },
  { name: 'bad owner is refused', facts: linuxFacts, desired: { path: '/x', owner: 'a b' }, error: /owner must be a user name/ },
]

describe('directory', () => {
  for (const c of cases) it(c.name, () => runCase(directoryType, c))
})
