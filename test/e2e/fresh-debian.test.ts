import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { command, converge, defineRecipe, directory, download, file, line, symlink } from '../../lib/index.ts'
import { bytes, startHub, type Hub } from '../helpers/hub.ts'
import { startLab, type Lab, type LabHost } from '../helpers/lab.ts'
import { controllerHome } from '../helpers/sshd.ts'

// A fresh, booted Debian 12 host of the lab (systemd-nspawn over the run's debootstrap base):
// the CI smoke run that converges a new machine and checks that a second run changes nothing.
let lab: Lab
let host: LabHost
let hub: Hub
let home = ''

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'sc-ctl-'))
  const { pub } = controllerHome(home)
  lab = await startLab({ hosts: 1, authorizedKey: pub, services: false })
  host = lab.hosts[0] as LabHost
  appendFileSync(join(home, '.ssh', 'known_hosts'), `${host.address} ${host.hostKey}\n`)
  // On the gateway, so the host fetches from the hub itself, over the lab's bridge.
  hub = await startHub(lab.gateway)
  hub.addBlob('model.ckpt', bytes(1024 * 1024, 5))
}, 600_000)

afterAll(async () => {
  await hub?.close()
  await lab?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
  delete process.env.STATECRAFT_CACHE
})

const recipe = () =>
  defineRecipe({
    name: 'fresh-workstation',
    resources: () => [
      command({ id: 'user', argv: ['useradd', '-m', '-s', '/bin/sh', 'invoke'], unless: ['id', 'invoke'] }),
      directory({ path: '/home/invoke/invokeai/models/ldm/stable-diffusion-v1', mode: '0755', owner: 'invoke', after: ['user'] }),
      file({ path: '/home/invoke/invokeai/configs/invokeai.init', content: '--web\n--host=0.0.0.0\n', mode: '0644', owner: 'invoke', after: ['user'] }),
      line({ path: '/home/invoke/.profile', match: '^export PYTORCH_ENABLE_MPS_FALLBACK=', line: 'export PYTORCH_ENABLE_MPS_FALLBACK=1', after: ['user'] }),
      symlink({ path: '/home/invoke/current', target: 'invokeai', after: ['user'] }),
      // The host has curl: 'auto' takes the host route, from the hub on the lab's gateway.
      download({ id: 'ckpt', url: `${hub.hubUrl}/gated/sd/resolve/main/model.ckpt`, dest: '/home/invoke/invokeai/models/ldm/stable-diffusion-v1/model.ckpt', token: 'hf_good_token_123', via: 'auto' }),
    ],
  })

async function onHost(script: string): Promise<string> {
  const r = await host.exec(script)
  expect(r, `${script}: ${r.stderr}`).toMatchObject({ code: 0 })
  return r.stdout
}

describe('a fresh Debian host over SSH', () => {
  it('converges, then a second run changes nothing', async () => {
    process.env.STATECRAFT_CACHE = join(home, 'cache')
    const target = [{ name: 'fresh-1', ssh: { name: 'fresh-1', address: host.address, user: 'root' } }]
    const first = await converge({ recipe: recipe(), hosts: target, ssh: { home } })
    expect(first.hosts[0]!.error).toBeUndefined()
    expect(first.hosts[0]!.resources.filter((r) => r.status !== 'changed')).toEqual([])
    expect(await onHost('getent passwd invoke | cut -d: -f1,6')).toBe('invoke:/home/invoke\n')
    expect(await onHost('cat /home/invoke/invokeai/configs/invokeai.init')).toBe('--web\n--host=0.0.0.0\n')
    expect(await onHost('sha256sum < /home/invoke/invokeai/models/ldm/stable-diffusion-v1/model.ckpt')).toBe(`${hub.blobs.get('model.ckpt')!.sha256}  -\n`)
    expect(await onHost('grep -c PYTORCH_ENABLE_MPS_FALLBACK=1 /home/invoke/.profile; readlink /home/invoke/current')).toBe('1\ninvokeai\n')
    // The bytes came to the host by its own curl, not pushed from the controller.
    expect(hub.requests.filter((r) => r.origin === 'cdn' && r.method === 'GET').map((r) => r.headers['user-agent'])).toEqual([expect.stringMatching(/^curl\//)])

    const second = await converge({ recipe: recipe(), hosts: target, ssh: { home } })
    expect(second.summary).toMatchObject({ changed: 0, pending: 0, failed: 0, unchanged: 6 })
    expect(second.hosts[0]).toMatchObject({ roundTrips: 3, connections: 1 })
  }, 120_000)
})
