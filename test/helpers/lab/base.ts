import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { removeTree, type Undo } from './cleanup.ts'
import { must, sleep } from './run.ts'
import { alive } from '../alive.ts'

/**
 * The path of the one base rootfs every lab of this vitest run shares. global-setup.ts sets it
 * (a name only: nothing is built until a test file starts a lab) and removes the tree at the end
 * of the run; outside vitest each lab builds and removes a base of its own.
 */
export const LAB_BASE_ENV = 'STATECRAFT_LAB_BASE'

// libpam-systemd beyond the brief's list: without pam_systemd, user@.service (lingering, user units) fails to start.
// python3 (python3-minimal lacks http.server and json) and git: the InvokeAI stand-in repository
// is cloned over the network and its scripts run on the host's Python (test/helpers/invokeai/).
export const PACKAGES = ['openssh-server', 'sudo', 'systemd-sysv', 'dbus', 'libpam-systemd', 'curl', 'busybox', 'ca-certificates', 'python3', 'git']

/** The Debian mirror this machine uses, so the hosts fetch from the same place. */
export async function mirror(): Promise<string> {
  const text = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'].map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : '')).join('\n')
  return /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(\S+)/m.exec(text)?.[1] ?? 'http://deb.debian.org/debian'
}

// Root logs in by key only; ed25519 is the one host key each host gets (fresh per host).
const SSHD_CONFIG = ['HostKey /etc/ssh/ssh_host_ed25519_key', 'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UseDNS no', 'MaxStartups 100:30:200', 'MaxSessions 100', ''].join('\n')

/** debootstrap plus what every host has in common: the `dev` user with sudo, sshd's settings. */
async function build(dir: string): Promise<void> {
  // setpriv: debootstrap dies with this process even when it is SIGKILLed (no handler runs).
  await must(['setpriv', '--pdeathsig', 'KILL', 'debootstrap', '--variant=minbase', `--include=${PACKAGES.join(',')}`, 'bookworm', dir, await mirror()], { timeoutMs: 600_000, group: true })
  await must(['chroot', dir, 'useradd', '--create-home', '--uid', '1000', '--shell', '/bin/bash', 'dev'])
  writeFileSync(join(dir, 'etc/sudoers.d/dev'), 'dev ALL=(ALL:ALL) NOPASSWD: ALL\n', { mode: 0o440 })
  writeFileSync(join(dir, 'etc/ssh/sshd_config.d/lab.conf'), SSHD_CONFIG)
  // Each host gets its own host key, machine id and name; none may come from the base.
  for (const f of ['ssh_host_rsa_key', 'ssh_host_ecdsa_key', 'ssh_host_ed25519_key']) {
    rmSync(join(dir, 'etc/ssh', f), { force: true })
    rmSync(join(dir, 'etc/ssh', `${f}.pub`), { force: true })
  }
  writeFileSync(join(dir, 'etc/machine-id'), '')
  // A container has no tty1, and the timers would start apt behind a test's back.
  await must(['chroot', dir, 'systemctl', 'mask', 'getty@tty1.service', 'apt-daily.timer', 'apt-daily-upgrade.timer', 'e2scrub_all.timer', 'fstrim.timer', 'dpkg-db-backup.timer'])
  await must(['chroot', dir, 'systemctl', 'enable', 'ssh.service'])
  // A reboot or poweroff must not wait 90 s on a stop job (a lingering user manager, a test's
  // unit): the hosts are disposable, and a test waits for them to come back.
  for (const d of ['etc/systemd/system.conf.d', 'etc/systemd/user.conf.d']) {
    mkdirSync(join(dir, d), { recursive: true })
    writeFileSync(join(dir, d, 'lab.conf'), '[Manager]\nDefaultTimeoutStopSec=10s\n')
  }
  rmSync(join(dir, 'var/cache/apt/archives'), { recursive: true, force: true })
  mkdirSync(join(dir, 'var/cache/apt/archives/partial'), { recursive: true })
}

/**
 * The shared base, built by the first lab of the run that needs it: a lock directory (mkdir is
 * atomic) names the builder, which builds into `<dir>.partial` and renames it into place; others
 * wait for the finished tree, or take over when the builder died without finishing. `undo`: the
 * builder's interrupt removes the partial tree and its lock (the build itself is killed first).
 */
async function shared(dir: string, undo?: Undo): Promise<string> {
  const lock = `${dir}.lock`
  const partial = `${dir}.partial`
  for (;;) {
    if (existsSync(dir)) return dir
    try {
      mkdirSync(lock)
    } catch {
      const owner = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : '0')
      if (owner > 0 && !alive(owner)) rmSync(lock, { recursive: true, force: true })
      await sleep(500)
      continue
    }
    // Ours until the build ends either way; only then (or on an interrupt) does the lock go.
    let holding = true
    const release = (): void => {
      if (holding) rmSync(lock, { recursive: true, force: true })
      holding = false
    }
    undo?.add(`remove the shared base being built in ${partial}`, () => {
      if (holding) removeTree(partial)
      release()
    })
    writeFileSync(join(lock, 'pid'), String(process.pid))
    try {
      removeTree(partial)
      await build(partial)
      renameSync(partial, dir)
      return dir
    } catch (e) {
      removeTree(partial)
      throw e
    } finally {
      release()
    }
  }
}

export interface Base {
  dir: string
  release(): void
}

/**
 * `undo`: where an interrupt during the build finds the tree to remove. It is registered before
 * debootstrap starts (the interrupt's teardown kills debootstrap's process group first).
 */
export async function acquireBase(undo?: Undo): Promise<Base> {
  const path = process.env[LAB_BASE_ENV]
  if (path) return { dir: await shared(path, undo), release: () => {} }
  const dir = mkdtempSync(join(tmpdir(), 'sc-e2e-root-'))
  undo?.add(`remove the base being built in ${dir}`, () => removeTree(dir))
  try {
    await build(dir)
  } catch (e) {
    removeTree(dir)
    throw e
  }
  return { dir, release: () => removeTree(dir) }
}

/** For global-setup.ts: the end of the run removes the shared base and any half-built one. */
export function removeSharedBase(path: string): void {
  for (const p of [path, `${path}.partial`, `${path}.lock`]) removeTree(p)
}
