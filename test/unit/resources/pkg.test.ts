import { execFileSync } from 'node:child_process'
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { batchScript } from '../../../lib/shell/posix/scripts.ts'
import { splitBatch } from '../../../lib/shell/protocol.ts'
import { tempDir } from '../../helpers/tmp.ts'
import type { Facts } from '../../../lib/core/types.ts'
import { pkg, pkgType } from '../../../lib/resources/pkg/pkg.ts'
import { homebrew } from '../../../lib/resources/homebrew.ts'
import { graphNode, prepare } from '../../../lib/engine/node.ts'
import { buildGraph } from '../../../lib/engine/graph.ts'
import type { PkgOptions } from '../../../lib/resources/pkg/types.ts'
import { hex, linuxFacts, macFacts, none, probe, psHex, windowsFacts } from '../../helpers/facts.ts'
import { runCase, type Case } from '../../helpers/table.ts'

// Hosts. The manager is what the probe found (manager=…); the OS is only a fact.
const debian = linuxFacts
const fedora: Facts = { ...linuxFacts, hostname: 'fedora-box' }
const arch: Facts = { ...linuxFacts, hostname: 'arch-box' }
const macArm = macFacts
/** An M1 whose shell runs under Rosetta: uname -m says x86_64, hw.optional.arm64 says 1. */
const macRosetta: Facts = { ...macFacts, arch: 'x64', appleSilicon: true }
const macIntel: Facts = { ...macFacts, arch: 'x64', appleSilicon: false, hostname: 'old-mbp' }

// Tool output exactly as printed (the probe sends it hex encoded).
const dpkg = (...rows: string[]): string => hex(rows.map((r) => `${r}\n`).join(''))
const madison = (...rows: [string, string, string][]): string => hex(rows.map(([n, v, s]) => `${n.padStart(10)} | ${v} | ${s}\n`).join(''))
const DEB = 'http://deb.debian.org/debian bookworm/main amd64 Packages'
const SEC = 'http://deb.debian.org/debian-security bookworm-security/main amd64 Packages'
const aptConf = ['-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold']

const dnfList = (...rows: [string, string, string][]): string => hex(`Available Packages\n${rows.map(([n, v, r]) => `${`${n}.x86_64`.padEnd(31)}${v.padEnd(34)}${r}\n`).join('')}`)
const pacmanSi = (name: string, version: string): string =>
  `Repository      : extra\nName            : ${name}\nVersion         : ${version}\nDescription     : ${name} package\nArchitecture    : x86_64\nURL             : https://example.org\n\n`
const brewInfo = (...f: [string, string][]): string =>
  hex(JSON.stringify({ formulae: f.map(([name, stable]) => ({ name, full_name: name, tap: 'homebrew/core', versions: { stable, head: 'HEAD', bottle: true } })), casks: [] }))
const brewStep = (brew: string, ...args: string[]): string[] => [
  'sh',
  '-c',
  'u=$1; shift; if [ "$(id -u)" -eq 0 ]; then exec sudo -n -u "$u" -H env HOMEBREW_NO_AUTO_UPDATE=1 HOMEBREW_NO_ENV_HINTS=1 "$@"; fi; exec env HOMEBREW_NO_AUTO_UPDATE=1 HOMEBREW_NO_ENV_HINTS=1 "$@"',
  'sc-brew',
  'ana',
  brew,
  ...args,
]

// Windows: winget draws a spinner (CR-separated) before its table; choco prints a header and a count.
const SPIN = '\r   - \r   \\ \r   | \r   / \r'
const wingetList = (rows: string): string =>
  psHex(`${SPIN}Name Id      Version  Available Source\r\n--------------------------------------\r\n${rows}`)
const WINGET_NONE = psHex(`${SPIN}No installed package found matching input criteria.\r\n`)
const wingetShow = (...versions: string[]): string => psHex(`${SPIN}Found Git [Git.Git]\r\nVersion\r\n-------\r\n${versions.map((v) => `${v}\r\n`).join('')}`)
const chocoList = (...rows: string[]): string => psHex(`Chocolatey v2.2.2\r\n${rows.map((r) => `${r}\r\n`).join('')}${rows.length} packages installed.\r\n`)
const chocoSearch = (...rows: string[]): string => psHex(rows.map((r) => `${r}\r\n`).join(''))
/** winget where the probe found it: the PATH alias, or (in an SSH session without it) the App Installer under WindowsApps. */
const WG_PATH = 'C:\\Users\\ana\\AppData\\Local\\Microsoft\\WindowsApps\\winget.exe'
const WG_APPS = 'C:\\Program Files\\WindowsApps\\Microsoft.DesktopAppInstaller_1.22.10582.0_x64__8wekyb3d8bbwe\\winget.exe'
/**
 * A winget step's script: winget by that path with these words, run as is first; then, after a
 * failure for want of a logon session, the same words in the scheduled task's script (a
 * single-quoted literal there: quotes doubled). The fallback itself is tested in winget-task.test.ts.
 */
const wingetAt = (path: string, ...args: string[]) => (script: string): void => {
  const call = `& '${path}' ${args.map((a) => `'${a}'`).join(' ')} 2>&1 | ForEach-Object { "$_" }`
  expect(script.split('\n')[1]).toBe(`$sc_out = ${call.replace('{ "$_" }', '{ $sc_l = "$_"; [Console]::Out.WriteLine($sc_l); $sc_l }')} | Out-String`)
  expect(script).toContain(`${call.replaceAll("'", "''")} | Out-File`)
  expect(script).toContain('Register-ScheduledTask')
}
const winget = (...args: string[]) => wingetAt(WG_PATH, ...args)
const choco = (...args: string[]): string => `& 'choco' ${args.map((a) => `'${a}'`).join(' ')}\nexit $LASTEXITCODE`
const WINGET_ACCEPT = ['--silent', '--accept-package-agreements', '--accept-source-agreements', '--disable-interactivity']

const cases: Case<PkgOptions>[] = [
  // ---- Debian 12: apt over dpkg ----
  {
    name: 'Debian: two missing packages: one apt-get install, pinned to the newest offered',
    facts: debian,
    desired: { names: ['git', 'curl'] },
    current: probe({ manager: 'apt', installed: dpkg('curl\tdeinstall ok config-files\t7.88.1-10+deb12u5'), available: madison(['git', '1:2.39.5-0+deb12u1', DEB], ['git', '1:2.39.2-1.1', SEC], ['curl', '7.88.1-10+deb12u5', DEB]) }),
    changes: ['install git 2.39.5 (apt)', 'install curl 7.88.1 (apt)'],
    steps: [['apt-get', '-y', ...aptConf, 'install', 'git=1:2.39.5-0+deb12u1', 'curl=7.88.1-10+deb12u5']],
  },
  { name: 'Debian: installed, no range: converged', facts: debian, desired: { name: 'git' }, current: probe({ manager: 'apt', installed: dpkg('git\tinstall ok installed\t1:2.39.5-0+deb12u1'), ...none('available') }), changes: [] },
  {
    name: 'Debian: an epoch is not the major version: 1:2.39.5 satisfies >=2.35',
    facts: debian,
    desired: { name: 'git', version: '>=2.35' },
    current: probe({ manager: 'apt', installed: dpkg('git\tinstall ok installed\t1:2.39.5-0+deb12u1'), available: madison(['git', '1:2.39.5-0+deb12u1', DEB]) }),
    changes: [],
  },
  {
    name: 'Debian: an old version below the range is upgraded to the newest that satisfies it',
    facts: debian,
    desired: { name: 'git', version: '>=2.35 <2.39.5' },
    current: probe({ manager: 'apt', installed: dpkg('git\tinstall ok installed\t1:2.30.2-1+deb11u2'), available: madison(['git', '1:2.39.5-0+deb12u1', DEB], ['git', '1:2.39.2-1.1', SEC], ['git', '1:2.30.2-1+deb11u2', DEB]) }),
    changes: ['upgrade git 2.30.2 → 2.39.2 to satisfy >=2.35 <2.39.5 (apt)'],
    steps: [['apt-get', '-y', ...aptConf, 'install', 'git=1:2.39.2-1.1']],
  },
  {
    name: 'Debian: a range nothing offered satisfies is a conflict naming the versions',
    facts: debian,
    desired: { name: 'git', version: '>=3' },
    current: probe({ manager: 'apt', installed: dpkg('git\tinstall ok installed\t1:2.39.5-0+deb12u1'), available: madison(['git', '1:2.39.5-0+deb12u1', DEB], ['git', '1:2.39.2-1.1', SEC]) }),
    changes: ['upgrade git 2.39.5 to satisfy >=3 (apt): no version satisfies it (available: 2.39.5, 2.39.2)'],
    applyError: /pkg git: no version apt offers satisfies >=3 \(available: 2\.39\.5, 2\.39\.2\); change the range/,
  },
  {
    name: 'Debian: above the range: downgrade allowed explicitly',
    facts: debian,
    desired: { name: 'statecraft-dummy', version: '<2' },
    current: probe({ manager: 'apt', installed: dpkg('statecraft-dummy\tinstall ok installed\t2.0'), available: madison(['statecraft-dummy', '2.0', 'file:/tmp/repo ./ Packages'], ['statecraft-dummy', '1.0', 'file:/tmp/repo ./ Packages']) }),
    changes: ['downgrade statecraft-dummy 2.0 → 1.0 to satisfy <2 (apt)'],
    steps: [['apt-get', '-y', ...aptConf, '--allow-downgrades', 'install', 'statecraft-dummy=1.0']],
  },
  {
    name: 'Debian: absent: only what is installed is removed, config-files state counts as removed',
    facts: debian,
    desired: { names: ['telnet', 'ftp', 'rsh-client'], state: 'absent', aptOptions: { 'DPkg::Lock::Timeout': '60' } },
    current: probe({ manager: 'apt', installed: dpkg('telnet\tinstall ok installed\t0.17+2.4-2+deb12u1', 'ftp\tdeinstall ok config-files\t20230507-2'), ...none('available') }),
    changes: ['remove telnet (apt)'],
    steps: [['apt-get', '-o', 'DPkg::Lock::Timeout=60', '-y', 'remove', 'telnet']],
  },
  { name: 'Debian: absent and not installed: converged', facts: debian, desired: { name: 'telnet', state: 'absent' }, current: probe({ manager: 'apt', installed: '', ...none('available') }), changes: [] },
  {
    name: 'Debian: a name no source offers is a conflict',
    facts: debian,
    desired: { name: 'gti' },
    current: probe({ manager: 'apt', installed: '', available: '' }),
    changes: ['install gti (apt): not offered'],
    applyError: /apt offers no package named gti; check the name and that apt-get update has run/,
  },
  // ---- Fedora: dnf over rpm ----
  {
    name: 'Fedora: one installed, one missing: dnf install pinned',
    facts: fedora,
    desired: { names: ['git', 'curl'] },
    current: probe({ manager: 'dnf', installed: hex('git\t2.43.0-1.fc39\npackage curl is not installed\n'), available: dnfList(['curl', '8.2.1-4.fc39', 'updates'], ['curl', '8.2.1-3.fc39', 'fedora']) }),
    changes: ['install curl 8.2.1 (dnf)'],
    steps: [['dnf', '-y', 'install', 'curl-8.2.1-4.fc39']],
  },
  { name: 'Fedora: installed and satisfied: converged', facts: fedora, desired: { name: 'git', version: '^2.40' }, current: probe({ manager: 'dnf', installed: hex('git\t2.43.0-1.fc39\n'), available: dnfList(['git', '2.43.0-1.fc39', 'updates']) }), changes: [] },
  {
    name: 'Fedora: upgrade to satisfy a range',
    facts: fedora,
    desired: { name: 'git', version: '>=2.43' },
    current: probe({ manager: 'dnf', installed: hex('git\t2.42.0-2.fc39\n'), available: dnfList(['git', '2.43.0-1.fc39', 'updates'], ['git', '2.42.0-2.fc39', 'fedora']) }),
    changes: ['upgrade git 2.42.0 → 2.43.0 to satisfy >=2.43 (dnf)'],
    steps: [['dnf', '-y', 'install', 'git-2.43.0-1.fc39']],
  },
  { name: 'Fedora: absent', facts: fedora, desired: { name: 'git', state: 'absent' }, current: probe({ manager: 'dnf', installed: hex('git\t2.43.0-1.fc39\n'), ...none('available') }), changes: ['remove git (dnf)'], steps: [['dnf', '-y', 'remove', 'git']] },
  // ---- Arch: pacman ----
  {
    name: 'Arch: missing packages: one pacman -S',
    facts: arch,
    desired: { names: ['git', 'curl'] },
    current: probe({ manager: 'pacman', installed: hex(''), available: hex(pacmanSi('git', '2.43.0-1') + pacmanSi('curl', '8.5.0-1')) }),
    changes: ['install git 2.43.0 (pacman)', 'install curl 8.5.0 (pacman)'],
    steps: [['pacman', '-S', '--noconfirm', '--needed', 'git', 'curl']],
  },
  { name: 'Arch: installed: converged', facts: arch, desired: { name: 'git' }, current: probe({ manager: 'pacman', installed: hex('git 2.43.0-1\n'), ...none('available') }), changes: [] },
  {
    name: 'Arch: the one version the sync database has does not satisfy: conflict',
    facts: arch,
    desired: { name: 'git', version: '<2.40' },
    current: probe({ manager: 'pacman', installed: hex('git 2.43.0-1\n'), available: hex(pacmanSi('git', '2.43.0-1')) }),
    changes: ['upgrade git 2.43.0 to satisfy <2.40 (pacman): no version satisfies it (available: 2.43.0)'],
    applyError: /no version pacman offers satisfies <2\.40 \(available: 2\.43\.0\)/,
  },
  { name: 'Arch: absent', facts: arch, desired: { name: 'git', state: 'absent' }, current: probe({ manager: 'pacman', installed: hex('git 2.43.0-1\n'), ...none('available') }), changes: ['remove git (pacman)'], steps: [['pacman', '-R', '--noconfirm', 'git']] },
  // ---- macOS: Homebrew as the login user, by absolute path ----
  {
    name: 'macOS arm64: brew install under /opt/homebrew, as the login user',
    facts: macArm,
    desired: { name: 'git', winget: 'Git.Git' },
    current: probe({ manager: 'brew', installed: hex(''), available: brewInfo(['git', '2.43.0']) }),
    changes: ['install git 2.43.0 (brew)'],
    steps: [brewStep('/opt/homebrew/bin/brew', 'install', '--formula', 'git')],
  },
  {
    name: 'macOS arm64 under Rosetta: still /opt/homebrew; brew names where they differ',
    facts: macRosetta,
    desired: { name: 'python3', brew: 'python@3.12', version: '>=3.12' },
    current: probe({ manager: 'brew', installed: hex('python@3.12 3.12.0\n'), available: brewInfo(['python@3.12', '3.12.1']) }),
    changes: [],
  },
  {
    name: 'macOS arm64 under Rosetta: upgrade to the stable version to satisfy a range',
    facts: macRosetta,
    desired: { name: 'git', version: '>=2.43' },
    current: probe({ manager: 'brew', installed: hex('git 2.41.0 2.42.0\n'), available: brewInfo(['git', '2.43.0']) }),
    changes: ['upgrade git 2.42.0 → 2.43.0 to satisfy >=2.43 (brew)'],
    steps: [brewStep('/opt/homebrew/bin/brew', 'upgrade', '--formula', 'git')],
  },
  {
    name: 'macOS x86_64: /usr/local/bin/brew; removal',
    facts: macIntel,
    desired: { names: ['wget', 'git'], state: 'absent' },
    current: probe({ manager: 'brew', installed: hex('wget 1.21.4\n'), ...none('available') }),
    changes: ['remove wget (brew)'],
    steps: [brewStep('/usr/local/bin/brew', 'uninstall', '--formula', 'wget')],
  },
  { name: 'macOS: no Homebrew: a conflict saying so', facts: macArm, desired: { name: 'git' }, current: probe({ manager: 'none' }), changes: ['install git: no package manager found'], applyError: /a supported package manager was not found on the host/ },
  // ---- Windows 11: winget (exact ids) and Chocolatey ----
  {
    name: 'Windows: winget install by exact id, agreements accepted because the recipe says so',
    facts: windowsFacts,
    desired: { name: 'git', winget: 'Git.Git', acceptAgreements: true },
    current: probe({ manager: 'winget', wingetpath: psHex(WG_PATH), installed_0: WINGET_NONE, available_0: wingetShow('2.43.0', '2.42.0.2') }),
    changes: ['install Git.Git 2.43.0 (winget)'],
    steps: [winget('install', '--exact', '--id', 'Git.Git', '--version', '2.43.0', ...WINGET_ACCEPT)],
  },
  {
    name: 'Windows: winget without acceptAgreements: a conflict that says which field to set',
    facts: windowsFacts,
    desired: { name: 'git', winget: 'Git.Git' },
    current: probe({ manager: 'winget', wingetpath: psHex(WG_PATH), installed_0: WINGET_NONE, available_0: wingetShow('2.43.0') }),
    changes: ['install Git.Git (winget): needs acceptAgreements: true'],
    applyError: /set acceptAgreements: true \(it adds --accept-package-agreements --accept-source-agreements\)/,
  },
  { name: 'Windows: winget installed: converged', facts: windowsFacts, desired: { name: 'git', winget: 'Git.Git', acceptAgreements: true }, current: probe({ manager: 'winget', wingetpath: psHex(WG_PATH), installed_0: wingetList('Git  Git.Git 2.43.0            winget\r\n'), ...none('available_0') }), changes: [] },
  {
    name: 'Windows: winget not on the SSH session\'s PATH: found under WindowsApps, and run by that full path',
    facts: windowsFacts,
    desired: { name: 'git', winget: 'Git.Git', acceptAgreements: true },
    current: probe({ manager: 'winget', wingetpath: psHex(WG_APPS), installed_0: WINGET_NONE, available_0: wingetShow('2.43.0') }),
    changes: ['install Git.Git 2.43.0 (winget)'],
    steps: [wingetAt(WG_APPS, 'install', '--exact', '--id', 'Git.Git', '--version', '2.43.0', ...WINGET_ACCEPT)],
  },
  {
    name: 'Windows: winget upgrade to satisfy a range (a four-part version is read as semver)',
    facts: windowsFacts,
    desired: { name: 'git', winget: 'Git.Git', version: '>=2.43', acceptAgreements: true },
    current: probe({ manager: 'winget', wingetpath: psHex(WG_PATH), installed_0: wingetList('Git  Git.Git 2.42.0.2 2.43.0    winget\r\n'), available_0: wingetShow('2.43.0', '2.42.0.2') }),
    changes: ['upgrade Git.Git 2.42.0.2 → 2.43.0 to satisfy >=2.43 (winget)'],
    steps: [winget('upgrade', '--exact', '--id', 'Git.Git', '--version', '2.43.0', ...WINGET_ACCEPT)],
  },
  {
    name: 'Windows: winget: an unsatisfiable range names the versions offered',
    facts: windowsFacts,
    desired: { name: 'git', winget: 'Git.Git', version: '>=3', acceptAgreements: true },
    current: probe({ manager: 'winget', wingetpath: psHex(WG_PATH), installed_0: WINGET_NONE, available_0: wingetShow('2.43.0', '2.42.0.2') }),
    changes: ['install Git.Git >=3 (winget): no version satisfies it (available: 2.43.0, 2.42.0.2)'],
    applyError: /no version winget offers satisfies >=3 \(available: 2\.43\.0, 2\.42\.0\.2\)/,
  },
  {
    name: 'Windows: winget removal',
    facts: windowsFacts,
    desired: { name: 'git', winget: 'Git.Git', state: 'absent' },
    current: probe({ manager: 'winget', wingetpath: psHex(WG_PATH), installed_0: wingetList('Git  Git.Git 2.43.0            winget\r\n'), ...none('available_0') }),
    changes: ['remove Git.Git (winget)'],
    steps: [winget('uninstall', '--exact', '--id', 'Git.Git', '--silent', '--disable-interactivity')],
  },
  {
    name: 'Windows: Chocolatey (no winget id): install the newest version offered',
    facts: windowsFacts,
    desired: { names: ['git', '7zip'] },
    current: probe({ manager: 'choco', installed: chocoList('7zip 23.1.0'), available: chocoSearch('git|2.43.0', 'git|2.42.0') }),
    changes: ['install git 2.43.0 (choco)'],
    steps: [choco('install', 'git', '--version', '2.43.0', '-y', '--no-progress')],
  },
  { name: 'Windows: Chocolatey installed: converged', facts: windowsFacts, desired: { name: 'git', choco: 'git.install' }, current: probe({ manager: 'choco', installed: chocoList('git.install 2.43.0'), ...none('available') }), changes: [] },
  {
    name: 'Windows: Chocolatey upgrade and an unsatisfiable range',
    facts: windowsFacts,
    desired: { names: ['git', 'curl'], version: '>=8' },
    current: probe({ manager: 'choco', installed: chocoList('curl 7.88.1', 'git 2.43.0'), available: chocoSearch('curl|8.5.0', 'curl|7.88.1', 'git|2.43.0') }),
    changes: ['upgrade git 2.43.0 to satisfy >=8 (choco): no version satisfies it (available: 2.43.0)', 'upgrade curl 7.88.1 → 8.5.0 to satisfy >=8 (choco)'],
    applyError: /no version choco offers satisfies >=8 \(available: 2\.43\.0\)/,
  },
  { name: 'Windows: Chocolatey absent', facts: windowsFacts, desired: { names: ['git', 'curl'], state: 'absent' }, current: probe({ manager: 'choco', installed: chocoList('curl 8.5.0', 'git 2.43.0'), ...none('available') }), changes: ['remove git (choco)', 'remove curl (choco)'], steps: [choco('uninstall', 'git', 'curl', '-y', '--no-progress')] },
  // ---- validation ----
  { name: 'neither name nor names', facts: debian, desired: {}, error: /name\/names are both missing/ },
  { name: 'an option-like name is refused', facts: debian, desired: { name: '--force-yes' }, error: /name must be a package name or id/ },
  { name: 'a bad range is refused', facts: debian, desired: { name: 'git', version: 'newest' }, error: /version must be a semver range/ },
  { name: 'apt on Windows is refused', facts: windowsFacts, desired: { name: 'git', manager: 'apt' }, error: /manager apt does not run on windows hosts; there use winget or choco/ },
  { name: 'winget without its id is refused', facts: windowsFacts, desired: { name: 'git', manager: 'winget' }, error: /winget is missing: winget installs only by exact id/ },
  { name: 'winget chosen without acceptAgreements is refused before any host is touched', facts: windowsFacts, desired: { name: 'git', winget: 'Git.Git', manager: 'winget' }, error: /acceptAgreements winget installs need the recipe to accept/ },
  { name: 'Homebrew as root is refused', facts: { ...macFacts, user: 'root', uid: 0 }, desired: { name: 'git' }, error: /Homebrew refuses to run as root/ },
]

describe('pkg', () => {
  for (const c of cases) it(c.name, () => runCase(pkgType, c))

  it('a winget step that fails outside an interactive logon explains the cause and the ways out', () => {
    const d = pkgType.validate({ name: 'git', winget: 'Git.Git', acceptAgreements: true }, windowsFacts)
    const c = { manager: 'winget' as const, wingetPath: WG_APPS, installed: {}, available: { 'Git.Git': ['2.43.0'] } }
    const [step] = pkgType.apply(d, c, pkgType.diff(d, c), windowsFacts)
    expect(step?.argv[0]).toBe(WG_APPS)
    const explain = step?.explain ?? ((): undefined => undefined)
    const ways = /winget failed .*outside an interactive logon[\s\S]*vendor's silent installer instead \(statecraft's conda\(\) and rustup\(\)[\s\S]*from the user's logged-in session/
    expect(explain({ code: -1978335217, stderr: '' })).toMatch(/exit -1978335217 = 0x8A15000F/)
    expect(explain({ code: -1978335217, stderr: '' })).toMatch(ways)
    expect(explain({ code: 1, stderr: 'An unexpected error occurred while executing the command:\r\n0x80070520 : A specified logon session does not exist. It may already have been terminated.\r\n' })).toMatch(ways)
    expect(explain({ code: 1, stderr: 'Program \'winget.exe\' failed to run: Access is denied' })).toMatch(ways)
    expect(explain({ code: 1, stderr: 'Failed when opening source(s); try the \'source reset\' command if the problem persists.\r\n0x80070005 : Access is denied.\r\n' })).toMatch(ways)
    // Any other failure keeps the default message (the command and its stderr).
    expect(explain({ code: 1, stderr: 'No package found matching input criteria.' })).toBeUndefined()
    const r = pkgType.validate({ name: 'git', winget: 'Git.Git', state: 'absent' }, windowsFacts)
    const rc = { manager: 'winget' as const, installed: { 'Git.Git': '2.43.0' } }
    expect(pkgType.apply(r, rc, pkgType.diff(r, rc), windowsFacts)[0]?.explain?.({ code: 0x8a15000f, stderr: '' })).toMatch(ways)
  })

  it('installs are bounded by output, not by a total: idleTimeout (default 1800 s), noninteractive apt', () => {
    const d = pkgType.validate({ name: 'git' }, debian)
    const c = { manager: 'apt' as const, installed: {}, available: { git: ['1:2.39.5-0+deb12u1'] } }
    const [step] = pkgType.apply(d, c, pkgType.diff(d, c), debian)
    expect(step).toMatchObject({ env: { DEBIAN_FRONTEND: 'noninteractive' }, idleTimeout: 1_800_000 })
    expect(step?.timeout).toBeUndefined()
    const e = pkgType.validate({ name: 'git', idleTimeout: 60 }, debian)
    expect(pkgType.apply(e, c, pkgType.diff(e, c), debian)[0]?.idleTimeout).toBe(60_000)
  })

  it('the probe looks for brew by absolute path: /opt/homebrew on Apple Silicon (Rosetta too), /usr/local on Intel', () => {
    const p = (f: Facts): string => pkgType.probe(pkgType.validate({ name: 'git' }, f), f)
    expect(p(macArm)).toContain('[ -x /opt/homebrew/bin/brew ]')
    expect(p(macRosetta)).toContain('[ -x /opt/homebrew/bin/brew ]')
    expect(p(macIntel)).toContain('[ -x /usr/local/bin/brew ]')
    expect(p(macIntel)).not.toContain('/opt/homebrew')
    expect(p(debian)).not.toContain('brew')
  })

  it('the Windows probe: winget only with an id, one exact query per id; choco otherwise', () => {
    const p = (d: PkgOptions): string => pkgType.probe(pkgType.validate(d, windowsFacts), windowsFacts)
    expect(p({ name: 'git', winget: 'Git.Git', acceptAgreements: true })).toMatch(/Get-Command winget[\s\S]*\$sc_wg list --exact --id 'Git\.Git'[\s\S]*Get-Command choco[\s\S]*choco list/)
    // Not on PATH (an SSH session without the user's logon): the newest App Installer under WindowsApps, x64 or arm64.
    const w = p({ name: 'git', winget: 'Git.Git', manager: 'winget', acceptAgreements: true })
    expect(w).toContain('"$env:ProgramFiles\\WindowsApps\\Microsoft.DesktopAppInstaller_*_x64__8wekyb3d8bbwe\\winget.exe", "$env:ProgramFiles\\WindowsApps\\Microsoft.DesktopAppInstaller_*_arm64__8wekyb3d8bbwe\\winget.exe"')
    expect(w).toMatch(/if \(\$sc_wg\) \{\n'manager=winget'\nSc-KvHex 'wingetpath' \$sc_wg\n\$o = \(& \$sc_wg list --exact --id 'Git\.Git'/)
    expect(w).toContain("(& $sc_wg show --exact --id 'Git.Git'")
    expect(p({ name: 'git' })).not.toContain('winget')
  })
})

describe('the apt probe in a real sh, against stub tools that log their calls', () => {
  /** Stubs for dpkg-query, apt-get and apt-cache on PATH: each logs its argv and prints the given output. */
  function host(dpkgOut: string, madisonOut: string): { run: (d: PkgOptions) => { calls: string[]; data: Map<string, string> } } {
    const bin = tempDir()
    const log = `${bin}/calls.log`
    const stub = (name: string, out: string): void => {
      writeFileSync(`${bin}/${name}`, `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> '${log}'\nprintf '%s' '${out}'\n`)
      chmodSync(`${bin}/${name}`, 0o755)
    }
    stub('dpkg-query', dpkgOut)
    stub('apt-get', '')
    stub('apt-cache', madisonOut)
    return {
      run(d) {
        writeFileSync(log, '')
        const v = pkgType.validate(d, debian)
        const out = execFileSync('sh', ['-s'], { input: batchScript([pkgType.probe(v, debian)], 'n0nce'), env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' })
        const [data] = splitBatch(out, 1, 'n0nce', 'stub')
        return { calls: readFileSync(log, 'utf8').trim().split('\n').filter(Boolean), data: data as Map<string, string> }
      },
    }
  }
  /** The format as dpkg-query receives it: backslash escapes that it expands itself. */
  const FMT = '${Package}\\t${Status}\\t${Version}\\n'
  const DPKG = 'git\tinstall ok installed\t1:2.39.5-0+deb12u1\ncurl\tinstall ok installed\t7.88.1-10+deb12u5\n'
  const MADISON = '       git | 1:2.39.5-0+deb12u1 | http://deb.debian.org/debian bookworm/main amd64 Packages\n'

  it('converged without a range: one dpkg-query for all names, nothing else', () => {
    const { calls, data } = host(DPKG, MADISON).run({ names: ['git', 'curl'] })
    expect(calls).toEqual([`dpkg-query -W -f ${FMT} git curl`])
    expect(data.has('available')).toBe(false)
    expect(pkgType.diff(pkgType.validate({ names: ['git', 'curl'] }, debian), pkgType.parse(data, pkgType.validate({ names: ['git', 'curl'] }, debian)))).toEqual([])
  })

  it('a missing name: the same query, then one apt-cache madison for all names (with aptOptions)', () => {
    const { calls, data } = host(DPKG, MADISON).run({ names: ['git', 'curl', 'jq'], aptOptions: { 'Dir::Etc::sourceparts': '-' } })
    expect(calls).toEqual([`dpkg-query -W -f ${FMT} git curl jq`, 'apt-cache -o Dir::Etc::sourceparts=- madison git curl jq'])
    expect(data.get('manager')).toBe('apt')
    expect(Buffer.from(data.get('available') ?? '', 'hex').toString()).toBe(MADISON)
  })

  it('a name that is a suffix of an installed one (libgit vs git) still counts as missing', () => {
    const { calls } = host('libgit\tinstall ok installed\t1.0\n', '').run({ name: 'git' })
    expect(calls).toHaveLength(2)
  })
})

describe('pkg on macOS orders after homebrew()', () => {
  it.each([
    ['Apple Silicon', macFacts, '/opt/homebrew'],
    ['Intel', { ...macFacts, arch: 'x64', appleSilicon: false }, '/usr/local'],
  ] as [string, Facts, string][])('%s: it uses the prefix homebrew() manages, so the graph puts it after', (_what, facts, prefix) => {
    const nodes = prepare([homebrew(), pkg({ name: "wget" })], facts)
    expect(nodes[1]!.desired.brewPrefix).toBe(prefix)
    const g = buildGraph(nodes.map(graphNode))
    expect(g.preds.get('pkg:wget')?.map((e) => e.from)).toEqual(['homebrew'])
    expect(g.order).toEqual(['homebrew', 'pkg:wget'])
  })

  it('on Linux nothing is added, and brewPrefix cannot be set by a recipe', () => {
    expect(pkgType.paths(pkgType.validate({ name: 'git' }, linuxFacts))).toEqual([])
    expect(() => pkgType.validate({ name: 'wget', brewPrefix: '/x' } as PkgOptions, macFacts)).toThrow(/brewPrefix is filled in by statecraft/)
  })
})
