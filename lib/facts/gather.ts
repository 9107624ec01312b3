import { ConnectError } from '../core/errors.ts'
import type { Facts, OsName } from '../core/types.ts'
import { decodeHex, parseKv } from '../shell/protocol.ts'
import { parseGpu } from './gpu.ts'
import { distroOf, memoryOf, packageManagersOf, windowsVersion } from './os.ts'

const KERNELS: Record<string, OsName> = { Linux: 'linux', Darwin: 'darwin', Windows_NT: 'windows' }

export function normaliseArch(machine: string): string {
  const m = machine.toLowerCase()
  if (m === 'x86_64' || m === 'amd64') return 'x64'
  if (m === 'aarch64' || m === 'arm64') return 'arm64'
  return machine
}

const SUDO_STATES = new Set(['nopasswd', 'password', 'missing'])

/**
 * Pure: the facts script's stdout (either dialect) to typed facts. Keys an older host or a
 * missing tool did not print become undefined (or empty, false), never an error.
 */
export function parseFacts(stdout: string, hostName: string): Facts {
  const kv = parseKv(stdout)
  const kernel = kv.get('kernel') ?? ''
  const os = KERNELS[kernel] ?? (/^(MINGW|MSYS|CYGWIN)/.test(kernel) ? 'windows' : undefined)
  if (!os) {
    throw new ConnectError(
      `host ${hostName}: could not identify the operating system (uname -s printed ${JSON.stringify(kernel)}); ` +
        'statecraft supports Linux, macOS and Windows hosts',
    )
  }
  const appleSilicon = os === 'darwin' && kv.get('arm64') === '1'
  const uid = Number.parseInt(kv.get('uid') ?? '', 10)
  const distro = os === 'linux' ? distroOf(decodeHex(kv.get('osrelease'))) : undefined
  const osVersion =
    os === 'windows' ? windowsVersion(kv.get('winmajor'), kv.get('winminor'), kv.get('winbuild'), kv.get('winubr'))
    : os === 'darwin' ? kv.get('osversion')?.trim() || undefined
    : distro?.version
  const cpu = decodeHex(kv.get('cpu')).trim() || undefined
  const edition = decodeHex(kv.get('winedition')).trim() || undefined
  const displayVersion = decodeHex(kv.get('windisplay')).trim() || undefined
  const memoryBytes = memoryOf(kv.get('membytes'), kv.get('memkb'))
  const gpu = parseGpu(kv, { appleSilicon, cpu })
  return {
    os,
    // Under Rosetta uname -m says x86_64 on an M1; the hardware is what packages must match.
    arch: appleSilicon ? 'arm64' : normaliseArch(kv.get('machine') ?? ''),
    appleSilicon,
    kernel,
    user: kv.get('user') ?? '',
    uid: Number.isNaN(uid) ? null : uid,
    home: decodeHex(kv.get('home')),
    hostname: kv.get('hostname') ?? '',
    dialect: 'posix',
    bootId: kv.get('bootid') ?? 'unknown',
    ...(osVersion !== undefined ? { osVersion } : {}),
    ...(distro ? { distro } : {}),
    ...(os === 'windows' && (edition || displayVersion) ? { windows: { ...(edition ? { edition } : {}), ...(displayVersion ? { displayVersion } : {}) } } : {}),
    packageManagers: packageManagersOf(kv.get('pkgmgrs')),
    ...(memoryBytes !== undefined ? { memoryBytes } : {}),
    ...(cpu !== undefined ? { cpu } : {}),
    rebootPending: kv.get('reboot') === '1',
    ...(SUDO_STATES.has(kv.get('sudo') ?? '') ? { sudo: kv.get('sudo') as Facts['sudo'] } : {}),
    ...(gpu ? { gpu } : {}),
  }
}
