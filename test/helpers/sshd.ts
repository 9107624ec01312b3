import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { alive } from './alive.ts'

/**
 * A dedicated non-root login with sudo (password required), created idempotently and removed
 * when the run ends (test/global-setup.ts, or the bench's finally). Its name and password are new
 * on every run — the password hostile characters plus a random part — and the global setup puts
 * both in the environment before any worker starts: no password written in the repo ever opens an
 * account with sudo, and two test runs on one machine never change each other's user.
 */
export const TEST_USER_ENV = 'STATECRAFT_TEST_USER'
process.env[TEST_USER_ENV] ??= `sct${randomBytes(4).toString('hex')}`
export const TEST_USER = process.env[TEST_USER_ENV] as string
const SUDOERS = `/etc/sudoers.d/statecraft-test-${TEST_USER}`
export const TEST_PASSWORD_ENV = 'STATECRAFT_TEST_PASSWORD'
process.env[TEST_PASSWORD_ENV] ??= `sc pw 'q' "d" $(x) \`y\` ${'ü'} ${randomBytes(12).toString('base64url')}`
export const TEST_PASSWORD = process.env[TEST_PASSWORD_ENV] as string

/**
 * The run that made the user: its pid goes in the user's comment field, so a later run can remove
 * the user of a run that was killed outright (SIGKILL leaves no teardown) — and never another live
 * run's.
 */
export const TEST_RUN_PID_ENV = 'STATECRAFT_TEST_RUN_PID'
process.env[TEST_RUN_PID_ENV] ??= String(process.pid)
const RUN_MARK = 'statecraft test run '

/** Removes the test user, its home and its sudoers entry; safe to call when they are gone. */
export function removeTestUser(): void {
  removeUser(TEST_USER)
}

/** Removes the test users of earlier runs whose process is gone (killed without their teardown). */
export function removeStaleTestUsers(): string[] {
  const stale: string[] = []
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [name, , , , comment] = line.split(':')
    if (!name || !/^sct[0-9a-f]{8}$/.test(name) || name === TEST_USER || !comment?.startsWith(RUN_MARK)) continue
    if (!alive(Number(comment.slice(RUN_MARK.length)))) stale.push(name)
  }
  for (const name of stale) removeUser(name)
  return stale
}

function removeUser(user: string): void {
  // Its rule, and any extra rule a test added for it (statecraft-test-<user>-…).
  for (const f of readdirSync('/etc/sudoers.d')) if (f === `statecraft-test-${user}` || f.startsWith(`statecraft-test-${user}-`)) rmSync(`/etc/sudoers.d/${f}`, { force: true })
  if (spawnSync('id', [user], { stdio: 'ignore' }).status !== 0) return
  // Processes the user still runs (a test's sshd session) would make userdel refuse.
  spawnSync('pkill', ['-KILL', '-u', user], { stdio: 'ignore' })
  const r = spawnSync('userdel', ['-r', user], { encoding: 'utf8' })
  if (spawnSync('id', [user], { stdio: 'ignore' }).status === 0) throw new Error(`could not remove the test user ${user}: ${r.stderr}`)
}

export function ensureTestUser(): void {
  if (process.getuid?.() !== 0) throw new Error(`SSH integration tests run as root (they start sshd and create the test user ${TEST_USER})`)
  const exists = (): boolean => spawnSync('id', [TEST_USER], { stdio: 'ignore' }).status === 0
  // Two test files may create it at once: the loser of that race finds it there.
  if (!exists() && spawnSync('useradd', ['-m', '-s', '/bin/sh', '-c', `${RUN_MARK}${process.env[TEST_RUN_PID_ENV]}`, TEST_USER], { stdio: 'ignore' }).status !== 0 && !exists()) {
    throw new Error(`could not create the test user ${TEST_USER}`)
  }
  execFileSync('chpasswd', [], { input: `${TEST_USER}:${TEST_PASSWORD}\n` })
  writeFileSync(SUDOERS, `${TEST_USER} ALL=(ALL:ALL) ALL\nDefaults:${TEST_USER} !lecture, passwd_tries=1\n`, { mode: 0o440 })
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** Resolves once something accepts TCP connections on host:port. */
export async function waitForPort(host: string, port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, host, () => (c.destroy(), resolve(true)))
      c.on('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > until) throw new Error(`nothing listened on ${host}:${port} within ${ms / 1000}s`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export interface TestSshd {
  port: number
  addresses: string[]
  dir: string
  /** `ssh-ed25519 AAAA…` of the server. */
  hostKey: string
  process: ChildProcess
  /** What sshd logged so far (-e: to stderr), for failure messages. */
  log(): string
  stop(): Promise<void>
}

export function keygen(path: string, type = 'ed25519'): string {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'statecraft-test', '-f', path])
  return readFileSync(`${path}.pub`, 'utf8').trim()
}

/**
 * Our own sshd on loopback: its own config, host key, pid file and authorized keys, on a free
 * port, in the foreground as our child (so it stops with us). Never the machine's sshd.
 */
export async function startSshd(authorizedKeys: string[], opts: { addresses?: string[]; port?: number; hostKeyType?: string; extraHostKeyType?: string } = {}): Promise<TestSshd> {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
  const dir = mkdtempSync(join(tmpdir(), 'sc-sshd-'))
  chmodSync(dir, 0o755) // sshd reads authorized_keys as the logging-in user
  const addresses = opts.addresses ?? ['127.0.0.1']
  const port = opts.port ?? (await freePort(addresses[0]))
  const hostKey = keygen(join(dir, 'host_key'), opts.hostKeyType ?? 'ed25519')
  const extra = opts.extraHostKeyType ? keygen(join(dir, 'host_key_extra'), opts.extraHostKeyType) : undefined
  writeFileSync(join(dir, 'authorized_keys'), `${authorizedKeys.join('\n')}\n`, { mode: 0o644 })
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      ...addresses.map((a) => `ListenAddress ${a}`),
      `HostKey ${join(dir, 'host_key')}`,
      ...(extra ? [`HostKey ${join(dir, 'host_key_extra')}`] : []),
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'MaxStartups 200:30:400',
      'MaxSessions 100',
      'Subsystem sftp internal-sftp',
      'LogLevel VERBOSE',
    ].join('\n') + '\n',
  )
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr?.on('data', (b: Buffer) => (log += b.toString()))
  try {
    await waitForPort(addresses[0] as string, port)
  } catch (e) {
    child.kill('SIGKILL')
    throw new Error(`${(e as Error).message}: ${log}`)
  }
  return {
    port,
    addresses,
    dir,
    hostKey,
    process: child,
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await gone
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A controller HOME with a client key at OpenSSH's default path. */
export function controllerHome(home: string): { pub: string } {
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 })
  return { pub: keygen(join(home, '.ssh', 'id_ed25519')) }
}

/** Records `sshd`'s host key in the controller's known_hosts, as `ssh` would after a first yes. */
export function trustHost(home: string, sshd: TestSshd, knownAs = '127.0.0.1'): void {
  appendFileSync(join(home, '.ssh', 'known_hosts'), `[${knownAs}]:${sshd.port} ${sshd.hostKey}\n`, { mode: 0o600 })
}

/** The sshd child serving one session: the process whose parent is the listener (for kill tests). */
export function sessionChildren(sshd: TestSshd): number[] {
  const pid = sshd.process.pid
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)]).toString()
  return out.split('\n').map((s) => Number(s.trim())).filter((n) => n > 0)
}

export interface FleetHost {
  name: string
  address: string
  port: number
}

/**
 * `count` hosts as loopback addresses 127.0.<net>.<n>, ten per sshd instance (sshd takes at most
 * 16 ListenAddress lines), all trusted in `home`'s known_hosts.
 */
export async function startFleet(pub: string, home: string, count: number, firstNet: number, prefix: string): Promise<{ servers: TestSshd[]; hosts: FleetHost[] }> {
  const servers: TestSshd[] = []
  const hosts: FleetHost[] = []
  for (let net = firstNet; hosts.length < count; net++) {
    const addresses = Array.from({ length: Math.min(10, count - hosts.length) }, (_, i) => `127.0.${net}.${i + 1}`)
    const s = await startSshd([pub], { addresses, port: await freePort(addresses[0]) })
    servers.push(s)
    for (const a of addresses) {
      appendFileSync(join(home, '.ssh', 'known_hosts'), `[${a}]:${s.port} ${s.hostKey}\n`)
      hosts.push({ name: `${prefix}${String(hosts.length + 1).padStart(2, '0')}`, address: a, port: s.port })
    }
  }
  return { servers, hosts }
}
