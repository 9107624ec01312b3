import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'

/**
 * A stand-in for a gated model hub and its CDN, on two loopback ports (two origins):
 * - hub: GET/HEAD /<repo>/resolve/main/<file> -> 401 without a token, 403 for a token whose
 *   licence is not accepted (both X-Error-Code: GatedRepo), else 302 to the CDN with
 *   X-Linked-Size and X-Linked-Etag (the sha256), as the real hub answers.
 * - cdn: the bytes, honouring Range; modes cut the body mid-way or serve corrupt bytes.
 * It counts the body bytes it sent and keeps every request's headers for assertions.
 */
export interface Blob {
  data: Buffer
  sha256: string
}

export interface Hub {
  hubUrl: string
  cdnUrl: string
  blobs: Map<string, Blob>
  /** Tokens whose owner accepted the licence. */
  goodTokens: Set<string>
  /** Gated repositories besides those under `gated/` (e.g. CompVis/stable-diffusion-v-1-4-original). */
  gatedRepos: Set<string>
  /** Next CDN responses: 'cut' sends about half of what is asked, then drops the connection. */
  cdnModes: ('ok' | 'cut' | 'corrupt' | '503' | 'slow' | 'stall')[]
  /** How many of the next hub HEAD requests get no answer at all (the connection stays open). */
  hangHeads: number
  bytesSent: number
  /** Body bytes of each CDN GET, with the Range start it asked for. */
  gets: { start: number; sent: number }[]
  requests: { origin: 'hub' | 'cdn'; method: string; url: string; headers: IncomingMessage['headers'] }[]
  addBlob(name: string, data: Buffer): Blob
  close(): Promise<void>
}

export function blobOf(data: Buffer): Blob {
  const h = createHash('sha256')
  // Hash.update takes at most 2 GiB at a time.
  for (let i = 0; i < data.length; i += 256 * 1024 * 1024) h.update(data.subarray(i, i + 256 * 1024 * 1024))
  return { data, sha256: h.digest('hex') }
}

/** Deterministic pseudo-random bytes (so tests need no fixtures). */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    b[i] = x >>> 16
  }
  return b
}

function listen(s: Server, host: string): Promise<number> {
  return new Promise((resolve) => s.listen(0, host, () => resolve((s.address() as { port: number }).port)))
}

/** `host`: where both origins listen (the e2e lab passes its gateway, so its hosts reach them). */
export async function startHub(host = '127.0.0.1'): Promise<Hub> {
  const hub: Hub = {
    hubUrl: '',
    cdnUrl: '',
    blobs: new Map(),
    goodTokens: new Set(['hf_good_token_123']),
    gatedRepos: new Set(),
    cdnModes: [],
    hangHeads: 0,
    bytesSent: 0,
    gets: [],
    requests: [],
    addBlob(name, data) {
      const b = blobOf(data)
      hub.blobs.set(name, b)
      return b
    },
    close: async () => {
      await Promise.all([hubServer, cdnServer].map((s) => new Promise((r) => (s.closeAllConnections(), s.close(r)))))
    },
  }
  const cdnServer = createServer((req, res) => {
    hub.requests.push({ origin: 'cdn', method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    const name = decodeURIComponent((req.url ?? '').replace(/^\/blob\//, ''))
    const blob = hub.blobs.get(name)
    if (!blob) return void res.writeHead(404).end('no such blob')
    const mode = req.method === 'GET' ? (hub.cdnModes.shift() ?? 'ok') : 'ok'
    if (mode === '503') return void res.writeHead(503, { 'Retry-After': '1' }).end('busy')
    const data = mode === 'corrupt' ? Buffer.from(blob.data.map((b) => b ^ 0xff)) : blob.data
    const m = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''))
    const start = m ? Number(m[1]) : 0
    if (start > data.length) return void res.writeHead(416).end()
    const body = data.subarray(start)
    const headers: Record<string, string | number> = { 'Content-Length': body.length, 'Accept-Ranges': 'bytes', ETag: `"${blob.sha256}"` }
    if (m) headers['Content-Range'] = `bytes ${start}-${data.length - 1}/${data.length}`
    res.writeHead(m ? 206 : 200, headers)
    if (req.method === 'HEAD') return void res.end()
    if (mode === 'stall') {
      // Half the body, then silence on an open connection: only a stall limit ends this.
      const half = body.subarray(0, Math.floor(body.length / 2))
      hub.bytesSent += half.length
      hub.gets.push({ start, sent: half.length })
      res.write(half)
      return
    }
    if (mode === 'cut') {
      const half = body.subarray(0, Math.floor(body.length / 2))
      hub.bytesSent += half.length
      hub.gets.push({ start, sent: half.length })
      res.write(half, () => setTimeout(() => res.socket?.destroy(), 50))
      return
    }
    hub.bytesSent += body.length
    if (req.method === 'GET') hub.gets.push({ start, sent: body.length })
    if (mode === 'slow') {
      // Eight slices over ~2.8 s: long enough for the host's progress reports.
      const step = Math.ceil(body.length / 8)
      let i = 0
      const next = (): void => {
        if (i >= body.length) return void res.end()
        res.write(body.subarray(i, i + step))
        i += step
        setTimeout(next, 350)
      }
      return next()
    }
    res.end(body)
  })
  const hubServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    hub.requests.push({ origin: 'hub', method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    if (req.method === 'HEAD' && hub.hangHeads > 0) return void hub.hangHeads--
    const m = /^\/(.+)\/resolve\/main\/(.+)$/.exec(req.url ?? '')
    const blob = m ? hub.blobs.get(decodeURIComponent(m[2] as string)) : undefined
    if (!m || !blob) return void res.writeHead(404, { 'X-Error-Code': 'EntryNotFound' }).end('Entry not found')
    const auth = String(req.headers.authorization ?? '')
    if (m[1]!.startsWith('gated/') || hub.gatedRepos.has(m[1]!)) {
      if (!auth) return void res.writeHead(401, { 'X-Error-Code': 'GatedRepo', 'X-Error-Message': 'Access to model is restricted. You must be authenticated to access it.' }).end()
      if (!hub.goodTokens.has(auth.replace(/^Bearer /, ''))) {
        return void res.writeHead(403, { 'X-Error-Code': 'GatedRepo', 'X-Error-Message': 'Access to model is restricted and you are not in the authorized list.' }).end()
      }
    }
    res.writeHead(302, { Location: `${hub.cdnUrl}/blob/${encodeURIComponent(m[2] as string)}`, 'X-Linked-Size': blob.data.length, 'X-Linked-Etag': `"${blob.sha256}"` }).end()
  })
  hub.hubUrl = `http://${host}:${await listen(hubServer, host)}`
  hub.cdnUrl = `http://${host}:${await listen(cdnServer, host)}`
  return hub
}
