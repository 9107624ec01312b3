/**
 * What the test suite needs from Debian, in one place: `npm test` (its pretest step) installs the
 * missing packages when it runs as root with apt, and otherwise stops with the command to run.
 * One package a line, with the commands whose absence means it is missing (any one absent).
 */
export interface DebianTool {
  pkg: string
  /** Commands looked up on PATH and in /usr/sbin, /sbin; an absolute path is checked as is. */
  commands: string[]
  why: string
}

export const DEBIAN_TOOLS: DebianTool[] = [
  { pkg: 'shellcheck', commands: ['shellcheck'], why: 'lints every generated POSIX script' },
  { pkg: 'strace', commands: ['strace'], why: 'watches argv for secrets' },
  { pkg: 'libxml2-utils', commands: ['xmllint'], why: 'validates --junit output against the JUnit XSD' },
  { pkg: 'openssh-server', commands: ['/usr/sbin/sshd'], why: 'each SSH test file starts its own sshd' },
  { pkg: 'openssh-client', commands: ['ssh-keygen', 'ssh-agent'], why: 'keys and the agent of the SSH tests' },
  { pkg: 'sudo', commands: ['sudo'], why: 'the become and askpass tests' },
  { pkg: 'procps', commands: ['ps'], why: 'the process sweeps' },
  { pkg: 'curl', commands: ['curl'], why: 'downloads on the host' },
  { pkg: 'git', commands: ['git'], why: 'the git resource' },
  { pkg: 'apt-utils', commands: ['apt-ftparchive'], why: 'the pkg apt test indexes its own repository' },
  { pkg: 'systemd', commands: ['systemd-analyze'], why: 'the service tests check every generated unit with systemd-analyze verify' },
  { pkg: 'debootstrap', commands: ['debootstrap'], why: "the end-to-end lab's base Debian file system" },
  { pkg: 'systemd-container', commands: ['systemd-nspawn'], why: 'the lab boots its hosts with systemd-nspawn' },
  { pkg: 'iproute2', commands: ['ip'], why: "the lab's network namespaces, veths and bridge" },
  { pkg: 'nftables', commands: ['nft'], why: "NAT from the lab's hosts to the Debian mirror" },
  { pkg: 'util-linux', commands: ['nsenter', 'flock'], why: "commands inside the lab's hosts; one base build per run" },
]

export interface Machine {
  has(command: string): boolean
  root: boolean
  apt: boolean
}

export type SetupPlan =
  | { action: 'none' }
  | { action: 'install'; pkgs: string[]; argv: string[][] }
  | { action: 'stop'; pkgs: string[]; message: string }

/** Pure: what the pretest step does on this machine. */
export function setupPlan(tools: DebianTool[], m: Machine): SetupPlan {
  const pkgs = tools.filter((t) => t.commands.some((c) => !m.has(c))).map((t) => t.pkg)
  if (pkgs.length === 0) return { action: 'none' }
  const install = ['apt-get', 'install', '-y', '--no-install-recommends', ...pkgs]
  if (m.root && m.apt) return { action: 'install', pkgs, argv: [['apt-get', 'update', '-qq'], install] }
  const why = tools
    .filter((t) => pkgs.includes(t.pkg))
    .map((t) => `  ${t.pkg}: ${t.why} (missing: ${t.commands.filter((c) => !m.has(c)).join(', ')})`)
    .join('\n')
  const run = m.apt ? `${m.root ? '' : 'sudo '}apt-get update && ${m.root ? '' : 'sudo '}${install.join(' ')}` : `install the Debian packages ${pkgs.join(' ')} (or your system's equivalents)`
  const next = m.apt ? 'then run npm test again (as root: the tests create a test user and a network namespace)' : 'then run npm test again'
  return { action: 'stop', pkgs, message: `npm test: the tests need tools this machine lacks:\n${why}\nRun:\n  ${run}\n${next}` }
}
