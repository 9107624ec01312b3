import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { waitForPort } from '../sshd.ts'
import { cgroupDirs, leaderOf, makeCgroups, removeCgroups } from './cgroup.ts'
import { mountsUnder, type Undo } from './cleanup.ts'
import { must, mustSync, run, sleep, type Ran } from './run.ts'

export interface LabHost {
  name: string
  address: string
  port: number
  hostKey: string
  exec(script: string, timeoutMs?: number): Promise<Ran>
  bootId(): Promise<string>
  /** Resolves when the host has rebooted and is back: a new boot id and sshd answering. */
  waitForReboot(previousBootId: string, timeoutMs?: number): Promise<void>
  boots: number
  /**
   * Resolves with systemd-nspawn's exit status once the host is off for good: a poweroff inside
   * (0), stop(), or a failure. A reboot does not resolve it (the host is started again).
   */
  off(): Promise<number | null>
}

export interface HostPlan {
  name: string
  /** systemd-nspawn's machine name, also the cgroup's: `sc-e2e-<x>-<name>`. */
  machine: string
  address: string
  netns: string
  base: string
  /** Per-host directory: upper/ and work/ of the overlay, root/ where it is mounted, console.log. */
  dir: string
  authorizedKey: string
}

// systemd-nspawn's exit status when the container rebooted (systemd-nspawn@.service restarts it).
const REBOOTED = 133
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/**
 * One booted Debian host: an overlayfs view of the shared base, systemd-nspawn --boot with real
 * systemd as PID 1, in the host's network namespace and a cgroup of its own. When the container
 * reboots (exit 133) it is started again on the same overlay; a poweroff ends it.
 */
export class Machine implements LabHost {
  readonly name: string
  readonly address: string
  readonly port = 22
  hostKey = ''
  boots = 0
  private readonly plan: HostPlan
  private readonly cgroups: string[]
  private readonly root: string
  private proc: ChildProcess | undefined
  private stopping = false
  /** Set when nspawn ended for good (not a reboot): its exit status. */
  private ended: number | null | undefined
  private readonly offWaiters: ((code: number | null) => void)[] = []

  constructor(plan: HostPlan) {
    this.plan = plan
    this.name = plan.name
    this.address = plan.address
    this.cgroups = cgroupDirs(plan.machine)
    this.root = join(plan.dir, 'root')
  }

  /** Mounts the overlay and writes what is this host's own: name, machine id, host key, keys. */
  async prepare(undo: Undo): Promise<void> {
    const { dir, base } = this.plan
    for (const d of ['upper', 'work', 'root']) mkdirSync(join(dir, d), { recursive: true })
    // volatile: no syncs to the upper dir, so teardown does not wait on the disk.
    undo.add(`unmount ${this.root}`, () => {
      for (const m of mountsUnder(this.root)) mustSync(['umount', '--lazy', m])
    })
    await must(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${base},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')},volatile`, this.root])
    const r = this.root
    writeFileSync(join(r, 'etc/hostname'), `${this.name}\n`)
    writeFileSync(join(r, 'etc/hosts'), `127.0.0.1 localhost\n127.0.1.1 ${this.name}\n`)
    writeFileSync(join(r, 'etc/machine-id'), `${randomBytes(16).toString('hex')}\n`)
    await must(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `root@${this.name}`, '-f', join(r, 'etc/ssh/ssh_host_ed25519_key')])
    this.hostKey = readFileSync(join(r, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ')
    for (const [home, uid] of [['root', 0], ['home/dev', 1000]] as const) {
      mkdirSync(join(r, home, '.ssh'), { recursive: true, mode: 0o700 })
      writeFileSync(join(r, home, '.ssh/authorized_keys'), `${this.plan.authorizedKey}\n`, { mode: 0o600 })
      for (const p of ['.ssh', '.ssh/authorized_keys']) chownSync(join(r, home, p), uid, uid)
    }
    undo.add(`remove cgroups of ${this.name}`, () => removeCgroups(this.cgroups))
    makeCgroups(this.cgroups)
    undo.add(`remove nspawn's propagation dir of ${this.name}`, () => rmSync(`/run/systemd/nspawn/propagate/${this.plan.machine}`, { recursive: true, force: true }))
    // Its starter may not have entered the cgroups yet when an interrupt comes.
    undo.add(`stop systemd-nspawn of ${this.name}`, () => {
      this.stopping = true
      if (this.proc !== undefined && this.proc.exitCode === null) this.proc.kill('SIGKILL')
    })
  }

  /** Starts systemd-nspawn; resolves when systemd runs and sshd accepts connections. */
  async boot(timeoutMs = 90_000): Promise<void> {
    this.boot1()
    await this.waitUp(timeoutMs)
  }

  private boot1(): void {
    this.boots++
    const log = openSync(join(this.plan.dir, 'console.log'), 'a')
    // Into the host's cgroups before exec, so nspawn and the container start there.
    const enter = 'for c in $CGROUPS; do echo $$ > "$c/cgroup.procs" || exit 1; done; exec "$@"'
    const argv = ['systemd-nspawn', '--boot', '--register=no', '--keep-unit', '--quiet', `--directory=${this.root}`, `--machine=${this.plan.machine}`, `--hostname=${this.name}`, `--network-namespace-path=/run/netns/${this.plan.netns}`, '--resolv-conf=copy-host', '--link-journal=no', '--console=read-only']
    const proc = spawn('sh', ['-c', enter, 'sh', ...argv], { stdio: ['ignore', log, log], env: { ...process.env, CGROUPS: this.cgroups.join(' ') } })
    closeSync(log)
    this.proc = proc
    proc.once('error', (e) => {
      writeFileSync(join(this.plan.dir, 'console.log'), `lab: could not start systemd-nspawn: ${e.message}\n`, { flag: 'a' })
      this.ended = null
      for (const w of this.offWaiters.splice(0)) w(null)
    })
    proc.once('exit', (code) => {
      if (this.proc !== proc) return
      this.proc = undefined
      if (code === REBOOTED && !this.stopping) return this.boot1()
      this.ended = code
      for (const w of this.offWaiters.splice(0)) w(code)
    })
  }

  off(): Promise<number | null> {
    if (this.ended !== undefined) return Promise.resolve(this.ended)
    return new Promise((resolve) => this.offWaiters.push(resolve))
  }

  private async waitUp(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs
    while (leaderOf(this.cgroups) === undefined) {
      this.checkRunning()
      if (Date.now() > until) throw new Error(`lab: ${this.name} did not start within ${timeoutMs / 1000}s:\n${this.console()}`)
      await sleep(100)
    }
    await waitForPort(this.address, 22, Math.max(1000, until - Date.now())).catch((e: Error) => {
      throw new Error(`lab: ${this.name}: ${e.message}:\n${this.console()}`)
    })
  }

  private checkRunning(): void {
    if (this.ended !== undefined) throw new Error(`lab: ${this.name}: systemd-nspawn exited with ${this.ended}:\n${this.console()}`)
  }

  /** The last lines of the container's console, for error messages. */
  console(): string {
    const p = join(this.plan.dir, 'console.log')
    return existsSync(p) ? readFileSync(p, 'utf8').split('\n').slice(-25).join('\n') : '(no console output)'
  }

  /** Runs script as root inside the host; killed (exit 137) if it runs past timeoutMs. */
  async exec(script: string, timeoutMs = 300_000): Promise<Ran> {
    const leader = leaderOf(this.cgroups)
    if (leader === undefined) throw new Error(`lab: ${this.name} is not running (boot ${this.boots}); nothing to exec in`)
    // All of the container's namespaces, its root and cwd, and a clean environment of its own.
    return run(['nsenter', `--target=${leader}`, '--all', '--root', '--wd', 'env', '-i', `PATH=${PATH}`, 'HOME=/root', 'LANG=C.UTF-8', 'sh', '-c', script], { onInterrupt: 'kill', timeoutMs })
  }

  async bootId(): Promise<string> {
    const r = await this.exec('cat /proc/sys/kernel/random/boot_id')
    if (r.code !== 0) throw new Error(`lab: ${this.name}: reading the boot id failed (${r.code}): ${r.stderr}`)
    return r.stdout.trim()
  }

  async waitForReboot(previousBootId: string, timeoutMs = 90_000): Promise<void> {
    const until = Date.now() + timeoutMs
    for (;;) {
      this.checkRunning()
      // A short bound per look: entering a host that is shutting down must not stall the wait.
      const id = leaderOf(this.cgroups) === undefined ? '' : await this.exec('cat /proc/sys/kernel/random/boot_id', 5_000).then((r) => (r.code === 0 ? r.stdout.trim() : ''), () => '')
      if (id !== '' && id !== previousBootId) break
      if (Date.now() > until) throw new Error(`lab: ${this.name} did not come back from a reboot within ${timeoutMs / 1000}s (boot ${this.boots}):\n${this.console()}`)
      await sleep(200)
    }
    await this.waitUp(Math.max(1000, until - Date.now()))
  }

  /** Powers the host off (SIGRTMIN+4 to its systemd), killing it if it is not gone in time. */
  async poweroff(timeoutMs = 20_000): Promise<void> {
    this.stopping = true
    const proc = this.proc
    if (proc === undefined || proc.exitCode !== null) return
    const gone = new Promise((r) => proc.once('exit', r))
    const leader = leaderOf(this.cgroups)
    if (leader !== undefined) await run(['kill', '-s', 'RTMIN+4', String(leader)])
    else proc.kill('SIGTERM')
    const timer = new Promise((r) => setTimeout(r, timeoutMs).unref())
    if ((await Promise.race([gone.then(() => true), timer.then(() => false)])) === false) removeCgroups(this.cgroups)
    await gone
  }
}

