import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { command, converge, defineRecipe, file } from '../../lib/index.ts'
import { SshTransport } from '../../lib/transport/ssh/transport.ts'
import { controllerHome, sessionChildren, startSshd, trustHost, type TestSshd } from '../helpers/sshd.ts'
import { tempDir } from '../helpers/tmp.ts'

let sshd: TestSshd
let home: string
beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'sc-ctl-'))
  sshd = await startSshd([controllerHome(home).pub])
  trustHost(home, sshd)
})
afterAll(async () => {
  await sshd?.stop()
  rmSync(home, { recursive: true, force: true })
})

const spec = () => ({ name: 'box', address: '127.0.0.1', port: sshd.port, user: 'root' })
const waitFor = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25))
}

describe('dropped SSH connections', () => {
  it('reconnects once when the connection dropped between two steps', async () => {
    const t = new SshTransport({ spec: spec(), home })
    try {
      expect((await t.exec('echo one')).stdout).toBe('one\n')
      for (const pid of sessionChildren(sshd)) process.kill(pid, 'SIGKILL')
      await new Promise((r) => setTimeout(r, 300))
      expect((await t.exec('echo two')).stdout).toBe('two\n')
      expect(t.stats).toEqual({ roundTrips: 2, connections: 2 })
    } finally {
      await t.close()
    }
  })

  it('fails the host clearly when the connection dies during a command; the re-run converges', async () => {
    const dir = tempDir()
    const recipe = defineRecipe({
      name: 'drop',
      resources: () => [
        command({ id: 'slow', argv: ['sh', '-c', `touch ${dir}/started; sleep 5; touch ${dir}/done`], creates: `${dir}/done` }),
        file({ id: 'after', path: `${dir}/after`, content: 'x', after: ['slow'] }),
      ],
    })
    const run = (): ReturnType<typeof converge> => converge({ recipe, hosts: [{ name: 'box', ssh: spec() }], ssh: { home }, lockPath: `${dir}/lock` })
    const first = run()
    await waitFor(() => existsSync(`${dir}/started`))
    for (const pid of sessionChildren(sshd)) process.kill(pid, 'SIGKILL')
    const r = await first
    expect(r.ok).toBe(false)
    const slow = r.hosts[0]!.resources[0]!
    expect(slow.status).toBe('failed')
    expect(slow.error!.message).toMatch(/host box: the connection dropped while a command was running; it may or may not have finished. Run again/)
    // The lock could not be released over the dead connection, but its holder (this pid) is
    // still alive: it is released by the reconnecting release, so the next run can start.
    const again = await run()
    expect(again.hosts[0]!.error).toBeUndefined()
    expect(again.ok).toBe(true)
    expect(existsSync(`${dir}/after`)).toBe(true)
  })
})
