import { execFileSync } from 'node:child_process'

// Each tool the lab runs on this machine, and the Debian package that has it.
const TOOLS: [string, string][] = [
  ['debootstrap', 'debootstrap'],
  ['systemd-nspawn', 'systemd-container'],
  ['ip', 'iproute2'],
  ['nft', 'nftables'],
  ['nsenter', 'util-linux'],
  ['flock', 'util-linux'],
  ['setpriv', 'util-linux'],
  ['ssh-keygen', 'openssh-client'],
]

/** Fails before anything is touched when the lab cannot run here, naming what to install. */
export function preflight(): void {
  if (process.getuid?.() !== 0) throw new Error('lab: startLab needs root (network namespaces, mounts, cgroups); run the e2e tests as root')
  const missing = TOOLS.filter(([tool]) => {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore' })
      return false
    } catch {
      return true
    }
  })
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, p]) => p))]
    throw new Error(`lab: ${missing.map(([t]) => t).join(', ')} not found; install the Debian packages ${pkgs.join(' ')} (apt-get install ${pkgs.join(' ')}; .ci/run does)`)
  }
}
