import { describe, expect, it } from 'vitest'
import { HOMEBREW_INSTALL, homebrew, homebrewType, type HomebrewOptions } from '../../../lib/resources/homebrew.ts'
import { probe, windowsFacts } from '../../helpers/facts.ts'
import { debianFacts, macArmFacts, macIntelFacts, macRosettaFacts } from '../../helpers/mac-facts.ts'
import { runCase, type Case } from '../../helpers/table.ts'

const SCRIPT = '/Users/ana/.statecraft/installers/homebrew-install-ca0130bd.sh'
const SHA = HOMEBREW_INSTALL.sha256
const fetch = ['sh', '-c', expect.any(String), 'statecraft-download', SCRIPT, SHA, '', '', expect.stringMatching(/^\/Users\/ana\/\.statecraft\/stamps\/[0-9a-f]{40}$/), SHA, expect.stringMatching(/^[0-9a-f]{40}$/), '0'] as string[]
const cleanup = ['rm', '-f', '--', SCRIPT, expect.stringMatching(/stamps\/[0-9a-f]{40}$/)] as string[]

const cases: Case<HomebrewOptions>[] = [
  { name: 'macOS arm64: /opt/homebrew/bin/brew there: converged', facts: macArmFacts, desired: {}, current: probe({ uid: '501', brew: '1', other: '0' }), changes: [] },
  {
    name: 'macOS arm64: missing: install.sh under arch -arm64, NONINTERACTIVE',
    facts: macArmFacts,
    desired: {},
    current: probe({ uid: '501', brew: '0', other: '0' }),
    changes: ['install Homebrew at /opt/homebrew (NONINTERACTIVE=1 homebrew-install-ca0130bd.sh, sha256 8ff338091a5e…)'],
    steps: [fetch, ['/usr/bin/arch', '-arm64', '/bin/bash', SCRIPT], cleanup],
  },
  {
    name: 'macOS arm64 under Rosetta with an Intel brew in /usr/local: the arm64 one at /opt/homebrew, beside it',
    facts: macRosettaFacts,
    desired: {},
    current: probe({ uid: '501', brew: '0', other: '1' }),
    changes: ['install Homebrew at /opt/homebrew (NONINTERACTIVE=1 homebrew-install-ca0130bd.sh, sha256 8ff338091a5e…), beside the x86_64 Homebrew in /usr/local (left as it is)'],
    steps: [fetch, ['/usr/bin/arch', '-arm64', '/bin/bash', SCRIPT], cleanup],
  },
  {
    name: 'macOS x86_64: /usr/local, no arch prefix',
    facts: macIntelFacts,
    desired: {},
    current: probe({ uid: '501', brew: '0', other: '0' }),
    changes: ['install Homebrew at /usr/local (NONINTERACTIVE=1 homebrew-install-ca0130bd.sh, sha256 8ff338091a5e…)'],
    steps: [fetch, ['/bin/bash', SCRIPT], cleanup],
  },
  { name: 'macOS x86_64: /usr/local/bin/brew there: converged', facts: macIntelFacts, desired: {}, current: probe({ uid: '501', brew: '1', other: '0' }), changes: [] },
  {
    name: 'probed as root (the host default is become): planned, then refused before anything runs',
    facts: macArmFacts,
    desired: {},
    current: probe({ uid: '0', brew: '0', other: '0' }),
    changes: ['install Homebrew at /opt/homebrew: refused as root'],
    applyError: /homebrew: Homebrew refuses to run as root .*declare it without become \(or with become: false when the host's default is become\)/,
  },
  { name: 'login user root: refused at validation', facts: { ...macArmFacts, uid: 0, user: 'root' }, desired: {}, error: /homebrew: host logs in as root: Homebrew refuses to run as root/ },
  { name: 'a prefix cannot be chosen', facts: macArmFacts, desired: { prefix: '/opt/brew' }, error: /prefix is decided by the hardware \(\/opt\/homebrew on Apple Silicon, \/usr\/local on Intel\)/ },
  { name: 'Debian 12: refused, macOS only', facts: debianFacts, desired: {}, error: /homebrew: host is linux: this resource installs Homebrew on macOS only/ },
  { name: 'sha256 without url: refused, not silently ignored (the hash of which file?)', facts: macArmFacts, desired: { sha256: 'a'.repeat(64) }, error: /url is required with sha256 \(the hash of which file\?\)/ },
  { name: 'Windows 11: the standard error (no PowerShell half)', facts: windowsFacts, desired: {}, error: /not supported on windows \(the homebrew resource has no PowerShell implementation\)/ },
]

describe('homebrew table', () => {
  for (const c of cases) it(c.name, () => runCase(homebrewType, c))
})

describe('homebrew', () => {
  it('refuses become: true where it is declared', () => {
    expect(() => homebrew({ become: true })).toThrow(/homebrew: become must not be true: Homebrew refuses to run as root/)
    expect(homebrew({ become: false }).become).toBe(false)
  })

  it('runs the installer with NONINTERACTIVE=1 and askpass, bounded by progress, and explains a sudo that fails', () => {
    const d = homebrewType.validate({}, macArmFacts)
    const c = { uid: 501, present: false, other: false }
    const step = homebrewType.apply(d, c, homebrewType.diff(d, c), macArmFacts)[1]!
    expect(step).toMatchObject({ env: { NONINTERACTIVE: '1' }, askpass: true, idleTimeout: 1_800_000 })
    expect(homebrewType.askpass?.(d)).toBe(true)
    const needSudo = '==> Checking for `sudo` access (which may request your password)...\nNeed sudo access on macOS (e.g. the user ana needs to be an Administrator)!\n'
    // No password to hand: what to configure.
    expect(step.explain!({ code: 1, stderr: needSudo })).toMatch(/NONINTERACTIVE=1 runs `sudo -n`.*becomePasswordEnv in the inventory.*through SUDO_ASKPASS/)
    // The password was handed and sudo still refused: the user's rights.
    expect(step.explain!({ code: 1, stderr: needSudo, askpass: true })).toMatch(/could not use sudo with the become password statecraft handed it \(through SUDO_ASKPASS\): the user must be an Administrator/)
    expect(step.explain!({ code: 1, stderr: 'curl: (6) Could not resolve host' })).toBeUndefined()
  })
})
