import { ConnectError } from '../core/errors.ts'
import type { Facts, OsName } from '../core/types.ts'
import { decodeHex, parseKv, SHELL_LIB } from './shell-lib.ts'

/** The first exec's fact-gathering part. Works on any POSIX sh; prints key=value lines. */
export const FACTS_SCRIPT = `${SHELL_LIB}
echo "kernel=$(uname -s)"
echo "machine=$(uname -m)"
echo "arm64=$(sysctl -n hw.optional.arm64 2>/dev/null)"
echo "user=$(id -un)"
echo "uid=$(id -u)"
sc_kv_hex home "$HOME"
echo "hostname=$(hostname 2>/dev/null || uname -n)"
sc_bootid=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || sysctl -n kern.bootsessionuuid 2>/dev/null || echo unknown)
echo "bootid=$sc_bootid"
`

const KERNELS: Record<string, OsName> = { Linux: 'linux', Darwin: 'darwin', Windows_NT: 'windows' }

export function normaliseArch(machine: string): string {
  const m = machine.toLowerCase()
  if (m === 'x86_64' || m === 'amd64') return 'x64'
  if (m === 'aarch64' || m === 'arm64') return 'arm64'
  return machine
}

/** Pure: the facts script's stdout to typed facts. */
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
  }
}
