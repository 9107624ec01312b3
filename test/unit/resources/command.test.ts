import { describe, expect, it } from 'vitest'
import { commandType, type CommandOptions } from '../../../lib/resources/command.ts'
import { linuxFacts, macFacts, none, probe } from '../../helpers/facts.ts'
import { runCase, type Case } from '../../helpers/table.ts'

const rustup = ['sh', 'rustup-init.sh', '-y', '--profile', 'minimal', '--default-toolchain', '1.72.1']

const cases: Case<CommandOptions>[] = [
  { name: 'creates exists: no-op', facts: macFacts, desired: { argv: rustup, creates: '~/.cargo/bin/rustup' }, current: probe({ creates: '1', unless: undefined }), changes: [] },
  {
    name: 'creates missing: runs with cwd, env and timeout',
    facts: macFacts,
    desired: { argv: rustup, creates: '~/.cargo/bin/rustup', cwd: '/tmp', env: { RUSTUP_INIT_SKIP_PATH_CHECK: 'yes' }, timeout: 600 },
    current: probe({ creates: '0', unless: undefined }),
    changes: ["run sh rustup-init.sh -y --profile minimal --default-toolchain 1.72.1 (/Users/ana/.cargo/bin/rustup is missing)"],
    steps: [rustup],
  },
  { name: 'unless passes: no-op', facts: linuxFacts, desired: { argv: ['loginctl', 'enable-linger', 'ana'], unless: ['test', '-e', '/var/lib/systemd/linger/ana'] }, current: probe({ creates: undefined, unless: '0' }), changes: [] },
  { name: 'unless fails: runs', facts: linuxFacts, desired: { argv: ['loginctl', 'enable-linger', 'ana'], unless: ['test', '-e', '/var/lib/systemd/linger/ana'] }, current: probe({ creates: undefined, unless: '1' }), changes: ['run loginctl enable-linger ana (the unless check failed)'], steps: [['loginctl', 'enable-linger', 'ana']] },
  { name: 'handler alone: no change unless notified', facts: linuxFacts, desired: { argv: ['systemctl', 'restart', 'x'], onlyIfNotified: true }, current: probe(none('creates', 'unless')), changes: [] },
  { name: 'no guard is refused', facts: linuxFacts, desired: { argv: ['make'] }, error: /creates\/unless are both missing: the command would run on every run/ },
  { name: 'argv as a string is refused', facts: linuxFacts, desired: { argv: 'make install' as unknown as string[], creates: '/x' }, error: /argv must be a non-empty array of strings/ },
  { name: 'bad env name is refused', facts: linuxFacts, desired: { argv: ['x'], creates: '/x', env: { 'A-B': '1' } }, error: /env.A-B is not a valid environment variable name/ },
  { name: 'bad timeout is refused', facts: linuxFacts, desired: { argv: ['x'], creates: '/x', timeout: -1 }, error: /timeout must be a positive number of seconds/ },
]

describe('command', () => {
  for (const c of cases) it(c.name, () => runCase(commandType, c))

  it('passes cwd, env and timeout (ms) to the step', () => {
    const d = commandType.validate({ argv: ['make'], creates: '/x', cwd: '/src', env: { A: 'b c' }, timeout: 2 }, linuxFacts)
    expect(commandType.apply(d, {}, [{ text: 'run make (/x is missing)' }], linuxFacts)).toEqual([{ argv: ['make'], cwd: '/src', env: { A: 'b c' }, timeout: 2000 }])
  })
})
