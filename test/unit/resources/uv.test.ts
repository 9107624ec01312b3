import { describe, expect, it } from 'vitest'
import { UV_INSTALLERS, uvType, type UvOptions } from '../../../lib/resources/uv.ts'
import { hex, none, probe, psHex, windowsFacts } from '../../helpers/facts.ts'
import { debianArmFacts, debianFacts, macArmFacts } from '../../helpers/mac-facts.ts'
import { runCase, type Case } from '../../helpers/table.ts'

const NEWEST = UV_INSTALLERS[0]!
const NONE = probe({ present: '0', ...none('version') })
/** What `uv --version` prints on stdout (uv 0.12). */
const printed = (v: string): string => `uv ${v} (a1b2c3d4e 2026-05-11)\n`
const fetch = (home: string, file: string, sha: string): string[] =>
  ['sh', '-c', expect.any(String), 'statecraft-download', `${home}/.statecraft/installers/${file}`, sha, '', '', expect.stringMatching(/\/\.statecraft\/stamps\/[0-9a-f]{40}$/), sha, expect.stringMatching(/^[0-9a-f]{40}$/), '0'] as string[]
const cleanup = (home: string, file: string): string[] => ['rm', '-f', '--', `${home}/.statecraft/installers/${file}`, expect.stringMatching(/stamps\/[0-9a-f]{40}$/)] as string[]

const cases: Case<UvOptions>[] = [
  {
    name: 'Debian 12 (no uv package): the newest pinned installer, checked, run with UV_INSTALL_DIR into ~/.local/bin',
    facts: debianFacts,
    desired: {},
    current: NONE,
    changes: [`install uv ${NEWEST.version} with uv-installer-${NEWEST.version}.sh (sha256 ${NEWEST.sha256.slice(0, 12)}…) into /home/ana/.local/bin`],
    steps: [fetch('/home/ana', NEWEST.file, NEWEST.sha256), ['sh', `/home/ana/.statecraft/installers/${NEWEST.file}`], cleanup('/home/ana', NEWEST.file)],
  },
  { name: 'Debian 12: that version there: converged', facts: debianFacts, desired: {}, current: probe({ present: '1', version: hex(printed(NEWEST.version)) }), changes: [] },
  {
    name: 'Debian 12 arm64: an older pinned release asked for, a newer one there: installed over it, into the given dir',
    facts: debianArmFacts,
    desired: { version: '0.12.3', dir: '~/tools/uv' },
    current: probe({ present: '1', version: hex(printed('0.12.17')) }),
    changes: ['install uv 0.12.3 over 0.12.17 with uv-installer-0.12.3.sh (sha256 a7e3924ea1cd…) into /home/ana/tools/uv'],
    steps: [fetch('/home/ana', 'uv-installer-0.12.3.sh', 'a7e3924ea1cd06bf1518c577d635c624ae2e2db030e0fc8ff8cf426224384e17'), ['sh', '/home/ana/.statecraft/installers/uv-installer-0.12.3.sh'], cleanup('/home/ana', 'uv-installer-0.12.3.sh')],
  },
  {
    name: 'a mirror: url with sha256, no version: only presence is compared',
    facts: macArmFacts,
    desired: { url: 'https://mirror.lan/uv/uv-installer.sh', sha256: 'D'.repeat(64) },
    current: probe({ present: '1', version: hex(printed('0.9.0')) }),
    changes: [],
  },
  { name: 'a version the table does not pin is refused, naming the pinned ones', facts: debianFacts, desired: { version: '0.13.8' }, error: /version "0\.13\.8" is not in statecraft's pinned table of uv installers \(0\.12\.17, 0\.12\.3\); give url and sha256/ },
  { name: 'url without sha256 is refused: an installer is never run unchecked', facts: debianFacts, desired: { url: 'https://astral.sh/uv/install.sh' }, error: /sha256 is required with url: an installer is never run unchecked/ },
  { name: 'sha256 that is not 64 hex digits is refused', facts: debianFacts, desired: { url: 'https://astral.sh/uv/install.sh', sha256: 'abc' }, error: /sha256 must be 64 hex digits/ },
  { name: 'Windows without url: refused, pointing at winget', facts: windowsFacts, desired: {}, error: /url is required on Windows: statecraft pins no uv-installer\.ps1; install uv with pkg \(winget 'astral-sh\.uv'\)/ },
  {
    name: 'Windows with url + sha256: the .ps1 checked, then run with UV_INSTALL_DIR and UV_NO_MODIFY_PATH',
    facts: windowsFacts,
    desired: { url: 'https://mirror.lan/uv/uv-installer.ps1', sha256: 'e'.repeat(64) },
    current: NONE,
    changes: [`install uv with uv-installer.ps1 (sha256 eeeeeeeeeeee…) into C:\\Users\\ana\\.local\\bin`],
    steps: [
      (s: string) => expect(s).toContain(`if ($h -ne '${'e'.repeat(64)}')`),
      "$env:UV_INSTALL_DIR = 'C:\\Users\\ana\\.local\\bin'\n$env:UV_NO_MODIFY_PATH = '1'\n& powershell -NoProfile -ExecutionPolicy Bypass -File 'C:\\Users\\ana\\.statecraft\\installers\\uv-installer.ps1'\nexit $LASTEXITCODE",
      /^Remove-Item -LiteralPath 'C:\\Users\\ana\\\.statecraft\\installers\\uv-installer\.ps1'/,
    ],
  },
  { name: 'Windows: uv there: converged', facts: windowsFacts, desired: { url: 'https://mirror.lan/uv/uv-installer.ps1', sha256: 'e'.repeat(64) }, current: probe({ present: '1', version: psHex(printed('0.12.17')) }), changes: [] },
]

describe('uv table', () => {
  for (const c of cases) it(c.name, () => runCase(uvType, c))

  it('the installer runs with UV_INSTALL_DIR and UV_NO_MODIFY_PATH (no shell profile is edited), bounded by progress', () => {
    const d = uvType.validate({ dir: '~/bin' }, debianFacts)
    const steps = uvType.apply(d, { present: false }, uvType.diff(d, { present: false }), debianFacts)
    expect(steps[1]).toMatchObject({ env: { UV_INSTALL_DIR: '/home/ana/bin', UV_NO_MODIFY_PATH: '1' }, idleTimeout: 1_800_000 })
    expect(steps[1]!.timeout).toBeUndefined()
  })

  it('every pinned row is a https URL with a 64-hex sha256 and its own file name', () => {
    for (const r of UV_INSTALLERS) {
      expect(r.url).toMatch(/^https:\/\//)
      expect(r.sha256).toMatch(/^[0-9a-f]{64}$/)
      expect(r.file).toBe(`uv-installer-${r.version}.sh`)
    }
  })
})
