import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { command, converge, defineRecipe, directory, download, file, line, symlink } from '../../lib/index.ts'
import { bytes, startHub, type Hub } from '../helpers/hub.ts'
import { makeRootfs, removeRootfs, startLabHost, type LabHost } from '../helpers/lab.ts'
import { controllerHome } from '../helpers/sshd.ts'

// A fresh Debian 12 host (debootstrap, sshd in a network namespace of its own): the CI smoke run
// that converges a new machine and checks that a second run changes nothing.
let rootfs = ''
let host: LabHost
let hub: Hub
let home = ''

beforeAll(async () => {
  rootfs = await makeRootfs()
  home = mkdtempSync(join(tmpdir(), 'sc-ctl-'))
  const { pub } = controllerHome(home)
  host = await startLabHost(rootfs, pub, 1)
  appendFileSync(join(home, '.ssh', 'known_hosts'), `${host.address} ${host.hostKey}\n`)
  hub = await startHub()
  hub.addBlob('model.ckpt', bytes(1024 * 1024, 5))
}, 240_000)

afterAll(async () => {
  await host?.stop()
  await hub?.close()
  if (rootfs) removeRootfs(rootfs)
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
      // A minbase host has no curl: 'auto' takes the controller route over the SSH connection.
      download({ id: 'ckpt', url: `${hub.hubUrl}/gated/sd/resolve/main/model.ckpt`, dest: '/home/invoke/invokeai/models/ldm/stable-diffusion-v1/model.ckpt', token: 'hf_good_token_123', via: 'auto' }),
    ],
  })

describe('a fresh Debian host over SSH', () => {
  it('converges, then a second run changes nothing', async () => {
    process.env.STATECRAFT_CACHE = join(home, 'cache')
    const target = [{ name: 'fresh-1', ssh: { name: 'fresh-1', address: host.address, user: 'root' } }]
    const first = await converge({ recipe: recipe(), hosts: target, ssh: { home } })
    expect(first.hosts[0]!.error).toBeUndefined()
    expect(first.hosts[0]!.resources.filter((r) => r.status !== 'changed')).toEqual([])
    const passwd = readFileSync(join(rootfs, 'etc/passwd'), 'utf8')
    expect(passwd).toMatch(/^invoke:/m)
    expect(readFileSync(join(rootfs, 'home/invoke/invokeai/configs/invokeai.init'), 'utf8')).toBe('--web\n--host=0.0.0.0\n')
    expect(readFileSync(join(rootfs, 'home/invoke/invokeai/models/ldm/stable-diffusion-v1/model.ckpt')).equals(hub.blobs.get('model.ckpt')!.data)).toBe(true)
    expect(existsSync(join(rootfs, 'home/invoke/.profile'))).toBe(true)

    const second = await converge({ recipe: recipe(), hosts: target, ssh: { home } })
    expect(second.summary).toMatchObject({ changed: 0, pending: 0, failed: 0, unchanged: 6 })
    expect(second.hosts[0]).toMatchObject({ roundTrips: 3, connections: 1 })
  })
})
