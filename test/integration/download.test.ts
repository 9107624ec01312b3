import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { createServer, request as httpRequest } from 'node:http'
import { connect as connectTcp } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { converge, defineRecipe, download } from '../../lib/index.ts'
import type { DownloadOptions } from '../../lib/resources/download/download.ts'
import { LocalTransport } from '../../lib/transport/local.ts'
import { bytes, startHub, type Hub } from '../helpers/hub.ts'
import { registerSecret } from '../helpers/sweep.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

let hub: Hub
const SIZE = 3 * 1024 * 1024 + 17
const TOKEN = registerSecret('hf_good_token_123')

beforeAll(async () => {
  hub = await startHub()
  hub.addBlob('model.ckpt', bytes(SIZE, 7))
})
afterAll(async () => hub?.close())

const url = (): string => `${hub.hubUrl}/gated/sd-v1-4/resolve/main/model.ckpt`
function run(home: string, dest: string, extra: Partial<DownloadOptions> = {}, mode: 'plan' | 'apply' = 'apply', more: { verifyArtifacts?: boolean; transport?: LocalTransport } = {}) {
  return converge({
    recipe: defineRecipe({ name: 'dl', resources: () => [download({ id: 'ckpt', url: url(), dest, token: TOKEN, ...extra })] }),
    hosts: [{ name: 'local', transport: more.transport ?? localHost(home) }],
    mode,
    ...(more.verifyArtifacts ? { verifyArtifacts: true } : {}),
  })
}

/** The cut GET, then one GET from where the client's bytes ended that sent exactly the rest. */
function expectResumed(): void {
  expect(hub.gets).toHaveLength(2)
  const [cut, rest] = hub.gets as [{ start: number; sent: number }, { start: number; sent: number }]
  expect(cut.start).toBe(0)
  expect(rest.start).toBeGreaterThan(0)
  expect(rest.start).toBeLessThanOrEqual(cut.sent)
  expect(rest.sent).toBe(SIZE - rest.start)
}

describe('download from a gated hub (real HTTP servers on loopback)', () => {
  it('explains a missing token (401) and an unaccepted licence (403) without leaking the token', async () => {
    const home = tempDir()
    const dest = `${tempDir()}/models/model.ckpt`
    const none = await run(home, dest, { token: '' }, 'plan')
    expect(none.hosts[0]!.resources[0]!.error!.message).toBe(
      `download ${dest}: ${url()} is gated: accept the licence at ${hub.hubUrl}/gated/sd-v1-4 and provide a token; here: provide a token (the token option, e.g. from HF_TOKEN)`,
    )
    const denied = await run(home, dest, { token: 'hf_not_accepted_999' })
    expect(denied.ok).toBe(false)
    expect(denied.hosts[0]!.resources[0]!.error!.message).toMatch(/is gated: .*accept the licence on the model page/)
    expect(JSON.stringify(denied)).not.toContain('hf_not_accepted_999')
    expect(existsSync(dest)).toBe(false)
  })

  it('downloads with the hub-announced sha256, never sends the token to the CDN, then a no-op does no I/O on the file', async () => {
    const home = tempDir()
    const dest = `${tempDir()}/models/model.ckpt`
    const plan = await run(home, dest, {}, 'plan')
    expect(plan.hosts[0]!.resources[0]!.changes).toEqual([`download ${url()} to ${dest} (3.1 MB), sha256 announced by the hub (X-Linked-Etag)`])
    hub.requests.length = 0
    const r = await run(home, dest)
    expect(r.hosts[0]!.error).toBeUndefined()
    expect(r.ok).toBe(true)
    expect(readFileSync(dest).equals(hub.blobs.get('model.ckpt')!.data)).toBe(true)
    expect(existsSync(`${dest}.part`)).toBe(false)
    const cdn = hub.requests.filter((x) => x.origin === 'cdn')
    expect(cdn.length).toBeGreaterThan(0)
    expect(cdn.every((x) => x.headers.authorization === undefined)).toBe(true)
    expect(hub.requests.filter((x) => x.origin === 'hub').every((x) => x.headers.authorization === `Bearer ${TOKEN}`)).toBe(true)
    expect(JSON.stringify(r)).not.toContain(TOKEN)

    // No-op: the stamp matches, so the file is only stat()ed. Proof: it is unreadable (mode 000
    // does not stop root, so strace records every open() of the no-op run).
    hub.requests.length = 0
    const trace = `${tempDir()}/trace`
    const shell = `${tempDir()}/traced-sh`
    writeFileSync(shell, `#!/bin/sh\nexec strace -f -qq -e trace=open,openat -o ${trace}.$$ /bin/sh "$@"\n`)
    chmodSync(shell, 0o755)
    const traced = new LocalTransport({ env: { ...process.env, HOME: home }, shell })
    const noop = await run(home, dest, {}, 'apply', { transport: traced })
    expect(noop.summary).toMatchObject({ changed: 0, unchanged: 1 })
    expect(noop.hosts[0]!.roundTrips).toBe(3)
    expect(hub.requests).toEqual([])
    const dir = trace.slice(0, trace.lastIndexOf('/'))
    const opened = readdirSync(dir).filter((f) => f.startsWith('trace.')).map((f) => readFileSync(`${dir}/${f}`, 'utf8')).join('')
    expect(opened).toContain('.statecraft/stamps/')
    expect(opened).not.toContain(`"${dest}"`)

    // --verify-artifacts reads and hashes it, and still finds nothing to do.
    const verified = await run(home, dest, {}, 'apply', { verifyArtifacts: true })
    expect(verified.summary).toMatchObject({ changed: 0, unchanged: 1 })
  })

  it('resumes after the connection is cut mid-body: only the missing bytes travel', async () => {
    const home = tempDir()
    const dest = `${tempDir()}/model.ckpt`
    hub.gets.length = 0
    hub.cdnModes.push('cut')
    const r = await run(home, dest)
    expect(r.hosts[0]!.resources[0]!.error).toBeUndefined()
    expect(readFileSync(dest).equals(hub.blobs.get('model.ckpt')!.data)).toBe(true)
    expectResumed()
  })

  it('retries a 503 with Retry-After', async () => {
    const home = tempDir()
    const dest = `${tempDir()}/model.ckpt`
    hub.cdnModes.push('503')
    const r = await run(home, dest)
    expect(r.ok).toBe(true)
  })

  it('keeps the good file when the new download is corrupt, and fails clearly', async () => {
    const home = tempDir()
    const dest = `${tempDir()}/model.ckpt`
    const first = await run(home, dest)
    expect(first.ok, JSON.stringify(first.hosts[0])).toBe(true)
    const good = readFileSync(dest)
    hub.addBlob('v2.ckpt', bytes(SIZE, 8))
    hub.cdnModes.push('corrupt')
    const r = await converge({
      recipe: defineRecipe({ name: 'dl', resources: () => [download({ id: 'ckpt', url: `${hub.hubUrl}/gated/sd-v1-4/resolve/main/v2.ckpt`, dest, token: TOKEN })] }),
      hosts: [{ name: 'local', transport: localHost(home) }],
    })
    expect(r.ok, JSON.stringify(r.hosts[0])).toBe(false)
    expect(r.hosts[0]!.resources[0]!.error!.message).toMatch(new RegExp(`^download ${dest}: the downloaded file failed its check \\(sha256 [0-9a-f]{64}, expected ${hub.blobs.get('v2.ckpt')!.sha256}\\); it was discarded and ${dest} was left as it was$`))
    expect(readFileSync(dest).equals(good)).toBe(true)
    expect(existsSync(`${dest}.part`)).toBe(false)
  })

  it('re-hashes a changed file: same bytes re-stamp it, other bytes replace it', async () => {
    const home = tempDir()
    const dest = `${tempDir()}/model.ckpt`
    const first = await run(home, dest)
    expect(first.ok, JSON.stringify(first.hosts[0])).toBe(true)
    utimesSync(dest, new Date(), new Date(Date.now() - 60_000))
    const touched = await run(home, dest, {}, 'plan')
    expect(touched.hosts[0]!.resources[0]!.changes[0]).toMatch(/^record the verified stamp of .* \(content checked, sha256 [0-9a-f]{12}…\)$/)
    expect((await run(home, dest)).ok).toBe(true)
    expect((await run(home, dest, {}, 'plan')).summary.changed).toBe(0)
    writeFileSync(dest, 'tampered')
    const replaced = await run(home, dest)
    expect(replaced.hosts[0]!.resources[0]!.changes[0]).toMatch(/^replace .*: its content does not match/)
    expect(readFileSync(dest).equals(hub.blobs.get('model.ckpt')!.data)).toBe(true)
  })

  it('via the controller: resumes a cut download in the cache, then streams it to the host', async () => {
    const home = tempDir()
    const dest = `${tempDir()}/model.ckpt`
    process.env.STATECRAFT_CACHE = tempDir()
    try {
      hub.gets.length = 0
      hub.cdnModes.push('cut')
      const r = await run(home, dest, { via: 'controller' })
      expect(r.hosts[0]!.resources[0]!.error).toBeUndefined()
      expect(r.hosts[0]!.resources[0]!.changes[0]).toMatch(/into the controller's cache \(once for all hosts\) and push it to/)
      expect(readFileSync(dest).equals(hub.blobs.get('model.ckpt')!.data)).toBe(true)
      expectResumed()
      expect((await run(home, dest, { via: 'controller' }, 'plan')).summary.changed).toBe(0)
    } finally {
      delete process.env.STATECRAFT_CACHE
    }
  })

  it('reports progress while the host downloads, and the figures in the report', async () => {
    const home = tempDir()
    const dest = `${tempDir()}/model.ckpt`
    hub.cdnModes.push('slow')
    const events: [string, string, number, number | undefined][] = []
    const r = await converge({
      recipe: defineRecipe({ name: 'dl', resources: () => [download({ id: 'ckpt', url: url(), dest, token: TOKEN })] }),
      hosts: [{ name: 'local', transport: localHost(home) }],
      onProgress: (h, id, b, t) => events.push([h, id, b, t]),
    })
    expect(r.ok).toBe(true)
    expect(events.length).toBeGreaterThan(0)
    expect(events.every(([h, id, b, t]) => h === 'local' && id === 'ckpt' && b >= 0 && b <= SIZE && t === SIZE)).toBe(true)
    expect(r.hosts[0]!.resources[0]!.details).toMatchObject({ bytes: SIZE })
    expect(Number(r.hosts[0]!.resources[0]!.details!.bytesPerSecond)).toBeGreaterThan(0)
  })

  it("uses the host's own hub token (HF_TOKEN, else ~/.cache/huggingface/token) when the recipe gives none", async () => {
    const fromFile = tempDir()
    mkdirSync(`${fromFile}/.cache/huggingface`, { recursive: true })
    writeFileSync(`${fromFile}/.cache/huggingface/token`, `${TOKEN}\n`)
    const dest = `${tempDir()}/model.ckpt`
    const r = await run(fromFile, dest, { token: '', hubToken: true })
    expect(r.hosts[0]!.resources[0]!.error).toBeUndefined()
    expect(readFileSync(dest).equals(hub.blobs.get('model.ckpt')!.data)).toBe(true)
    const fromEnv = new LocalTransport({ env: { ...process.env, HOME: tempDir(), HF_TOKEN: TOKEN } })
    const dest2 = `${tempDir()}/model.ckpt`
    expect((await run('', dest2, { token: '', hubToken: true }, 'apply', { transport: fromEnv })).ok).toBe(true)
    // Not a hub URL and not asked for: the host's token is not sent anywhere.
    const none = await run(fromFile, `${tempDir()}/m`, { token: '' }, 'plan')
    expect(none.hosts[0]!.resources[0]!.error!.message).toMatch(/is gated/)
  })

  it("via: 'auto' pushes from the controller when the host has no curl", async () => {
    // A PATH with every program of this machine except curl.
    const bin = tempDir()
    for (const dir of ['/usr/local/bin', '/usr/bin', '/bin']) {
      for (const f of readdirSync(dir)) if (f !== 'curl' && !existsSync(`${bin}/${f}`)) symlinkSync(`${dir}/${f}`, `${bin}/${f}`)
    }
    const home = tempDir()
    const dest = `${tempDir()}/model.ckpt`
    process.env.STATECRAFT_CACHE = tempDir()
    try {
      const noCurl = new LocalTransport({ env: { ...process.env, HOME: home, PATH: bin } })
      const r = await run(home, dest, { via: 'auto' }, 'apply', { transport: noCurl })
      expect(r.hosts[0]!.resources[0]!.error).toBeUndefined()
      expect(r.hosts[0]!.resources[0]!.changes[0]).toMatch(/into the controller's cache/)
      expect(readFileSync(dest).equals(hub.blobs.get('model.ckpt')!.data)).toBe(true)
    } finally {
      delete process.env.STATECRAFT_CACHE
    }
  })

  it('keeps the .part when interrupted, and the next run resumes it', async () => {
    const home = tempDir()
    const dest = `${tempDir()}/model.ckpt`
    hub.cdnModes.push('slow')
    hub.gets.length = 0
    const ac = new AbortController()
    const running = converge({
      recipe: defineRecipe({ name: 'dl', resources: () => [download({ id: 'ckpt', url: url(), dest, token: TOKEN })] }),
      hosts: [{ name: 'local', transport: localHost(home) }],
      signal: ac.signal,
    })
    for (let i = 0; i < 200 && !(existsSync(`${dest}.part`) && statSync(`${dest}.part`).size > 0); i++) await new Promise((r) => setTimeout(r, 25))
    ac.abort()
    const r = await running
    expect(r.hosts[0]!.error!.code).toBe('E_ABORTED')
    const kept = statSync(`${dest}.part`).size
    expect(kept).toBeGreaterThan(0)
    expect(kept).toBeLessThan(SIZE)
    const again = await run(home, dest)
    expect(again.ok).toBe(true)
    expect(readFileSync(dest).equals(hub.blobs.get('model.ckpt')!.data)).toBe(true)
    const resumed = hub.gets[hub.gets.length - 1]!
    expect(resumed.start).toBe(kept)
    expect(again.hosts[0]!.resources[0]!.details).toMatchObject({ bytes: SIZE - kept })
  })

  it('discards a .part left from another version of the source instead of appending to it', async () => {
    const home = tempDir()
    const dest = `${tempDir()}/model.ckpt`
    writeFileSync(`${dest}.part`, Buffer.alloc(1000, 7))
    writeFileSync(`${dest}.part.source`, 'an-older-etag')
    hub.gets.length = 0
    const r = await run(home, dest)
    expect(r.ok).toBe(true)
    expect(readFileSync(dest).equals(hub.blobs.get('model.ckpt')!.data)).toBe(true)
    expect(hub.gets).toEqual([{ start: 0, sent: SIZE }])
  })

  it('via the controller: goes through the HTTP_PROXY the controller is configured with', async () => {
    const seen: string[] = []
    // A minimal forward proxy for http:// URLs (absolute-form requests), on loopback.
    const proxy = createServer((req, res) => {
      seen.push(String(req.url))
      const up = httpRequest(String(req.url), { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers)
        r.pipe(res)
      })
      req.pipe(up)
    })
    // …and CONNECT tunnels, which undici's proxy agent uses for every origin.
    proxy.on('connect', (req, socket, head) => {
      seen.push(`CONNECT ${req.url}`)
      const [h, p] = String(req.url).split(':')
      const up = connectTcp(Number(p), h as string, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        up.write(head)
        up.pipe(socket)
        socket.pipe(up)
      })
      up.on('error', () => socket.destroy())
      socket.on('error', () => up.destroy())
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()))
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy }
    process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`
    delete process.env.NO_PROXY
    delete process.env.no_proxy
    process.env.STATECRAFT_CACHE = tempDir()
    try {
      const r = await run(tempDir(), `${tempDir()}/m.ckpt`, { via: 'controller' })
      expect(r.hosts[0]!.resources[0]!.error).toBeUndefined()
      expect(seen).toContain(`CONNECT ${hub.hubUrl.replace('http://', '')}`)
      expect(seen).toContain(`CONNECT ${hub.cdnUrl.replace('http://', '')}`)
    } finally {
      for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v)
      delete process.env.STATECRAFT_CACHE
      proxy.closeAllConnections()
      await new Promise((r) => proxy.close(r))
    }
  })

  it('via the controller without a pinned sha256: checks against the hash the hub announces', async () => {
    process.env.STATECRAFT_CACHE = tempDir()
    try {
      const dest = `${tempDir()}/m.ckpt`
      hub.cdnModes.push('corrupt')
      const r = await run(tempDir(), dest, { via: 'controller' })
      expect(r.ok).toBe(false)
      expect(r.hosts[0]!.resources[0]!.error!.message).toContain(`expected ${SIZE} bytes with sha256 ${hub.blobs.get('model.ckpt')!.sha256}; the file was discarded`)
      expect(existsSync(dest)).toBe(false)
    } finally {
      delete process.env.STATECRAFT_CACHE
    }
  })
})
