import { writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { converge, defineRecipe, httpCheck } from '../../lib/index.ts'
import { healthServer, loadingServer } from '../helpers/health-server.ts'
import { sshdForTests } from '../helpers/sshd-per-file.ts'
import { tempDir } from '../helpers/tmp.ts'

const ssh = sshdForTests()

async function run(check: Parameters<typeof httpCheck>[0]) {
  const recipe = defineRecipe({ name: 'health-over-ssh', resources: () => [httpCheck(check)] })
  const r = await converge({ recipe, hosts: [{ name: 'box', ssh: { name: 'box', address: '127.0.0.1', port: ssh.sshd.port, user: 'root' } }], ssh: { home: ssh.home }, lockPath: `${ssh.home}/run.lock` })
  return { report: r, res: r.hosts[0]!.resources[0]! }
}

describe('httpCheck over SSH (real sshd on 127.0.0.1)', () => {
  it('the requests come from curl in the SSH session on the host, not from the controller; the wait is reported', async () => {
    const s = await loadingServer()
    const { report, res } = await run({ url: `${s.url}/api/v1/app/version`, timeout: 20 })
    expect(report.ok, JSON.stringify(res.error)).toBe(true)
    expect(res).toMatchObject({ status: 'changed', details: { attempts: expect.any(Number), waitedSeconds: expect.any(Number) } })
    expect(Number(res.details?.waitedSeconds)).toBeGreaterThan(0)
    // The controller speaks no HTTP to the service: every request (probe, waits, verify) is the host's curl.
    expect(s.agents.length).toBeGreaterThanOrEqual(3)
    expect(s.agents.every((a) => a.startsWith('curl/'))).toBe(true)
    expect(report.hosts[0]!.connections).toBe(1)
  }, 40_000)

  it("a wait that runs out: the error carries the host's log tail", async () => {
    const dir = tempDir()
    writeFileSync(`${dir}/web.log`, 'starting\nOSError: [Errno 98] Address already in use\n')
    const s = await healthServer((_n, _req, res) => res.writeHead(500).end('Internal Server Error'))
    const { res } = await run({ url: s.url, timeout: 1, logs: { file: `${dir}/web.log` } })
    expect(res.status).toBe('failed')
    expect(res.error?.message).toContain('the last attempt got HTTP 500, body: "Internal Server Error".')
    expect(res.error?.message).toContain(`\nlast lines of ${dir}/web.log:\nstarting\nOSError: [Errno 98] Address already in use`)
  }, 40_000)
})
