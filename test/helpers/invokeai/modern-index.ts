import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { wheel } from './wheels.ts'

/**
 * InvokeAI 5/6 stand-ins for the lab, in Python's standard library only: an `invokeai` package
 * whose `invokeai-web --root DIR` reads DIR/invokeai.yaml (host, port, allow_origins) and serves
 * GET /api/v1/app/version as InvokeAI does, and a `torch` whose tensor op the smoke test runs (on
 * the CPU: the lab has no GPU). torch 2.7.1 is a broken build: its tensor op raises.
 */
const WEB = `import json, os, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
from . import __version__

def read_yaml(path):
    conf = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#') or ':' not in line:
                continue
            key, value = line.split(':', 1)
            value = value.strip()
            conf[key.strip()] = json.loads(value) if value[:1] in '"[' or value.isdigit() else value
    return conf

def run_app():
    args = sys.argv[1:]
    if '--root' not in args:
        sys.exit('invokeai-web (stand-in): --root DIR is required')
    root = args[args.index('--root') + 1]
    conf = read_yaml(os.path.join(root, 'invokeai.yaml'))
    host, port = conf.get('host', '127.0.0.1'), int(conf.get('port', 9090))
    with open(os.path.join(root, 'standin-events.log'), 'a') as f:
        f.write('%s serve %s pid=%d prefix=%s\\n' % (time.strftime('%H:%M:%S'), __version__, os.getpid(), sys.prefix))
    info = {'version': __version__, 'pid': os.getpid(), 'host': host, 'port': port, 'origins': conf.get('allow_origins', []), 'prefix': sys.prefix, 'root': root}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = {'/api/v1/app/version': {'version': __version__}, '/standin/info': info}.get(self.path)
            data = json.dumps(body, separators=(',', ':')).encode() if body is not None else b'{"detail":"Not Found"}'
            self.send_response(200 if body is not None else 404)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        def log_message(self, *a):
            pass

    HTTPServer((host, port), Handler).serve_forever()
`

const torch = (version: string, broken: boolean): string => `__version__ = ${JSON.stringify(`${version}+cpu`)}
float32 = 'float32'

class Tensor:
    def __init__(self, values):
        self.values = values
    def __mul__(self, k):
        return Tensor([v * k for v in self.values])
    def sum(self):
        return Tensor([sum(self.values)])
    def cpu(self):
        return self
    def __float__(self):
        return float(self.values[0])

def arange(n, dtype=None, device='cpu'):
    ${broken ? "raise RuntimeError('stand-in torch %s: this build is broken on purpose (statecraft e2e)' % __version__)" : "if device != 'cpu':\n        raise RuntimeError('stand-in torch: only the CPU is here, not %s' % device)"}
    return Tensor([float(i) for i in range(n)])

class cuda:
    @staticmethod
    def is_available():
        return False

class backends:
    class mps:
        @staticmethod
        def is_available():
            return False
`

export interface ModernIndex {
  /** The PEP 503 simple index: `${url}` is what pip's --index-url takes. */
  url: string
  /** Files pip fetched, in order. */
  fetched: string[]
  close(): Promise<void>
}

/** InvokeAI releases of the index and the torch each pins: 6.0.2 pins the broken torch. */
export const RELEASES: Record<string, string> = { '6.0.0': '2.7.0', '6.0.1': '2.7.0', '6.0.2': '2.7.1' }

export async function startModernIndex(host: string): Promise<ModernIndex> {
  const files = new Map<string, Buffer>()
  const projects = new Map<string, string[]>()
  const add = (project: string, w: { file: string; bytes: Buffer }): void => {
    files.set(w.file, w.bytes)
    projects.set(project, [...(projects.get(project) ?? []), w.file])
  }
  for (const [v, t] of Object.entries(RELEASES)) {
    add('invokeai', wheel('invokeai', v, { 'invokeai/__init__.py': `__version__ = ${JSON.stringify(v)}\n`, 'invokeai/web.py': WEB }, { requires: [`torch==${t}`], scripts: { 'invokeai-web': 'invokeai.web:run_app' } }))
  }
  for (const t of new Set(Object.values(RELEASES))) add('torch', wheel('torch', t, { 'torch/__init__.py': torch(t, t === '2.7.1') }))
  const fetched: string[] = []
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] as string
    const simple = /^\/simple\/([^/]+)\/$/.exec(path)
    if (simple) {
      const list = projects.get((simple[1] as string).toLowerCase())
      if (!list) return void res.writeHead(404).end('not found')
      const links = list.map((f) => `<a href="/files/${f}#sha256=${createHash('sha256').update(files.get(f) as Buffer).digest('hex')}">${f}</a>`)
      return void res.writeHead(200, { 'content-type': 'text/html' }).end(`<!DOCTYPE html><html><body>\n${links.join('<br>\n')}\n</body></html>\n`)
    }
    const file = /^\/files\/([^/]+)$/.exec(path)
    const bytes = file ? files.get(file[1] as string) : undefined
    if (!file || !bytes) return void res.writeHead(404).end('not found')
    fetched.push(file[1] as string)
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) }).end(bytes)
  })
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, host, ok))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${host}:${port}/simple`,
    fetched,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()) }),
  }
}
