import { createReadStream, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { join, normalize, sep } from 'node:path'

export interface GitServer {
  /** `http://<host>:<port>`; a repository `<dir>/X.git` is `${url}/X.git`. */
  url: string
  /** Paths of the GET requests it answered (a test can see the host fetched over the network). */
  requests: string[]
  close(): Promise<void>
}

/**
 * git's dumb HTTP protocol: the bare repositories under `dir`, served as static files (info/refs,
 * objects/info/packs, loose objects and packs). Any git clones and fetches from it with no
 * server-side git; the repository must have had `git update-server-info` run after each change.
 * Read-only: GET and HEAD only, nothing outside `dir`.
 */
export async function startGitServer(dir: string, host = '127.0.0.1'): Promise<GitServer> {
  const root = normalize(dir)
  const requests: string[] = []
  const server = createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0] as string)
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { Allow: 'GET, HEAD' }).end()
    const path = normalize(join(root, url))
    if (path !== root && !path.startsWith(root + sep)) return void res.writeHead(403).end()
    let size: number
    try {
      const st = statSync(path)
      if (!st.isFile()) throw new Error('not a file')
      size = st.size
    } catch {
      return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n')
    }
    requests.push(url)
    res.writeHead(200, { 'Content-Length': size, 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-cache' })
    if (req.method === 'HEAD') return void res.end()
    createReadStream(path).pipe(res)
  })
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve((server.address() as { port: number }).port))
  })
  return {
    url: `http://${host}:${port}`,
    requests,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  }
}
