import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createTcpServer, type Socket } from 'node:net'
import { afterEach } from 'vitest'

/** A real HTTP server on 127.0.0.1 (a free port), stopped after the test, also on failure. */
export interface HealthServer {
  url: string
  port: number
  /** The User-Agent of each request, in order. */
  agents: string[]
}

const stops: (() => Promise<void>)[] = []

afterEach(async () => {
  while (stops.length > 0) await (stops.pop() as () => Promise<void>)()
})

export async function healthServer(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void): Promise<HealthServer> {
  const agents: string[] = []
  const server = createServer((req, res) => {
    agents.push(String(req.headers['user-agent'] ?? ''))
    answer(agents.length, req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  stops.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))))
  const port = (server.address() as { port: number }).port
  return { url: `http://127.0.0.1:${port}`, port, agents }
}

/**
 * Like a model server that is still loading: 503 until 1.5 s have passed since its first request
 * (the probe's), and until it has refused at least `min` requests; then 200 with its JSON.
 */
export function loadingServer(body = '{"message":"Server Running"}', min = 2): Promise<HealthServer> {
  let first: number | undefined
  return healthServer((n, _req, res) => {
    first ??= Date.now()
    if (Date.now() - first < 1500 || n <= min) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('model loading\n')
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body)
  })
}

/** Accepts connections and never answers: the wait is bounded only by its timeouts. */
export async function silentServer(): Promise<{ url: string; connections: () => number }> {
  const sockets: Socket[] = []
  const server = createTcpServer((s) => void sockets.push(s))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  stops.push(() => new Promise((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/health`, connections: () => sockets.length }
}
