import { describe, expect, it } from 'vitest'
import { commandType, type CommandOptions } from '../../../lib/resources/command.ts'
import { linuxFacts, macFacts, none, probe, windowsFacts } from '../../helpers/facts.ts'
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
  // Windows: the probe prints creates=1/0 (Test-Path) and unless=<exit code> (psGuard); steps are native calls.
  { name: 'Windows: creates exists: no-op', facts: windowsFacts, desired: { argv: ['rustup-init.exe', '-y'], creates: '~/.cargo/bin/rustup.exe' }, current: probe({ creates: '1', unless: undefined }), changes: [] },
  {
    name: 'Windows: creates missing: native call, exit code passed on',
    facts: windowsFacts,
    desired: { argv: ['rustup-init.exe', '-y', '-q'], creates: '~/.cargo/bin/rustup.exe' },
    current: probe({ creates: '0', unless: undefined }),
    changes: ['run rustup-init.exe -y -q (C:\\Users\\ana\\.cargo\\bin\\rustup.exe is missing)'],
    steps: ["& 'rustup-init.exe' '-y' '-q'\nexit $LASTEXITCODE"],
  },
  {
    name: 'Windows: cwd and env before the call',
    facts: windowsFacts,
    desired: { argv: ['nmake', 'install'], creates: 'C:\\src\\out\\app.exe', cwd: 'C:\\src', env: { CL: '/MP' } },
    current: probe({ creates: '0', unless: undefined }),
    changes: ['run nmake install (C:\\src\\out\\app.exe is missing)'],
    steps: ["Set-Location -LiteralPath 'C:\\src'\n$env:CL = '/MP'\n& 'nmake' 'install'\nexit $LASTEXITCODE"],
  },
  {
    name: 'Windows: unless exited 2: runs; quotes and empty arguments survive the native command line',
    facts: windowsFacts,
    desired: { argv: ['python.exe', '-c', 'print("hi there")', ''], unless: ['python.exe', '-c', 'import torch'] },
    current: probe({ creates: undefined, unless: '2' }),
    changes: [`run python.exe -c 'print("hi there")' '' (the unless check failed)`],
    steps: ["& 'python.exe' '-c' 'print(\\\"hi there\\\")' '\"\"'\nexit $LASTEXITCODE"],
  },
  { name: 'Windows: unless passes: no-op', facts: windowsFacts, desired: { argv: ['python.exe', '-m', 'pip', 'install', 'torch'], unless: ['python.exe', '-c', 'import torch'] }, current: probe({ creates: undefined, unless: '0' }), changes: [] },
  { name: 'Windows: handler alone: no change unless notified', facts: windowsFacts, desired: { argv: ['net', 'stop', 'x'], onlyIfNotified: true }, current: probe(none('creates', 'unless')), changes: [] },
  { name: 'no guard is refused', facts: linuxFacts, desired: { argv: ['make'] }, error: /creates\/unless are both missing: the command would run on every run/ },
  { name: 'argv as a string is refused', facts: linuxFacts, desired: { argv: 'make install' as unknown as string[], creates: '/x' }, error: /argv must be a non-empty array of strings/ },
  { name: 'bad env name is refused', facts: linuxFacts, desired: { argv: ['x'], creates: '/x', env: { 'A-B': '1' } }, error: /env.A-B is not a valid environment variable name/ },
  { name: 'bad timeout is refused', facts: linuxFacts, desired: { argv: ['x'], creates: '/x', timeout: -1 }, error: /timeout must be a positive number of seconds/ },
  { name: 'rebootExitCodes: creates missing: runs', facts: linuxFacts, desired: { argv: ['/opt/fw/install', '--quiet'], creates: '/opt/fw/installed', rebootExitCodes: [194] }, current: probe({ creates: '0', unless: undefined }), changes: ['run /opt/fw/install --quiet (/opt/fw/installed is missing)'], steps: [['/opt/fw/install', '--quiet']] },
  { name: 'rebootExitCodes: creates exists: no-op', facts: linuxFacts, desired: { argv: ['/opt/fw/install', '--quiet'], creates: '/opt/fw/installed', rebootExitCodes: [194] }, current: probe({ creates: '1', unless: undefined }), changes: [] },
  { name: 'rebootExitCodes with 0 is refused', facts: linuxFacts, desired: { argv: ['x'], creates: '/x', rebootExitCodes: [0] }, error: /rebootExitCodes must be a non-empty array of non-zero whole exit codes, e.g. \[3010\] \(got \[0\]\)/ },
  { name: 'rebootExitCodes empty or not numbers is refused', facts: linuxFacts, desired: { argv: ['x'], creates: '/x', rebootExitCodes: ['3010'] as unknown as number[] }, error: /rebootExitCodes must be a non-empty array of non-zero whole exit codes/ },
]

describe('command', () => {
  for (const c of cases) it(c.name, () => runCase(commandType, c))

  it('passes rebootExitCodes to the step, on Linux and on Windows', () => {
    for (const facts of [linuxFacts, windowsFacts]) {
      const d = commandType.validate({ argv: ['setup'], creates: '~/x', rebootExitCodes: [194, 3011] }, facts)
      expect(commandType.apply(d, {}, [{ op: 'run', text: 'run setup' }], facts)[0]).toMatchObject({ argv: ['setup'], rebootExitCodes: [194, 3011] })
    }
    const plain = commandType.validate({ argv: ['setup'], creates: '/x' }, linuxFacts)
    expect(commandType.apply(plain, {}, [{ op: 'run', text: 'run setup' }], linuxFacts)[0]!.rebootExitCodes).toBeUndefined()
  })

  it('passes cwd, env, timeout and the no-output bound (ms) to the step', () => {
    const d = commandType.validate({ argv: ['make'], creates: '/x', cwd: '/src', env: { A: 'b c' }, timeout: 2, idleTimeout: 5 }, linuxFacts)
    expect(commandType.apply(d, {}, [{ op: 'run', text: 'run make (/x is missing)' }], linuxFacts)).toEqual([{ argv: ['make'], cwd: '/src', env: { A: 'b c' }, timeout: 2000, idleTimeout: 5000 }])
  })

  it('is bounded by default: 30 minutes without output ends it', () => {
    const d = commandType.validate({ argv: ['sleep', '100000'], creates: '/x' }, linuxFacts)
    expect(commandType.apply(d, {}, [{ op: 'run', text: 'run' }], linuxFacts)).toEqual([{ argv: ['sleep', '100000'], idleTimeout: 1_800_000 }])
  })
})
