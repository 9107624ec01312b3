import { describe, expect, it } from 'vitest'
import { RUSTUP_INIT, rustupRun, rustupType, type RustupOptions } from '../../../lib/resources/rustup.ts'
import { hex, none, probe, psHex, windowsFacts } from '../../helpers/facts.ts'
import { debianFacts, macArmFacts, macIntelFacts, macRosettaFacts } from '../../helpers/mac-facts.ts'
import { runCase, type Case } from '../../helpers/table.ts'

/** What rustup 1.28 prints on stdout (the "info: …" lines go to stderr, which the probe drops). */
const VERSION = 'rustup 1.28.2 (e4f3ad6f8 2025-04-28)\n'
const LIST_MAC = 'stable-aarch64-apple-darwin (active, default)\n1.72.1-aarch64-apple-darwin\n'
const LIST_OLD = 'stable-x86_64-apple-darwin (default)\n'
const NONE = probe({ present: '0', ...none('version', 'toolchains') })
const SH = RUSTUP_INIT.posix.sha256
const fetch = (home: string): string[] =>
  ['sh', '-c', expect.any(String), 'statecraft-download', `${home}/.statecraft/installers/rustup-init-1.28.2.sh`, SH, '', '', expect.stringMatching(/\/\.statecraft\/stamps\/[0-9a-f]{40}$/), SH, expect.stringMatching(/^[0-9a-f]{40}$/), '0'] as string[]
const cleanup = (home: string): string[] => ['rm', '-f', '--', `${home}/.statecraft/installers/rustup-init-1.28.2.sh`, expect.stringMatching(/stamps\/[0-9a-f]{40}$/)] as string[]

const cases: Case<RustupOptions>[] = [
  {
    name: 'macOS arm64: missing: rustup-init.sh -y --profile minimal, then 1.72.1 beside stable',
    facts: macArmFacts,
    desired: { toolchains: ['1.72.1'] },
    current: NONE,
    changes: ['install rustup (rustup-init-1.28.2.sh, sha256 17247e4bcacf…) with the stable toolchain, profile minimal', 'install the 1.72.1 toolchain beside stable (rustup toolchain install 1.72.1)'],
    steps: [
      fetch('/Users/ana'),
      ['sh', '/Users/ana/.statecraft/installers/rustup-init-1.28.2.sh', '-y', '--profile', 'minimal', '--default-toolchain', 'stable'],
      cleanup('/Users/ana'),
      ['/Users/ana/.cargo/bin/rustup', 'toolchain', 'install', '1.72.1', '--profile', 'minimal'],
    ],
  },
  { name: 'macOS arm64: both toolchains there: converged', facts: macArmFacts, desired: { toolchains: ['1.72.1'] }, current: probe({ present: '1', version: hex(VERSION), toolchains: hex(LIST_MAC) }), changes: [] },
  { name: 'macOS arm64 under Rosetta: stable is the default: converged (the name is matched without the triple)', facts: macRosettaFacts, desired: { toolchain: 'stable' }, current: probe({ present: '1', version: hex(VERSION), toolchains: hex(LIST_MAC) }), changes: [] },
  {
    name: 'macOS x86_64: an old rustup without 1.72.1: only the missing toolchain',
    facts: macIntelFacts,
    desired: { toolchains: ['1.72.1'] },
    current: probe({ present: '1', version: hex('rustup 1.25.1 (bb60b1e89 2022-07-12)\n'), toolchains: hex(LIST_OLD) }),
    changes: ['install the 1.72.1 toolchain (rustup toolchain install 1.72.1)'],
    steps: [['/Users/ana/.cargo/bin/rustup', 'toolchain', 'install', '1.72.1', '--profile', 'minimal']],
  },
  {
    name: 'Debian 12: the default toolchain set and different: installed and made default',
    facts: debianFacts,
    desired: { toolchain: '1.72.1', profile: 'default' },
    current: probe({ present: '1', version: hex(VERSION), toolchains: hex('stable-x86_64-unknown-linux-gnu (active, default)\n') }),
    changes: ['install the 1.72.1 toolchain (rustup toolchain install 1.72.1)', 'make 1.72.1 the default toolchain (was stable-x86_64-unknown-linux-gnu)'],
    steps: [['/home/ana/.cargo/bin/rustup', 'toolchain', 'install', '1.72.1', '--profile', 'default'], ['/home/ana/.cargo/bin/rustup', 'default', '1.72.1']],
  },
  {
    name: 'Debian 12: rustup without any toolchain ("no installed toolchains"): stable installed and made default',
    facts: debianFacts,
    desired: { toolchain: 'stable' },
    current: probe({ present: '1', version: hex(VERSION), toolchains: hex('no installed toolchains\n') }),
    changes: ['install the stable toolchain (rustup toolchain install stable)', 'make stable the default toolchain (was none)'],
    steps: [['/home/ana/.cargo/bin/rustup', 'toolchain', 'install', 'stable', '--profile', 'minimal'], ['/home/ana/.cargo/bin/rustup', 'default', 'stable']],
  },
  { name: 'Debian 12: toolchain not set: a user default of nightly is left alone', facts: debianFacts, desired: {}, current: probe({ present: '1', version: hex(VERSION), toolchains: hex('nightly-x86_64-unknown-linux-gnu (default)\n') }), changes: [] },
  { name: 'a toolchain name with a space is refused', facts: debianFacts, desired: { toolchains: ['1.72 .1'] }, error: /toolchains\.0 must be a toolchain name like 'stable'/ },
  { name: 'url without sha256 is refused', facts: debianFacts, desired: { url: 'https://sh.rustup.rs' }, error: /sha256 is required with url/ },
  {
    name: 'Windows 11: rustup-init.exe -y -q, checked first',
    facts: windowsFacts,
    desired: { toolchain: 'stable', toolchains: ['1.72.1'] },
    current: NONE,
    changes: ['install rustup (rustup-init-1.28.2-x86_64.exe, sha256 88d8258dcf6a…) with the stable toolchain, profile minimal', 'install the 1.72.1 toolchain beside stable (rustup toolchain install 1.72.1)'],
    steps: [
      (s: string) => expect(s).toContain(`if ($h -ne '${RUSTUP_INIT['windows-x64'].sha256}')`),
      "& 'C:\\Users\\ana\\.statecraft\\installers\\rustup-init-1.28.2-x86_64.exe' '-y' '-q' '--profile' 'minimal' '--default-toolchain' 'stable'\nexit $LASTEXITCODE",
      /^Remove-Item -LiteralPath 'C:\\Users\\ana\\\.statecraft\\installers\\rustup-init-1\.28\.2-x86_64\.exe'/,
      "& 'C:\\Users\\ana\\.cargo\\bin\\rustup.exe' 'toolchain' 'install' '1.72.1' '--profile' 'minimal'\nexit $LASTEXITCODE",
    ],
  },
  { name: 'Windows 11: both there: converged', facts: windowsFacts, desired: { toolchains: ['1.72.1'] }, current: probe({ present: '1', version: psHex(VERSION), toolchains: psHex('stable-x86_64-pc-windows-msvc (active, default)\r\n1.72.1-x86_64-pc-windows-msvc\r\n') }), changes: [] },
]

describe('rustup table', () => {
  for (const c of cases) it(c.name, () => runCase(rustupType, c))
})

describe('rustupRun', () => {
  it('returns the argv prefix that runs one step with a pinned toolchain', () => {
    expect(rustupRun('1.72.1', ['pip', 'install', 'tokenizers==0.13.3'], macArmFacts)).toEqual(['/Users/ana/.cargo/bin/rustup', 'run', '1.72.1', 'pip', 'install', 'tokenizers==0.13.3'])
    expect(rustupRun('1.72.1', ['cargo', 'build'], windowsFacts)).toEqual(['C:\\Users\\ana\\.cargo\\bin\\rustup.exe', 'run', '1.72.1', 'cargo', 'build'])
  })

  it('installer steps are bounded by progress, not a total', () => {
    const d = rustupType.validate({ idleTimeout: 600 }, debianFacts)
    const steps = rustupType.apply(d, { present: false, toolchains: [] }, rustupType.diff(d, { present: false, toolchains: [] }), debianFacts)
    expect(steps[1]).toMatchObject({ idleTimeout: 600_000 })
    expect(steps[1]!.timeout).toBeUndefined()
  })
})
