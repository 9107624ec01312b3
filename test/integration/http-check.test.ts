import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { command, converge, defineRecipe, httpCheck, type HttpCheckOptions } from '../../lib/index.ts'
import type { Resource } from '../../lib/core/types.ts'
import { healthServer, loadingServer, silentServer } from '../helpers/health-server.ts'
import { freePort } from '../helpers/sshd.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

/** The real check: curl on this machine (the local transport) against real node:http servers. */

async function run(resources: () => Resource[], mode: 'plan' | 'apply' = 'apply') {
  const home = tempDir()
  const recipe = defineRecipe({ name: 'health', resources })
  return converge({ recipe, hosts: [{ name: 'local', transport: localHost(home) }], mode })
}

const one = async (o: HttpCheckOptions, mode: 'plan' | 'apply' = 'apply') => {
  const r = await run(() => [httpCheck(o)], mode)
  return { report: r, res: r.hosts[0]!.resources[0]! }
}

describe('httpCheck against a real local HTTP server', () => {
  it('a server that answers 503 while loading: the run waits, converges and reports the wait; the next run is a no-op', async () => {
    const s = await loadingServer()
    const o = { url: `${s.url}/flaskwebgui-keep-server-alive`, expect: { bodyIncludes: '"Server Running"' }, timeout: 20 }
    const plan = await one(o, 'plan')
    expect(plan.res.changes).toEqual([`wait for ${o.url} to answer 200 with "\\"Server Running\\"" in the body (up to 20 s; now: HTTP 503 without "\\"Server Running\\"" in the body)`])
    const { report, res } = await one(o)
    expect(report.ok, JSON.stringify(res.error)).toBe(true)
    expect(res.status).toBe('changed')
    expect(res.details?.waitedSeconds).toBeGreaterThan(0)
    expect(res.details?.attempts).toBeGreaterThanOrEqual(2)
    // Every request came from curl on the host; the last one was answered 200 (the verify).
    expect(s.agents.every((a) => a.startsWith('curl/'))).toBe(true)
    const before = s.agents.length
    const again = await one(o)
    expect(again.res).toMatchObject({ status: 'unchanged', changes: [] })
    // The no-op is the probe's single request, and costs what any no-op costs.
    expect(s.agents.length).toBe(before + 1)
    expect(again.report.hosts[0]!.roundTrips).toBeLessThanOrEqual(3)
  }, 30_000)

  it('a closed port: fails once the timeout is spent, naming the refused connection', async () => {
    const port = await freePort()
    const { report, res } = await one({ url: `http://127.0.0.1:${port}/api/v1/app/version`, timeout: 1.5 })
    expect(report.ok).toBe(false)
    expect(res.status).toBe('failed')
    const m = res.error?.message ?? ''
    expect(m).toMatch(new RegExp(`^httpCheck http://127\\.0\\.0\\.1:${port}/api/v1/app/version: no expected answer within 1\\.5 s \\((\\d+) attempts over (\\d+\\.\\d) s\\): expected HTTP 200; the last attempt got the connection was refused`))
    const [, attempts, waited] = /\((\d+) attempts over (\d+\.\d) s\)/.exec(m) ?? []
    expect(Number(attempts)).toBeGreaterThanOrEqual(2)
    // The loop stops only when the time is spent, never earlier.
    expect(Number(waited)).toBeGreaterThanOrEqual(1.5)
    expect(m).toContain("Couldn't connect to server")
  }, 20_000)

  it('a server that accepts and never answers: each attempt is cut, and the error says it timed out', async () => {
    const s = await silentServer()
    const { res } = await one({ url: s.url, timeout: 2, attemptTimeout: 1 })
    expect(res.status).toBe('failed')
    expect(res.error?.message).toMatch(/no expected answer within 2 s \(\d+ attempts over \d+\.\d s\): expected HTTP 200; the last attempt got the request timed out: Operation timed out after \d+ milliseconds/)
    expect(s.connections()).toBeGreaterThanOrEqual(2)
  }, 20_000)

  it('200 without the expected text: fails naming the body it got', async () => {
    const s = await healthServer((_n, _req, res) => res.writeHead(200).end('{"version":"3.0.0"}'))
    const { res } = await one({ url: `${s.url}/api/v1/app/version`, expect: { status: [200, 204], bodyIncludes: 'Server Running' }, timeout: 1 })
    expect(res.status).toBe('failed')
    expect(res.error?.message).toContain('expected HTTP 200 or 204 with "Server Running" in the body; the last attempt got HTTP 200 without "Server Running" in the body, body: "{\\"version\\":\\"3.0.0\\"}".')
  }, 20_000)

  it("logs: { file }: the error shows the service's last lines, and only those", async () => {
    const dir = tempDir()
    const log = `${dir}/invokeai.log`
    writeFileSync(log, `${Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n')}\nRuntimeError: CUDA out of memory\n`)
    const s = await healthServer((_n, _req, res) => res.writeHead(502).end('bad gateway'))
    const { res } = await one({ url: s.url, timeout: 1, logs: { file: log, lines: 3 } })
    const m = res.error?.message ?? ''
    expect(m).toContain('the last attempt got HTTP 502, body: "bad gateway".')
    expect(m).toContain('Check that the service runs and listens on that address (its log below), or raise timeout if it needs longer to start.')
    expect(m.endsWith(`\nlast lines of ${log}:\nline 29\nline 30\nRuntimeError: CUDA out of memory`)).toBe(true)
    expect(m).not.toContain('line 28')
  }, 20_000)

  it('logs: { unit }: the error shows what journalctl printed for that unit on the host', async () => {
    const port = await freePort()
    const { res } = await one({ url: `http://127.0.0.1:${port}/`, timeout: 1, logs: { unit: 'invokeai', lines: 5 } })
    // What this machine's real journalctl prints for the unit (entries, or why there are none).
    const printed = spawnSync('sh', ['-c', 'journalctl -u invokeai.service -n 5 --no-pager 2>&1'], { encoding: 'utf8' }).stdout.trim()
    expect(printed).not.toBe('')
    const m = res.error?.message ?? ''
    expect(m.slice(m.indexOf('\nlast lines of'))).toBe(`\nlast lines of journalctl -u invokeai.service:\n${printed}`)
  }, 20_000)

  it('notified by a change (a restarted service): waits again although the probe saw it answer', async () => {
    const s = await healthServer((_n, _req, res) => res.writeHead(200).end('ok'))
    const dir = tempDir()
    const r = await run(() => [
      command({ id: 'restart', argv: ['touch', `${dir}/restarted`], creates: `${dir}/restarted`, notify: ['ready'] }),
      httpCheck({ id: 'ready', url: s.url, timeout: 5 }),
    ])
    const ready = r.hosts[0]!.resources.find((x) => x.id === 'ready')
    expect(ready).toMatchObject({ status: 'changed', changes: [`wait for ${s.url} to answer 200 (up to 5 s; notified by restart)`], details: { attempts: 1 } })
  }, 20_000)

  it("plan: a check after a resource that changes is re-checked after it, not guessed", async () => {
    const s = await healthServer((_n, _req, res) => res.writeHead(200).end('ok'))
    const dir = tempDir()
    const r = await run(() => [
      command({ id: 'start', argv: ['touch', `${dir}/started`], creates: `${dir}/started` }),
      httpCheck({ url: s.url, after: ['start'] }),
    ], 'plan')
    expect(r.hosts[0]!.resources.find((x) => x.type === 'httpCheck')).toMatchObject({ status: 'pending', changes: ['re-checked after start'] })
  }, 20_000)
})
