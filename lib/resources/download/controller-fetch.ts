import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { StatecraftError } from '../../core/errors.ts'

/**
 * The controller route (`via: 'controller'`): one download into a local cache, shared by every
 * host of the run, then pushed to each host over its connection. Resumes with Range, drops the
 * Authorization header on a cross-origin redirect, and verifies size and sha256 before the file
 * enters the cache.
 */
export interface Cached {
  path: string
  sha256: string
  size: number
}

export function cacheDir(): string {
  return process.env.STATECRAFT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'statecraft', 'downloads')
}

const inflight = new Map<string, Promise<Cached>>()

export type OnBytes = (bytes: number, total?: number) => void

/** stallMs: no answer or no bytes for this long and the request is cut (then retried, resuming). */
export async function fetchToCache(url: string, headers: Record<string, string>, want: { sha256?: string; size?: number }, dir = cacheDir(), onBytes?: OnBytes, stallMs = 60_000): Promise<Cached> {
  // Without a pinned hash, ask the hub which version it serves now: it names the cache entry
  // (so an upstream change is never served from an old copy) and is what the file is checked against.
  const target = want.sha256 ? want : { ...(await announced(url, headers, stallMs)), ...want }
  const key = createHash('sha1').update(`${url}\n${target.sha256 ?? ''}`).digest('hex')
  let p = inflight.get(key)
  if (!p) {
    p = fetchOnce(url, headers, target, join(dir, key), onBytes, stallMs).finally(() => inflight.delete(key))
    inflight.set(key, p)
  }
  return p
}

/** X-Linked-Etag / X-Linked-Size from a HEAD, following redirects by hand; empty if none. */
async function announced(url: string, headers: Record<string, string>, stallMs: number): Promise<{ sha256?: string; size?: number }> {
  const fetch = await proxiedFetch(stallMs)
  let current = new URL(url)
  let hdrs = { ...headers }
  for (let hop = 0; hop < 10; hop++) {
    const res = await fetch(current, { method: 'HEAD', headers: hdrs, redirect: 'manual' })
    const etag = res.headers.get('x-linked-etag')
    if (etag) {
      const size = Number(res.headers.get('x-linked-size'))
      return { sha256: etag.replace(/^W\//, '').replaceAll('"', '').toLowerCase(), ...(Number.isFinite(size) && size > 0 ? { size } : {}) }
    }
    const location = res.headers.get('location')
    if (res.status < 300 || res.status >= 400 || !location) return {}
    const next = new URL(location, current)
    if (next.origin !== current.origin) hdrs = withoutAuthorization(hdrs)
    current = next
  }
  return {}
}

function withoutAuthorization(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).filter(([k]) => k.toLowerCase() !== 'authorization'))
}

async function fetchOnce(url: string, headers: Record<string, string>, want: { sha256?: string; size?: number }, path: string, onBytes: OnBytes | undefined, stallMs: number): Promise<Cached> {
  const meta = `${path}.sha256`
  if (existsSync(path) && existsSync(meta)) {
    const [sha256 = '', size = ''] = readFileSync(meta, 'utf8').trim().split(' ')
    if (Number(size) === statSync(path).size && (!want.sha256 || want.sha256 === sha256)) return { path, sha256, size: Number(size) }
  }
  // The cache can hold gated models: only this user may read it.
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 })
  const part = `${path}.part`
  for (let attempt = 1; ; attempt++) {
    try {
      await fetchPart(url, headers, part, stallMs, want.size, onBytes)
      break
    } catch (e) {
      if (e instanceof StatecraftError || attempt >= 5) throw e
      await new Promise((r) => setTimeout(r, attempt * 500))
    }
  }
  const size = statSync(part).size
  const hash = createHash('sha256')
  await pipeline(createReadStream(part), hash)
  const sha256 = hash.digest('hex')
  if ((want.size !== undefined && size !== want.size) || (want.sha256 && sha256 !== want.sha256)) {
    rmSync(part, { force: true })
    throw new StatecraftError('E_VERIFY', `download via the controller: ${url} gave ${size} bytes with sha256 ${sha256}, expected ${want.size ?? '?'} bytes with sha256 ${want.sha256 ?? '?'}; the file was discarded`)
  }
  renameSync(part, path)
  writeFileSync(meta, `${sha256} ${size}\n`)
  return { path, sha256, size }
}

/**
 * undici's fetch with an agent that honours HTTP_PROXY / HTTPS_PROXY / NO_PROXY (Node's built-in
 * fetch ignores them); a custom CA comes from NODE_EXTRA_CA_CERTS, which Node's TLS reads itself.
 * Imported only when the controller route is used.
 */
async function proxiedFetch(stallMs: number): Promise<(url: URL, init: Record<string, unknown>) => Promise<Response>> {
  const { fetch: undiciFetch, EnvHttpProxyAgent } = await import('undici')
  const dispatcher = new EnvHttpProxyAgent({ headersTimeout: stallMs, bodyTimeout: stallMs })
  return (url, init) => undiciFetch(url, { ...init, dispatcher } as never) as unknown as Promise<Response>
}

/** One GET from where the .part ends, following redirects by hand. */
async function fetchPart(url: string, headers: Record<string, string>, part: string, stallMs: number, total?: number, onBytes?: OnBytes): Promise<void> {
  const fetch = await proxiedFetch(stallMs)
  let current = new URL(url)
  let hdrs = { ...headers }
  for (let hop = 0; hop < 10; hop++) {
    const have = existsSync(part) ? statSync(part).size : 0
    const res = await fetch(current, { headers: { ...hdrs, ...(have > 0 ? { Range: `bytes=${have}-` } : {}) }, redirect: 'manual' })
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      const next = new URL(res.headers.get('location') as string, current)
      // As curl does: credentials do not follow a redirect to another origin.
      if (next.origin !== current.origin) hdrs = withoutAuthorization(hdrs)
      current = next
      await res.body?.cancel()
      continue
    }
    if (res.status === 416 && have > 0) return void (await res.body?.cancel())
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel()
      const gated = res.headers.get('x-error-code') === 'GatedRepo' ? 'is gated' : `was refused (HTTP ${res.status})`
      throw new StatecraftError('E_GATED', `download via the controller: ${url} ${gated}: accept the licence at ${url.replace(/\/resolve\/.*$/, '')} and provide a token`)
    }
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
      await res.body?.cancel()
      throw new StatecraftError('E_HTTP', `download via the controller: ${url} answered HTTP ${res.status}`)
    }
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`)
    const append = res.status === 206 && have > 0
    let bytes = append ? have : 0
    let last = 0
    const body = Readable.fromWeb(res.body as never)
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      const now = Date.now()
      if (onBytes && now - last >= 1000) (last = now), onBytes(bytes, total)
    })
    await pipeline(body, createWriteStream(part, { flags: append ? 'a' : 'w' }))
    return
  }
  throw new StatecraftError('E_HTTP', `download via the controller: ${url}: too many redirects`)
}
