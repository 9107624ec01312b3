import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitForPort } from './sshd.ts'

/**
 * A fresh Debian host on this machine (../shared/LAB.md): a debootstrap'd bookworm rootfs with
 * openssh-server and sudo, its sshd chrooted into it inside a network namespace of its own,
 * reached over a veth pair on a private /24 this run picks. Everything is undone by stop().
 */
export interface LabHost {
  address: string
  port: number
  root: string
  hostKey: string
  stop(): Promise<void>
}

const sh = (cmd: string, args: string[], input?: string): string => execFileSync(cmd, args, { input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] }).toString()

function mirror(): string {
  try {
    const text = execFileSync('sh', ['-c', 'cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null']).toString()
    return /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(\S+)/m.exec(text)?.[1] ?? 'http://deb.debian.org/debian'
  } catch {
    return 'http://deb.debian.org/debian'
  }
}

/** debootstrap (about 45 s); the caller removes the directory. */
export function makeRootfs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sc-e2e-root-'))
  execFileSync('debootstrap', ['--variant=minbase', '--include=openssh-server,sudo', 'bookworm', dir, mirror()], { stdio: 'ignore' })
  return dir
}

export async function startLabHost(rootfs: string, authorizedKey: string, index: number): Promise<LabHost> {
  const tag = `${process.pid % 10000}${index}`
  const ns = `sc-e2e-${tag}`
  const outside = `sce${tag}h`.slice(0, 15)
  const inside = `sce${tag}n`.slice(0, 15)
  const net = 100 + ((process.pid + index * 7) % 150)
  const [hostIp, labIp] = [`10.201.${net}.1`, `10.201.${net}.2`]
  sh('ip', ['netns', 'add', ns])
  const undo: (() => void)[] = [
    () => {
      // Whatever still runs in the namespace (session processes) goes with it.
      for (const pid of sh('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL')
        } catch {}
      }
      sh('ip', ['netns', 'del', ns])
    },
  ]
  let sshd: ChildProcess | undefined
  try {
    sh('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', inside])
    undo.push(() => existsSync(`/sys/class/net/${outside}`) && sh('ip', ['link', 'del', outside]))
    sh('ip', ['link', 'set', inside, 'netns', ns])
    sh('ip', ['addr', 'add', `${hostIp}/24`, 'dev', outside])
    sh('ip', ['link', 'set', outside, 'up'])
    for (const args of [['addr', 'add', `${labIp}/24`, 'dev', inside], ['link', 'set', inside, 'up'], ['link', 'set', 'lo', 'up']]) sh('ip', ['netns', 'exec', ns, 'ip', ...args])
    mkdirSync(join(rootfs, 'root/.ssh'), { recursive: true, mode: 0o700 })
    writeFileSync(join(rootfs, 'root/.ssh/authorized_keys'), `${authorizedKey}\n`, { mode: 0o600 })
    mkdirSync(join(rootfs, 'run/sshd'), { recursive: true })
    sh('chroot', [rootfs, 'ssh-keygen', '-A'])
    // Its own mount namespace: /dev and /proc are bound for sshd and vanish with it.
    const script = `mount --bind /dev '${rootfs}/dev' && mount -t proc proc '${rootfs}/proc' && exec chroot '${rootfs}' /usr/sbin/sshd -D -e -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no -o UsePAM=no -o ListenAddress=${labIp}`
    sshd = spawn('ip', ['netns', 'exec', ns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script], { stdio: 'ignore' })
    await waitForPort(labIp, 22, 15_000)
  } catch (e) {
    sshd?.kill('SIGKILL')
    for (const u of undo.reverse()) u()
    throw e
  }
  const proc = sshd as ChildProcess
  return {
    address: labIp,
    port: 22,
    root: rootfs,
    hostKey: sh('chroot', [rootfs, 'cat', '/etc/ssh/ssh_host_ed25519_key.pub']).trim().split(' ').slice(0, 2).join(' '),
    async stop() {
      if (proc.exitCode === null) {
        const gone = new Promise((r) => proc.once('exit', r))
        proc.kill('SIGTERM')
        await gone
      }
      for (const u of undo.reverse()) u()
    },
  }
}

export function removeRootfs(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}
