import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseFacts } from '../../lib/facts/gather.ts'
import { distroOf, parseOsRelease, windowsVersion } from '../../lib/facts/os.ts'
import { versionSatisfies } from '../../lib/index.ts'
import { hex, psHex } from '../helpers/facts.ts'
import { h100OsRelease } from '../helpers/h100.ts'

/** The facts script's output: `key=value` lines in the order the script prints them. */
const out = (o: Record<string, string>, eol = '\n'): string => Object.entries(o).map(([k, v]) => `${k}=${v}`).join(eol) + eol
const osRelease = (name: string): string => readFileSync(new URL(`../fixtures/os-release/${name}`, import.meta.url), 'utf8')
const linux = (release: string, more: Record<string, string> = {}) =>
  parseFacts(out({ kernel: 'Linux', machine: 'x86_64', arm64: '', user: 'ana', uid: '1000', home: hex('/home/ana'), hostname: 'box', bootid: 'b', osrelease: hex(release), ...more }), 'box')

describe('macOS facts (sw_vers, sysctl)', () => {
  it('arm64: version, memory, chip, Homebrew found at /opt/homebrew', () => {
    const f = parseFacts(out({ kernel: 'Darwin', machine: 'arm64', arm64: '1', user: 'ana', uid: '501', home: hex('/Users/ana'), hostname: 'studio', bootid: 'B0', osversion: '14.2.1', membytes: '34359738368', cpu: hex('Apple M1 Pro'), pkgmgrs: ' brew' }), 'studio')
    expect(f).toMatchObject({ os: 'darwin', arch: 'arm64', appleSilicon: true, osVersion: '14.2.1', memoryBytes: 34359738368, cpu: 'Apple M1 Pro', packageManagers: ['brew'], rebootPending: false })
    expect(f.distro).toBeUndefined()
    expect(f.gpu).toBeUndefined()
    expect(versionSatisfies(f.osVersion, '>=12.3')).toBe(true)
  })

  it('arm64 under Rosetta: uname -m says x86_64, hw.optional.arm64 says 1; the declared GPU is the chip', () => {
    const f = parseFacts(out({ kernel: 'Darwin', machine: 'x86_64', arm64: '1', home: hex('/Users/ana'), osversion: '13.6.7', membytes: '17179869184', cpu: hex('Apple M2'), pkgmgrs: ' conda brew', gpu: '1' }), 'm')
    expect(f).toMatchObject({ arch: 'arm64', appleSilicon: true, osVersion: '13.6.7', memoryBytes: 16 * 2 ** 30, cpu: 'Apple M2', packageManagers: ['conda', 'brew'] })
    expect(f.gpu).toEqual({ vendor: 'apple', devices: [{ name: 'Apple M2' }] })
  })

  it('x86_64: no hw.optional.arm64 (empty), an Intel CPU, an older macOS; no GPU it knows', () => {
    const f = parseFacts(out({ kernel: 'Darwin', machine: 'x86_64', arm64: '', home: hex('/Users/b'), osversion: '11.7.10', membytes: '17179869184', cpu: hex('Intel(R) Core(TM) i9-9880H CPU @ 2.30GHz'), pkgmgrs: '', gpu: '1' }), 'm')
    expect(f).toMatchObject({ arch: 'x64', appleSilicon: false, osVersion: '11.7.10', cpu: 'Intel(R) Core(TM) i9-9880H CPU @ 2.30GHz', packageManagers: [] })
    expect(versionSatisfies(f.osVersion, '>=12.3')).toBe(false)
    expect(f.gpu).toEqual({ vendor: 'none', devices: [] })
  })
})

describe('Windows facts (registry and CIM, as PowerShell 5.1 prints them)', () => {
  const win = (more: Record<string, string>) =>
    parseFacts(out({ kernel: 'Windows_NT', machine: 'AMD64', user: 'ana', home: psHex('C:\\Users\\ana'), hostname: 'GAMING-PC', bootid: '20261126055012', psversion: '5.1.22621.4391', memkb: '33479292', winmajor: '10', winminor: '0', winbuild: '22631', winubr: '4391', winedition: psHex('Professional'), windisplay: psHex('23H2'), ...more }, '\r\n'), 'GAMING-PC')

  it('Windows 11 23H2: version with the UBR, edition, visible memory, winget, no reboot pending', () => {
    const f = win({ reboot: '0', pkgmgrs: 'choco winget' })
    expect(f).toMatchObject({ os: 'windows', arch: 'x64', osVersion: '10.0.22631.4391', windows: { edition: 'Professional', displayVersion: '23H2' }, memoryBytes: 33479292 * 1024, packageManagers: ['choco', 'winget'], rebootPending: false })
    expect(versionSatisfies(f.osVersion, '>=10.0.22000')).toBe(true) // Windows 11
    expect(versionSatisfies(f.osVersion, '>=10.0.26100')).toBe(false) // 24H2
  })

  it('a reboot marker set', () => {
    expect(win({ reboot: '1', pkgmgrs: '' }).rebootPending).toBe(true)
  })

  it('Windows 10 without DisplayVersion (1909 has ReleaseId only) and a host whose registry read failed', () => {
    expect(windowsVersion('10', '0', '18363', '1556')).toBe('10.0.18363.1556')
    expect(windowsVersion('', '', '17763', '')).toBe('10.0.17763')
    expect(windowsVersion(undefined, undefined, undefined, undefined)).toBeUndefined()
    const f = parseFacts(out({ kernel: 'Windows_NT', machine: 'AMD64', home: psHex('C:\\Users\\ana'), winbuild: '18363', winedition: psHex('Core'), windisplay: '' }, '\r\n'), 'w')
    expect(f).toMatchObject({ osVersion: '10.0.18363', windows: { edition: 'Core' } })
  })
})

describe('Linux facts (/etc/os-release, /proc/meminfo)', () => {
  it('Debian 12', () => {
    const f = linux(osRelease('debian-12'), { memkb: '24684096', pkgmgrs: ' apt dpkg' })
    expect(f).toMatchObject({ osVersion: '12', distro: { id: 'debian', version: '12', like: [] }, memoryBytes: 24684096 * 1024, packageManagers: ['apt', 'dpkg'], rebootPending: false })
    expect(versionSatisfies(f.osVersion, '>=12')).toBe(true)
  })

  it('Debian after an upgrade that wants a reboot (/var/run/reboot-required)', () => {
    expect(linux(osRelease('debian-12'), { reboot: '1' }).rebootPending).toBe(true)
  })

  it('Fedora 40', () => {
    const f = linux(osRelease('fedora-40'), { memkb: '16318412', pkgmgrs: ' dnf yum rpm' })
    expect(f).toMatchObject({ osVersion: '40', distro: { id: 'fedora', version: '40', like: [] }, packageManagers: ['dnf', 'yum', 'rpm'] })
  })

  it('Arch: a rolling release has no VERSION_ID, so no osVersion (and no range matches)', () => {
    const f = linux(osRelease('arch'), { pkgmgrs: ' pacman' })
    expect(f.distro).toEqual({ id: 'arch', like: [] })
    expect(f.osVersion).toBeUndefined()
    expect(versionSatisfies(f.osVersion, '>=1')).toBe(false)
    expect(f.packageManagers).toEqual(['pacman'])
  })

  it('Ubuntu 24.04 (captured on the H100 host): like debian, version 24.04', () => {
    const f = linux(h100OsRelease(), { pkgmgrs: ' apt dpkg' })
    expect(f.distro).toEqual({ id: 'ubuntu', version: '24.04', like: ['debian'] })
    expect(versionSatisfies(f.osVersion, '>=22.04')).toBe(true)
    expect(versionSatisfies(f.osVersion, '>=24.10')).toBe(false)
  })

  it('os-release quoting: double quotes with escapes, single quotes, comments, ID_LIKE lists', () => {
    const m = parseOsRelease('# c\nNAME="Rocky \\"Linux\\""\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID=\'9.4\'\n')
    expect(m.get('NAME')).toBe('Rocky "Linux"')
    expect(distroOf('ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID=\'9.4\'\n')).toEqual({ id: 'rocky', version: '9.4', like: ['rhel', 'centos', 'fedora'] })
  })
})

describe('an older host or a missing tool: absent keys read as undefined, never a crash', () => {
  it('the facts of the first release only', () => {
    const f = parseFacts(out({ kernel: 'Linux', machine: 'x86_64', user: 'root', uid: '0', home: hex('/root'), hostname: 'h', bootid: 'b' }), 'h')
    expect(f).toMatchObject({ os: 'linux', packageManagers: [], rebootPending: false })
    for (const k of ['osVersion', 'distro', 'memoryBytes', 'cpu', 'gpu', 'windows'] as const) expect(f[k]).toBeUndefined()
  })

  it('garbled values: an empty os-release, non-numeric memory, unknown package manager words', () => {
    const f = linux('', { memkb: 'n/a', pkgmgrs: ' apt ; rm' })
    expect(f.distro).toBeUndefined()
    expect(f.memoryBytes).toBeUndefined()
    expect(f.packageManagers).toEqual(['apt', 'rm'])
  })
})
