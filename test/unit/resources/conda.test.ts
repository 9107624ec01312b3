import { describe, expect, it } from 'vitest'
import { condaType, type CondaOptions } from '../../../lib/resources/conda/conda.ts'
import { INSTALLERS } from '../../../lib/resources/conda/installers.ts'
import { hex, none, probe, psHex, windowsFacts } from '../../helpers/facts.ts'
import { debianArmFacts, debianFacts, macArmFacts, macIntelFacts, macRosettaFacts } from '../../helpers/mac-facts.ts'
import { runCase, type Case } from '../../helpers/table.ts'
import { condaInfoJson } from '../../helpers/tool-outputs.ts'


const FORGE_ARM = 'https://github.com/conda-forge/miniforge/releases/download/25.3.1-0/Miniforge3-25.3.1-0-MacOSX-arm64.sh'
const ARM_SHA = 'd9eabd1868030589a1d74017b8723b01cf81b5fec1b9da8021b6fa44be7bbeae'
const MISSING = probe({ found: 'none', exists: '0', info: undefined })
const stamp = (home: string): unknown => expect.stringMatching(new RegExp(`^${home}/\\.statecraft/stamps/[0-9a-f]{40}$`))
const fetch = (home: string, file: string, sha: string): string[] =>
  ['sh', '-c', expect.any(String), 'statecraft-download', `${home}/.statecraft/installers/${file}`, sha, '', '', stamp(home), sha, expect.stringMatching(/^[0-9a-f]{40}$/), '0'] as string[]
const cleanup = (home: string, file: string): string[] => ['rm', '-f', '--', `${home}/.statecraft/installers/${file}`, stamp(home)] as string[]

const cases: Case<CondaOptions>[] = [
  {
    name: 'macOS arm64: missing: the arm64 Miniforge, checked, run under arch -arm64 with -b -p',
    facts: macArmFacts,
    desired: {},
    current: MISSING,
    changes: ["install Miniforge3-25.3.1-0-MacOSX-arm64.sh (sha256 from statecraft's pinned table) at /Users/ana/miniforge3"],
    steps: [
      fetch('/Users/ana', 'Miniforge3-25.3.1-0-MacOSX-arm64.sh', ARM_SHA),
      ['/usr/bin/arch', '-arm64', 'bash', '/Users/ana/.statecraft/installers/Miniforge3-25.3.1-0-MacOSX-arm64.sh', '-b', '-p', '/Users/ana/miniforge3'],
      cleanup('/Users/ana', 'Miniforge3-25.3.1-0-MacOSX-arm64.sh'),
    ],
  },
  {
    name: 'macOS arm64 under Rosetta: still the arm64 installer (the hardware decides, not uname -m)',
    facts: macRosettaFacts,
    desired: { prefix: '~/miniforge3' },
    current: MISSING,
    changes: ["install Miniforge3-25.3.1-0-MacOSX-arm64.sh (sha256 from statecraft's pinned table) at /Users/ana/miniforge3"],
    steps: [
      fetch('/Users/ana', 'Miniforge3-25.3.1-0-MacOSX-arm64.sh', ARM_SHA),
      ['/usr/bin/arch', '-arm64', 'bash', '/Users/ana/.statecraft/installers/Miniforge3-25.3.1-0-MacOSX-arm64.sh', '-b', '-p', '/Users/ana/miniforge3'],
      cleanup('/Users/ana', 'Miniforge3-25.3.1-0-MacOSX-arm64.sh'),
    ],
  },
  {
    name: 'macOS arm64: an arm64 conda at the prefix: converged',
    facts: macArmFacts,
    desired: { prefix: '~/miniforge3' },
    current: probe({ found: 'prefix', exists: '1', info: hex(condaInfoJson('/Users/ana/miniforge3', 'osx-arm64')) }),
    changes: [],
  },
  {
    name: 'macOS arm64: an x86_64 conda (osx-64) on PATH: refused with the reason',
    facts: macRosettaFacts,
    desired: {},
    current: probe({ found: 'path', exists: '0', info: hex(condaInfoJson('/usr/local/anaconda3', 'osx-64')) }),
    changes: ['use the conda at /usr/local/anaconda3 (on PATH): built for osx-64, not osx-arm64'],
    applyError: /the conda at \/usr\/local\/anaconda3 \(on PATH\) is an x86_64 build \(platform osx-64\) on an Apple Silicon Mac: it would build x86 environments that run under Rosetta, without MPS/,
  },
  {
    name: 'macOS x86_64 (Intel): the x86_64 installer, no arch prefix; an osx-64 conda is right there',
    facts: macIntelFacts,
    desired: {},
    current: MISSING,
    changes: ["install Miniforge3-25.3.1-0-MacOSX-x86_64.sh (sha256 from statecraft's pinned table) at /Users/ana/miniforge3"],
    steps: [
      fetch('/Users/ana', 'Miniforge3-25.3.1-0-MacOSX-x86_64.sh', '6c09a3550bb65bdb6d3db6f6c2b890b987b57189f3b71c67a5af49943d2522e8'),
      ['bash', '/Users/ana/.statecraft/installers/Miniforge3-25.3.1-0-MacOSX-x86_64.sh', '-b', '-p', '/Users/ana/miniforge3'],
      cleanup('/Users/ana', 'Miniforge3-25.3.1-0-MacOSX-x86_64.sh'),
    ],
  },
  { name: 'macOS x86_64: an osx-64 conda at the prefix: converged', facts: macIntelFacts, desired: {}, current: probe({ found: 'prefix', exists: '1', info: hex(condaInfoJson('/Users/ana/miniforge3', 'osx-64')) }), changes: [] },
  {
    name: 'Debian 12 x86_64: Anaconda with the ToS accepted: install, then accept the default channels',
    facts: debianFacts,
    desired: { flavor: 'anaconda', acceptTos: true },
    current: MISSING,
    changes: ["install Anaconda3-2023.09-0-Linux-x86_64.sh (sha256 from statecraft's pinned table) at /home/ana/anaconda3, accepting the Terms of Service of Anaconda's default channels"],
    steps: [
      fetch('/home/ana', 'Anaconda3-2023.09-0-Linux-x86_64.sh', '6c8a4abb36fbb711dc055b7049a23bbfd61d356de9468b41c5140f8a11abd851'),
      ['bash', '/home/ana/.statecraft/installers/Anaconda3-2023.09-0-Linux-x86_64.sh', '-b', '-p', '/home/ana/anaconda3'],
      ['sh', '-c', expect.stringContaining('"$c" tos accept --override-channels --channel "$ch"'), 'statecraft-tos', '/home/ana/anaconda3/bin/conda', 'https://repo.anaconda.com/pkgs/main', 'https://repo.anaconda.com/pkgs/r'] as string[],
      cleanup('/home/ana', 'Anaconda3-2023.09-0-Linux-x86_64.sh'),
    ],
  },
  { name: 'Debian 12: Miniconda without acceptTos: refused before anything runs', facts: debianFacts, desired: { flavor: 'miniconda' }, error: /acceptTos must be true for miniconda: Anaconda's default channels require accepting their Terms of Service/ },
  { name: 'Debian 12 aarch64: the aarch64 row', facts: debianArmFacts, desired: { prefix: '/opt/forge' }, current: MISSING, changes: ["install Miniforge3-25.3.0-3-Linux-aarch64.sh (sha256 from statecraft's pinned table) at /opt/forge"], steps: [fetch('/home/ana', 'Miniforge3-25.3.0-3-Linux-aarch64.sh', 'ac89f17b0eec4e98d38a53d1ae688e0f22c77d8ea5b5f008c2455e90ef095339'), ['bash', '/home/ana/.statecraft/installers/Miniforge3-25.3.0-3-Linux-aarch64.sh', '-b', '-p', '/opt/forge'], cleanup('/home/ana', 'Miniforge3-25.3.0-3-Linux-aarch64.sh')] },
  {
    name: 'Debian 12: the prefix exists without a conda: refused (the installer would not write there)',
    facts: debianFacts,
    desired: { prefix: '/opt/conda' },
    current: probe({ found: 'none', exists: '1', info: undefined }),
    changes: ['install conda at /opt/conda: the directory exists without a conda in it'],
    applyError: /conda \/opt\/conda: the directory exists but holds no conda \(no bin\/conda\)/,
  },
  { name: 'Debian 12: a version not in the table, without sha256: refused', facts: debianFacts, desired: { version: '23.1.0-0' }, error: /version "23.1.0-0" of miniforge for Linux-x86_64 is not in statecraft's pinned table/ },
  { name: 'url without sha256: refused (never run unchecked)', facts: debianFacts, desired: { url: 'https://mirror.example/Miniforge3-Linux-x86_64.sh' }, error: /sha256 is required with url/ },
  { name: 'the computed field cannot be set by a recipe', facts: debianFacts, desired: { resolved: {} as never }, error: /resolved is filled in by statecraft; leave it out/ },
  {
    name: 'Windows 11: the .exe through Start-Process with /S and /D= last, unquoted',
    facts: windowsFacts,
    desired: {},
    current: MISSING,
    changes: ["install Miniforge3-25.3.0-1-Windows-x86_64.exe (sha256 from statecraft's pinned table) at C:\\Users\\ana\\miniforge3"],
    steps: [
      (s: string) => {
        expect(s).toContain("$D = 'C:\\Users\\ana\\.statecraft\\installers\\Miniforge3-25.3.0-1-Windows-x86_64.exe'")
        expect(s).toContain('url = "https://github.com/conda-forge/miniforge/releases/download/25.3.0-1/Miniforge3-25.3.0-1-Windows-x86_64.exe"')
        expect(s).toContain("if ($h -ne 'b14ad50d85a218268a14cad7469cabb4e5364f75d34add3792449ec935ddf3ab')")
      },
      "$p = Start-Process -FilePath 'C:\\Users\\ana\\.statecraft\\installers\\Miniforge3-25.3.0-1-Windows-x86_64.exe' -ArgumentList '/InstallationType=JustMe /AddToPath=0 /RegisterPython=0 /S /D=C:\\Users\\ana\\miniforge3' -Wait -PassThru -NoNewWindow\nexit $p.ExitCode",
      /^Remove-Item -LiteralPath 'C:\\Users\\ana\\\.statecraft\\installers\\Miniforge3-25\.3\.0-1-Windows-x86_64\.exe', 'C:\\Users\\ana\\\.statecraft\\stamps\\[0-9a-f]{40}' -Force/,
    ],
  },
  { name: 'Windows 11: a win-64 conda at the prefix: converged', facts: windowsFacts, desired: {}, current: probe({ found: 'prefix', exists: '1', info: psHex(condaInfoJson('C:\\\\Users\\\\ana\\\\miniforge3', 'win-64')) }), changes: [] },
  {
    name: 'Windows 11: conda that prints no JSON: refused',
    facts: windowsFacts,
    desired: { prefix: 'C:\\tools\\conda' },
    current: probe({ found: 'prefix', exists: '1', info: psHex('') }),
    changes: ['use the conda at C:\\tools\\conda: it does not answer'],
    applyError: /does not answer 'conda info --json'; repair or remove it/,
  },
  {
    name: 'Windows 11: Miniconda with acceptTos: the ToS accepted for main, r and msys2 when the plugin is there',
    facts: windowsFacts,
    desired: { flavor: 'miniconda', acceptTos: true },
    current: MISSING,
    changes: ["install Miniconda3-py313_25.5.1-1-Windows-x86_64.exe (sha256 from statecraft's pinned table) at C:\\Users\\ana\\miniconda3, accepting the Terms of Service of Anaconda's default channels"],
    steps: [
      /Miniconda3-py313_25\.5\.1-1-Windows-x86_64\.exe/,
      /-ArgumentList '\/InstallationType=JustMe \/AddToPath=0 \/RegisterPython=0 \/S \/D=C:\\Users\\ana\\miniconda3'/,
      (s: string) => {
        expect(s).toContain("& 'C:\\Users\\ana\\miniconda3\\Scripts\\conda.exe' tos --help *> $null")
        for (const ch of ['main', 'r', 'msys2']) expect(s).toContain(`tos accept --override-channels --channel 'https://repo.anaconda.com/pkgs/${ch}'`)
      },
      /^Remove-Item/,
    ],
  },
]

describe('conda table', () => {
  for (const c of cases) it(c.name, () => runCase(condaType, c))
})

describe('conda', () => {
  it('the pinned table: one row per flavor and platform, real file names and URLs', () => {
    const keys = INSTALLERS.map((r) => `${r.flavor}/${r.platform}`)
    expect(new Set(keys).size).toBe(15)
    expect(INSTALLERS.every((r) => /^[0-9a-f]{64}$/.test(r.sha256) && r.source !== '')).toBe(true)
    const d = condaType.validate({}, macArmFacts)
    expect(d.resolved?.url).toBe(FORGE_ARM)
  })

  it('an explicit prefix does not take a conda on PATH for the desired one; without one, the probe asks PATH', () => {
    expect(condaType.probe(condaType.validate({ prefix: '/opt/c' }, debianFacts), debianFacts)).not.toContain('command -v conda')
    expect(condaType.probe(condaType.validate({}, debianFacts), debianFacts)).toContain('command -v conda')
  })

  it('on an unknown architecture: asks for url and sha256', () => {
    expect(() => condaType.validate({}, { ...debianFacts, arch: 'ppc64le' })).toThrow(/url is required on linux\/ppc64le/)
    const d = condaType.validate({ url: 'https://mirror.example/Miniforge3-Linux-ppc64le.sh', sha256: 'A'.repeat(64) }, { ...debianFacts, arch: 'ppc64le' })
    expect(d.resolved).toMatchObject({ file: 'Miniforge3-Linux-ppc64le.sh', sha256: 'a'.repeat(64) })
  })
})
