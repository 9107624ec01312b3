import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { converge, defineRecipe } from '../../lib/index.ts'
import { preflight, type PreflightOptions } from '../../recipes/invokeai/preflight.ts'
import { healthServer } from '../helpers/health-server.ts'
import { bytes, startHub, type Hub } from '../helpers/hub.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

let hub: Hub | undefined
afterEach(async () => {
  await hub?.close()
  hub = undefined
})

/** A port nothing listens on: the kernel's pick, released again. */
async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as { port: number }).port
  await new Promise((r) => srv.close(r))
  return port
}

/** The preflight alone, run by the engine on this machine: real df, ss, curl against real servers. */
async function plan(d: Partial<PreflightOptions> & { root: string; port: number }): Promise<{ status: string; error: string; warnings: string[] }> {
  const recipe = defineRecipe({
    name: 'pre',
    resources: () => [preflight({
      id: 'preflight', checkpoint: `${d.root}/models/model.ckpt`, checkpointBytes: 1024, envBytes: 1024, marginBytes: 1024,
      condaPrefix: `${d.root}/conda`, envName: 'invokeai', token: false, appleSilicon: false, problems: [], notes: [], ...d,
    })],
  })
  const r = await converge({ recipe, hosts: [{ name: 'local', transport: localHost(d.root) }], mode: 'plan' })
  const res = r.hosts[0]!.resources[0]!
  return { status: res.status, error: res.error?.message ?? '', warnings: r.hosts[0]!.warnings }
}

describe('invokeai preflight, its probe run for real on this machine', () => {
  it('a free port, room on the disk and a checkpoint already there: nothing to say', async () => {
    const root = tempDir()
    mkdirSync(`${root}/models`)
    writeFileSync(`${root}/models/model.ckpt`, 'w')
    const r = await plan({ root, port: await freePort() })
    expect(r).toMatchObject({ status: 'unchanged', error: '' })
  })

  it('every problem at once: the disk (df), the token, the port taken by another program (ss), the gated hub (curl), the notes as warnings', async () => {
    hub = await startHub()
    hub.addBlob('sd.ckpt', bytes(64, 3))
    const other = await healthServer((_n, _q, res) => res.writeHead(404).end('not InvokeAI'))
    const root = `${tempDir()}/not/yet/there`
    const r = await plan({ root, port: other.port, checkpointBytes: 10 ** 15, checkpointUrl: `${hub.hubUrl}/gated/sd/resolve/main/sd.ckpt`, hubToken: 'hf_not_accepted', token: true, notes: ['8.0 GB of memory'] })
    expect(r.status).toBe('failed')
    expect(r.error).toMatch(/^InvokeAI preflight found 3 problems; nothing was changed:/)
    expect(r.error).toMatch(/1\. not enough free disk at .*not\/yet\/there: [\d.]+ GB free, 931322\.6 GB needed/)
    expect(r.error).toMatch(new RegExp(`3\\. port ${other.port} is taken by another program on the host`))
    expect(r.error).toMatch(/2\. http:\/\/127\.0\.0\.1:\d+\/gated\/sd\/resolve\/main\/sd\.ckpt is gated \(Access to model is restricted and you are not in the authorized list\.\): accept the licence at http:\/\/127\.0\.0\.1:\d+\/gated\/sd/)
    expect(r.error).not.toContain('hf_not_accepted')
    expect(r.warnings).toEqual(['preflight: 8.0 GB of memory'])
    expect(hub.requests.find((q) => q.method === 'HEAD')?.headers.authorization).toBe('Bearer hf_not_accepted')
  })

  it('our own InvokeAI on the port is fine; an accepted token passes; no token at all is a problem only while the checkpoint is missing', async () => {
    hub = await startHub()
    hub.addBlob('sd.ckpt', bytes(64, 3))
    const ours = await healthServer((_n, req, res) => (req.url === '/flaskwebgui-keep-server-alive' ? res.end('{"message":"Server Running"}') : res.writeHead(404).end()))
    const root = tempDir()
    const ok = await plan({ root, port: ours.port, checkpointUrl: `${hub.hubUrl}/gated/sd/resolve/main/sd.ckpt`, hubToken: 'hf_good_token_123', token: true })
    expect(ok).toMatchObject({ status: 'unchanged', error: '' })
    const none = await plan({ root, port: ours.port })
    expect(none.error).toMatch(/1\. no Hugging Face token and the checkpoint is not there yet/)
  })
})
