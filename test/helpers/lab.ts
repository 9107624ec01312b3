import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { $ } from 'zx'
import { waitForPort } from './sshd.ts'

// The lab drives many host commands: zx quotes every interpolated value and throws on a failure.
const q = $({ quiet: true })

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

async function mirror(): Promise<string> {
  const text = (await $({ quiet: true, nothrow: true })`sh -c ${'cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null'}`).stdout
  return /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(\S+)/m.exec(text)?.[1] ?? 'http://deb.debian.org/debian'
}

/** debootstrap (about 45 s); the caller removes the directory, also when this fails. */
export async function makeRootfs(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sc-e2e-root-'))
  try {
    await q`debootstrap --variant=minbase --include=openssh-server,sudo bookworm ${dir} ${await mirror()}`
  } catch (e) {
    removeRootfs(dir)
    throw e
  }
  return dir
}

export async function startLabHost(rootfs: string, authorizedKey: string, index: number): Promise<LabHost> {
  const tag = `${process.pid % 10000}${index}`
  const ns = `sc-e2e-${tag}`
  const outside = `sce${tag}h`.slice(0, 15)
  const inside = `sce${tag}n`.slice(0, 15)
  const net = 100 + ((process.pid + index * 7) % 150)
  const [hostIp, labIp] = [`10.201.${net}.1`, `10.201.${net}.2`]
  await q`ip netns add ${ns}`
  const undo: (() => Promise<unknown>)[] = [
    async () => {
      // Whatever still runs in the namespace (session processes) goes with it.
      for (const pid of (await q`ip netns pids ${ns}`).stdout.split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL')
        } catch {}
      }
      await q`ip netns del ${ns}`
    },
  ]
  let sshd: ChildProcess | undefined
  try {
    await q`ip link add ${outside} type veth peer name ${inside}`
    undo.push(async () => existsSync(`/sys/class/net/${outside}`) && (await q`ip link del ${outside}`))
    await q`ip link set ${inside} netns ${ns}`
    await q`ip addr add ${`${hostIp}/24`} dev ${outside}`
    await q`ip link set ${outside} up`
    await q`ip netns exec ${ns} ip addr add ${`${labIp}/24`} dev ${inside}`
    await q`ip netns exec ${ns} ip link set ${inside} up`
    await q`ip netns exec ${ns} ip link set lo up`
    mkdirSync(join(rootfs, 'root/.ssh'), { recursive: true, mode: 0o700 })
    writeFileSync(join(rootfs, 'root/.ssh/authorized_keys'), `${authorizedKey}\n`, { mode: 0o600 })
    mkdirSync(join(rootfs, 'run/sshd'), { recursive: true })
    await q`chroot ${rootfs} ssh-keygen -A`
    // Its own mount namespace: /dev and /proc are bound for sshd and vanish with it.
    const script = `mount --bind /dev '${rootfs}/dev' && mount -t proc proc '${rootfs}/proc' && exec chroot '${rootfs}' /usr/sbin/sshd -D -e -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no -o UsePAM=no -o ListenAddress=${labIp}`
    sshd = spawn('ip', ['netns', 'exec', ns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script], { stdio: 'ignore' })
    await waitForPort(labIp, 22, 15_000)
  } catch (e) {
    sshd?.kill('SIGKILL')
    for (const u of undo.reverse()) await u()
    throw e
  }
  const proc = sshd as ChildProcess
  return {
    address: labIp,
    port: 22,
    root: rootfs,
    hostKey: (await q`chroot ${rootfs} cat /etc/ssh/ssh_host_ed25519_key.pub`).stdout.trim().split(' ').slice(0, 2).join(' '),
    async stop() {
      if (proc.exitCode === null) {
        const gone = new Promise((r) => proc.once('exit', r))
        proc.kill('SIGTERM')
        await gone
      }
      for (const u of undo.reverse()) await u()
    },
  }
}

export function removeRootfs(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}
