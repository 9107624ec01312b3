import { marker } from '../protocol.ts'
import { SHELL_LIB } from './lib.ts'
import { quote } from './quote.ts'

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

/**
 * The run lock lives on the target as a symlink whose target text records the holder: creating
 * a symlink is atomic and fails if it exists, so two controllers cannot both win.
 */
function lockPathExpr(path: string): string {
  return path.startsWith('~/') ? `"$HOME"/${quote(path.slice(2))}` : quote(path)
}

/** Appended to the facts script: takes the lock, or prints who holds it. */
export function acquireScript(path: string, prefix: string): string {
  return `sc_lock=${lockPathExpr(path)}
sc_info=${quote(prefix)}"|$sc_bootid"
mkdir -p -- "$(dirname -- "$sc_lock")" 2>/dev/null
if ln -s -- "$sc_info" "$sc_lock" 2>/dev/null; then echo "lock=acquired"
elif [ -L "$sc_lock" ]; then echo "lock=held"; printf 'holder='; readlink -- "$sc_lock" | tr -d '\\n' | sc_hex; echo
else echo "lock=error"; fi
sc_kv_hex lockinfo "$sc_info"
`
}

/** Replaces a stale lock only if it still records the same holder, then takes it. */
export function takeoverScript(path: string, staleInfo: string, info: string): string {
  return `sc_lock=${lockPathExpr(path)}
if [ "$(readlink -- "$sc_lock")" = ${quote(staleInfo)} ]; then rm -f -- "$sc_lock"; fi
if ln -s -- ${quote(info)} "$sc_lock" 2>/dev/null; then echo "lock=acquired"; else echo "lock=held"; fi
`
}

export function releaseScript(path: string, info: string): string {
  return `sc_lock=${lockPathExpr(path)}
if [ "$(readlink -- "$sc_lock")" = ${quote(info)} ]; then rm -f -- "$sc_lock"; fi
`
}

/**
 * One script for many probes. Each snippet runs in its own subshell so it cannot disturb the
 * next; sections are split by markers carrying a per-run nonce.
 */
export function batchScript(snippets: string[], nonce: string): string {
  const parts = [SHELL_LIB]
  snippets.forEach((s, i) => {
    parts.push(`echo '${marker(nonce, String(i))}'`, `(\n${s}\n)`)
  })
  parts.push(`echo '${marker(nonce, 'end')}'`)
  return `${parts.join('\n')}\n`
}
