import { describe, it } from 'vitest'
import { directoryType, type DirectoryOptions } from '../../../lib/resources/directory.ts'
import { linuxFacts, macFacts, probe } from '../../helpers/facts.ts'
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
  { name: 'absent: empty directory removed with rmdir', facts: linuxFacts, desired: { path: '/tmp/d', state: 'absent' }, current: probe({ kind: 'directory', perm: 'drwxr-xr-x', owner: 'ana' }), changes: ['remove empty directory /tmp/d'], steps: [['rmdir', '--', '/tmp/d']] },
  { name: 'absent with force: rm -rf', facts: linuxFacts, desired: { path: '/tmp/d', state: 'absent', force: true }, current: probe({ kind: 'directory', perm: 'drwxr-xr-x', owner: 'ana' }), changes: ['remove directory /tmp/d and everything in it'], steps: [['rm', '-rf', '--', '/tmp/d']] },
  { name: 'absent when nothing is there: no-op', facts: linuxFacts, desired: { path: '/tmp/d', state: 'absent' }, current: probe({ kind: 'absent' }), changes: [] },
  { name: 'bad state is refused', facts: linuxFacts, desired: { path: '/x', state: 'gone' as 'absent' }, error: /directory \/x: state must be 'present' or 'absent' \(got "gone"\)/ },
  { name: 'bad owner is refused', facts: linuxFacts, desired: { path: '/x', owner: 'a b' }, error: /owner must be a user name/ },
]

describe('directory', () => {
  for (const c of cases) it(c.name, () => runCase(directoryType, c))
})
