import type { LabHost } from '../lab.ts'

/**
 * A stand-in for rustup at ~/.cargo/bin/rustup (static.rust-lang.org is not reachable from the
 * lab), as if the rustup resource had installed it: `--version` and `toolchain list` print what
 * rustup 1.28 prints (the default marked `(active, default)`), `toolchain install T` adds T to
 * ~/.cargo/stand-in-toolchains and logs the call in ~/.cargo/calls.log, `run T ARGV` runs ARGV.
 */
export const RUSTUP_STAND_IN = `#!/bin/sh
d=$(cd "$(dirname "$0")/.." && pwd)
list=$d/stand-in-toolchains
triple=$(uname -m)-unknown-linux-gnu
case "$1" in
  --version) echo 'rustup 1.28.2 (e4f3ad6f8 2025-04-28)' ;;
  toolchain)
    case "$2" in
      list) first=1; while IFS= read -r t; do if [ $first = 1 ]; then echo "$t-$triple (active, default)"; first=0; else echo "$t-$triple"; fi; done < "$list" ;;
      install) shift 2; for t in "$@"; do case "$t" in -*) ;; *) echo "toolchain install $t" >> "$d/calls.log"; grep -qx "$t" "$list" || echo "$t" >> "$list"; echo "info: syncing channel updates for '$t-$triple'" >&2; echo "  $t-$triple installed - rustc $t" ;; esac; done ;;
      *) echo "rustup stand-in: toolchain $2 is not a subcommand it knows" >&2; exit 2 ;;
    esac ;;
  run) shift 2; exec "$@" ;;
  *) echo "rustup stand-in: $* is not a subcommand it knows" >&2; exit 2 ;;
esac
`

/** Installs the stand-in for `user` with the given toolchains (the first is the default). */
export async function installRustupOnHost(host: LabHost, user: string, toolchains: string[]): Promise<string> {
  const b64 = Buffer.from(RUSTUP_STAND_IN).toString('base64')
  const r = await host.exec(`set -e
home=$(getent passwd ${user} | cut -d: -f6)
[ -n "$home" ] || { echo "no user ${user} on this host" >&2; exit 1; }
mkdir -p "$home/.cargo/bin"
printf '%s' '${b64}' | base64 -d > "$home/.cargo/bin/rustup"
chmod 0755 "$home/.cargo/bin/rustup"
printf '%s\\n' ${toolchains.map((t) => `'${t.replace(/[^A-Za-z0-9._-]/g, '')}'`).join(' ')} > "$home/.cargo/stand-in-toolchains"
chown -R ${user}: "$home/.cargo"
printf '%s' "$home/.cargo/bin/rustup"`)
  if (r.code !== 0) throw new Error(`installing the rustup stand-in on ${host.name} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}
