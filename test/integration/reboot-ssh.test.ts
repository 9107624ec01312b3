import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { command, converge, defineRecipe } from '../../lib/index.ts'
import { SshTransport } from '../../lib/transport/ssh/transport.ts'
import { RebootableHost } from '../helpers/rebootable.ts'
import { controllerHome, ensureTestUser, sessionChildren, startSshd, TEST_PASSWORD, TEST_USER, trustHost, waitForPort, type TestSshd } from '../helpers/sshd.ts'
import { tempDir } from '../helpers/tmp.ts'

let sshd: TestSshd
let home: string
const restarted: ChildProcess[] = []
beforeAll(async () => {
  ensureTestUser()
  home = mkdtempSync(join(tmpdir(), 'sc-ctl-'))
  sshd = await startSshd([controllerHome(home).pub])
  trustHost(home, sshd)
})
afterAll(async () => {
  for (const c of restarted) if (c.exitCode === null) c.kill('SIGKILL')
  await sshd?.stop()
  rmSync(home, { recursive: true, force: true })
})

/**
 * The host goes down as a restart takes it: its sessions end (the connection drops for real),
 * sshd stops listening (connects are refused for real), and after a while it listens again with
 * the same host key and config.
 */
async function downThenUp(afterMs: number): Promise<void> {
  const listener = restarted.at(-1) ?? sshd.process
  for (const pid of sessionChildren({ ...sshd, process: listener })) process.kill(pid, 'SIGKILL')
  const gone = new Promise((r) => listener.once('exit', r))
  listener.kill('SIGTERM')
  await gone
  setTimeout(() => restarted.push(spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(sshd.dir, 'sshd_config')], { stdio: 'ignore' })), afterMs)
}

/** A step that stages (exit 194: restart to complete) and one that completes only on a later boot. */
function staged(dir: string, bootFile: string) {
  return defineRecipe({
    name: 'staged',
    resources: () => [
      command({ id: 'stage', argv: ['sh', '-c', 'cp "$1" "$2"; exit 194', 'sh', bootFile, `${dir}/staged`], creates: `${dir}/staged`, rebootExitCodes: [194] }),
      command({ id: 'complete', argv: ['sh', '-c', 'cmp -s "$1" "$2" && exit 1; touch "$3"', 'sh', bootFile, `${dir}/staged`, `${dir}/done`], creates: `${dir}/done`, after: ['stage'] }),
    ],
  })
}

/** A directory the non-root test user can write, removed after the test with the others. */
function openDir(): string {
  const d = tempDir()
  chmodSync(d, 0o777)
  return d
}

describe('--reboot over SSH (a real sshd that goes down and comes back; the restart itself simulated)', () => {
  it('the connection drops, connects are refused meanwhile, the run reconnects, takes its lock back and converges', async () => {
    const dir = tempDir()
    const inner = new SshTransport({ spec: { name: 'box', address: '127.0.0.1', port: sshd.port, user: 'root' }, home })
    const host = new RebootableHost(dir, { inner, downFor: 0, onRestart: () => downThenUp(3000) })
    const recipe = staged(dir, host.bootFile)
    const lockPath = `${dir}/run.lock`
    try {
      const r = await converge({ recipe, hosts: [{ name: 'box', transport: host }], reboot: true, lockPath })
      const h = r.hosts[0]!
      expect(h.error).toBeUndefined()
      expect(h).toMatchObject({ status: 'ok', reboots: [{ ms: expect.any(Number) }] })
      // Down for 3 s: the wait saw refused connects before sshd listened again.
      expect(h.reboots[0]!.ms).toBeGreaterThanOrEqual(3000)
      expect(h.connections).toBeGreaterThanOrEqual(2)
      expect(h.resources.map((x) => x.status)).toEqual(['changed', 'changed'])
      expect(existsSync(`${dir}/done`)).toBe(true)
      expect(existsSync(lockPath)).toBe(false)
      await waitForPort('127.0.0.1', sshd.port)
      const again = await converge({ recipe, hosts: [{ name: 'box', transport: host }], reboot: true, lockPath })
      expect(again.summary).toMatchObject({ changed: 0, unchanged: 2 })
      expect(host.boots).toBe(2)
      expect(host.restartedAs).toEqual([0])
    } finally {
      await host.close()
    }
  })

  it('as a non-root user without become: reboot-required, saying why statecraft could not restart it', async () => {
    const dir = openDir()
    const inner = new SshTransport({ spec: { name: 'box', address: '127.0.0.1', port: sshd.port, user: TEST_USER }, home })
    const host = new RebootableHost(dir, { inner })
    chmodSync(host.bootFile, 0o644)
    try {
      const r = await converge({ recipe: staged(dir, host.bootFile), hosts: [{ name: 'box', transport: host }], reboot: true, lockPath: `${dir}/run.lock` })
      expect(r.hosts[0]).toMatchObject({ status: 'reboot-required', reboots: [], error: { code: 'E_REBOOT_REQUIRED' } })
      expect(r.hosts[0]!.error!.message).toMatch(new RegExp(`statecraft could not restart it: the login user ${TEST_USER} is not root and the host has no become: give it become in the inventory`))
      expect(host.boots).toBe(1)
      expect(existsSync(`${dir}/run.lock`)).toBe(false)
    } finally {
      await host.close()
    }
  })

  it('as a non-root user with become: the restart command goes through sudo (with the password on stdin) and runs as root', async () => {
    await waitForPort('127.0.0.1', sshd.port)
    const dir = openDir()
    const inner = new SshTransport({ spec: { name: 'box', address: '127.0.0.1', port: sshd.port, user: TEST_USER }, home })
    const wrapped = new RebootableHost(dir, { inner, downFor: 0, onRestart: () => downThenUp(1000) })
    chmodSync(wrapped.bootFile, 0o644)
    try {
      const r = await converge({
        recipe: staged(dir, wrapped.bootFile),
        hosts: [{ name: 'box', transport: wrapped, become: { passwordEnv: 'SC_PW' } }],
        env: { SC_PW: TEST_PASSWORD },
        reboot: true,
        lockPath: `${dir}/run.lock`,
      })
      expect(r.hosts[0]!.error).toBeUndefined()
      expect(r.hosts[0]).toMatchObject({ status: 'ok', reboots: [expect.anything()] })
      expect(wrapped.restartedAs).toEqual([0])
      expect(JSON.stringify(r)).not.toContain(TEST_PASSWORD)
    } finally {
      await wrapped.close()
    }
  })
})
