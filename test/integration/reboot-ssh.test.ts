import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { command, converge, defineRecipe } from '../../lib/index.ts'
import { SshTransport } from '../../lib/transport/ssh/transport.ts'
import { RebootableHost } from '../helpers/rebootable.ts'
import { controllerHome, sessionChildren, startSshd, trustHost, waitForPort, type TestSshd } from '../helpers/sshd.ts'
import { tempDir } from '../helpers/tmp.ts'

let sshd: TestSshd
let home: string
const restarted: ChildProcess[] = []
beforeAll(async () => {
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

describe('--reboot over SSH (a real sshd that goes down and comes back; the restart itself simulated)', () => {
  it('the connection drops, connects are refused meanwhile, the run reconnects, takes its lock back and converges', async () => {
    const dir = tempDir()
    const inner = new SshTransport({ spec: { name: 'box', address: '127.0.0.1', port: sshd.port, user: 'root' }, home })
    const host = new RebootableHost(dir, { inner, downFor: 0, onRestart: () => downThenUp(3000) })
    const recipe = defineRecipe({
      name: 'staged',
      resources: () => [
        command({ id: 'stage', argv: ['sh', '-c', 'cp "$1" "$2"; exit 194', 'sh', host.bootFile, `${dir}/staged`], creates: `${dir}/staged`, rebootExitCodes: [194] }),
        command({ id: 'complete', argv: ['sh', '-c', 'cmp -s "$1" "$2" && exit 1; touch "$3"', 'sh', host.bootFile, `${dir}/staged`, `${dir}/done`], creates: `${dir}/done`, after: ['stage'] }),
      ],
    })
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
    } finally {
      await host.close()
    }
  })
})
