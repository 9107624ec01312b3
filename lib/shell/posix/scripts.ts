import type { CostlyFact } from '../../core/types.ts'
import { posixBatch } from './batch.ts'
import { SHELL_LIB } from './lib.ts'
import { quote } from './quote.ts'

/** Linux's boot id, macOS's boot session UUID: they change with every boot. */
// Linux's is read by the shell itself (no program starts for it on every run).
const BOOT_ID = `if [ -r /proc/sys/kernel/random/boot_id ]; then read -r sc_bootid < /proc/sys/kernel/random/boot_id
else sc_bootid=$(sysctl -n kern.bootsessionuuid 2>/dev/null || echo unknown); fi
[ -n "$sc_bootid" ] || sc_bootid=unknown`

/** Asked while waiting for a rebooted host: answers only once sshd is back. */
export const BOOT_ID_SCRIPT = `${BOOT_ID}\necho "bootid=$sc_bootid"\n`

/**
 * Restarts the host a moment after this exec has answered, so that the answer is not lost with
 * the connection: systemd's reboot where systemd runs, shutdown -r elsewhere (macOS, sysvinit).
 * Run as root (the session's become when the login user is not).
 */
export const REBOOT_SCRIPT = `if [ "$(uname -s)" != Darwin ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then sc_sd=1; else sc_sd=0; fi
(sleep 1; if [ "$sc_sd" = 1 ]; then systemctl reboot; else shutdown -r now; fi) </dev/null >/dev/null 2>&1 &
echo "reboot=started"
`

/**
 * The first exec's fact-gathering part. Works on any POSIX sh; prints key=value lines, hex for
 * text (parsed by facts/gather.ts). Builtins and file reads where they do: every fork is time on
 * every run of every host (one uname for kernel, host name and machine; one id for user and uid).
 */
export const FACTS_SCRIPT = `${SHELL_LIB}
sc_un=$(uname -s -n -m)
sc_kernel=\${sc_un%% *}
echo "kernel=$sc_kernel"
echo "machine=\${sc_un##* }"
sc_id=$(LC_ALL=C id)
case $sc_id in
uid=*'('*')'*) sc_u=\${sc_id#uid=}; echo "uid=\${sc_u%%'('*}"; sc_u=\${sc_id#*'('}; echo "user=\${sc_u%%')'*}" ;;
*) echo "user=$(id -un)"; echo "uid=$(id -u)" ;;
esac
sc_kv_hex home "$HOME"
sc_un=\${sc_un#* }
echo "hostname=\${sc_un% *}"
${BOOT_ID}
echo "bootid=$sc_bootid"
case $sc_kernel in
Darwin)
  echo "arm64=$(sysctl -n hw.optional.arm64 2>/dev/null)"
  echo "osversion=$(sw_vers -productVersion 2>/dev/null)"
  echo "membytes=$(sysctl -n hw.memsize 2>/dev/null)"
  sc_kv_hex cpu "$(sysctl -n machdep.cpu.brand_string 2>/dev/null)"
  ;;
Linux)
  for sc_f in /etc/os-release /usr/lib/os-release; do
    if [ -r "$sc_f" ]; then printf 'osrelease='; sc_hex < "$sc_f"; echo; break; fi
  done
  while read -r sc_k sc_v sc_u; do
    if [ "$sc_k" = MemTotal: ] && [ "$sc_u" = kB ]; then echo "memkb=$sc_v"; break; fi
  done < /proc/meminfo
  if [ -e /var/run/reboot-required ] || [ -e /run/reboot-required ]; then echo "reboot=1"; fi
  ;;
esac
sc_pm=
if command -v apt-get >/dev/null 2>&1; then sc_pm="$sc_pm apt"; fi
for sc_c in dpkg dnf yum rpm zypper pacman apk winget choco scoop conda mamba micromamba; do
  if command -v "$sc_c" >/dev/null 2>&1; then sc_pm="$sc_pm $sc_c"; fi
done
if [ -x /opt/homebrew/bin/brew ] || [ -x /usr/local/bin/brew ] || [ -x /home/linuxbrew/.linuxbrew/bin/brew ] || command -v brew >/dev/null 2>&1; then sc_pm="$sc_pm brew"; fi
for sc_f in miniforge3 miniconda3 anaconda3 mambaforge; do
  if [ -x "$HOME/$sc_f/bin/conda" ]; then sc_pm="$sc_pm conda"; break; fi
done
echo "pkgmgrs=$sc_pm"
`

/**
 * The GPU part, joined to the first exec only for a recipe that declares `facts: ['gpu']`:
 * nvidia-smi alone takes hundreds of ms. Each call is bounded (a wedged driver hangs it). The CUDA
 * version is not a --query-gpu field: it comes from --version, or the plain header on drivers
 * whose --version lacks it. Without nvidia-smi, PCI display controllers are listed from sysfs.
 */
const GPU_SCRIPT = `echo "gpu=1"
sc_bounded() { if command -v timeout >/dev/null 2>&1; then timeout 20 "$@"; else "$@"; fi; }
if command -v nvidia-smi >/dev/null 2>&1; then
  sc_kv_hex gpuquery "$(sc_bounded nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader,nounits 2>&1)"
  sc_v=$(sc_bounded nvidia-smi --version 2>/dev/null)
  case $sc_v in *CUDA*) ;; *) sc_v=$(sc_bounded nvidia-smi 2>/dev/null | head -n 5) ;; esac
  sc_kv_hex gpuversion "$sc_v"
elif [ "$sc_kernel" = Linux ] && [ -d /sys/bus/pci/devices ]; then
  sc_pci=
  set +f
  for sc_d in /sys/bus/pci/devices/*; do
    sc_cls='' sc_ven='' sc_dev=''
    read -r sc_cls 2>/dev/null < "$sc_d/class"
    case $sc_cls in 0x03*) ;; *) continue ;; esac
    read -r sc_ven 2>/dev/null < "$sc_d/vendor"
    read -r sc_dev 2>/dev/null < "$sc_d/device"
    sc_pci="$sc_pci $sc_ven:$sc_dev"
  done
  set -f
  echo "gpupci=$sc_pci"
fi
`

/**
 * Whether sudo works without a password, asked before anything changes (only for hosts with
 * become): `sudo -n` never prompts. stdin is /dev/null, so it cannot read from the run's pipe.
 */
const SUDO_SCRIPT = `if command -v sudo >/dev/null 2>&1; then
  if sudo -n true </dev/null >/dev/null 2>&1; then echo sudo=nopasswd; else echo sudo=password; fi
else echo sudo=missing; fi
`

/** The facts script with the costly parts the recipe declared, and the sudo check when asked. */
export function factsScript(costly: readonly CostlyFact[], o: { sudo?: boolean } = {}): string {
  return `${FACTS_SCRIPT}${costly.includes('gpu') ? GPU_SCRIPT : ''}${o.sudo ? SUDO_SCRIPT : ''}`
}

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
if [ -f "$sc_lock.reboot" ]; then sc_kv_hex rebootmark "$(cat -- "$sc_lock.reboot")"; fi
`
}

/**
 * Beside the lock: a step of this run asked for a restart (boot id|what asked). A later run on
 * the same boot finds it and stops before changing anything; after a restart it no longer counts.
 */
export function markRebootScript(path: string, text: string): string {
  return `sc_lock=${lockPathExpr(path)}
printf '%s\\n' ${quote(text)} > "$sc_lock.reboot"
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
 * next, except its leading stat and content reads, which batch.ts serves for all at once;
 * sections are split by markers carrying a per-run nonce.
 */
export function batchScript(snippets: string[], nonce: string): string {
  return posixBatch(snippets, nonce).script
}
