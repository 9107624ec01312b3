import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { command, converge, defineRecipe, download } from '../../lib/index.ts'
import { bytes, startHub, type Hub } from '../helpers/hub.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

// Every case here hung before: vitest's own 30 s limit is what a regression would hit.
let hub: Hub
const SIZE = 2 * 1024 * 1024 + 5
beforeAll(async () => {
  hub = await startHub()
  hub.addBlob('model.ckpt', bytes(SIZE, 3))
})
afterAll(async () => hub?.close())

const hosts = () => [{ name: 'local', transport: localHost(tempDir()) }]

describe('nothing waits forever', () => {
  it('an unless guard that never ends fails the plan after probeTimeout, naming its resource', async () => {
    const recipe = defineRecipe({ name: 'g', resources: () => [command({ id: 'stuck-guard', argv: ['true'], unless: ['sleep', '1000'] })] })
    const r = await converge({ recipe, hosts: hosts(), mode: 'plan', probeTimeout: 2 })
    expect(r.ok).toBe(false)
    expect(r.hosts[0]!.error!.message).toMatch(/^host local: the probe of stuck-guard did not finish within 2s \(a guard that never ends or waits for input\?\); nothing was changed/)
  })

  it('a command silent for longer than idleTimeout is stopped; one that keeps printing is not', async () => {
    const dir = tempDir()
    const recipe = defineRecipe({
      name: 'idle',
      resources: () => [
        command({ id: 'silent', argv: ['sleep', '1000'], creates: `${dir}/never`, idleTimeout: 1 }),
        command({ id: 'chatty', argv: ['sh', '-c', 'for i in 1 2 3 4 5 6; do echo $i; sleep 0.4; done; touch done'], cwd: dir, creates: `${dir}/done`, idleTimeout: 1 }),
      ],
    })
    const r = await converge({ recipe, hosts: hosts() })
    const [silent, chatty] = r.hosts[0]!.resources
    expect(silent!.error!.message).toBe('sleep 1000 was stopped after 1s without any output: (no output on stderr)')
    expect(chatty!.status).toBe('changed')
  })

  it.each([
    ['a password prompt', 'printf "Password: " >&2; sleep 100', 'Password:'],
    ['a yes/no question', 'printf "Do you want to continue? [Y/n] "; sleep 100', 'Do you want to continue? [Y/n]'],
  ])('a command that stops at %s fails at once, naming the prompt', async (_what, script, prompt) => {
    const dir = tempDir()
    const recipe = defineRecipe({ name: 'ask', resources: () => [command({ id: 'ask', argv: ['sh', '-c', script], creates: `${dir}/never`, promptTimeout: 1 })] })
    const r = await converge({ recipe, hosts: hosts() })
    expect(r.hosts[0]!.resources[0]!.error!.message).toContain(`stopped to wait for input (${JSON.stringify(prompt)}) and was ended after 1s: statecraft gives commands no input`)
  })

  it('output that merely mentions a password is not a prompt', async () => {
    const dir = tempDir()
    const recipe = defineRecipe({ name: 'talk', resources: () => [command({ argv: ['sh', '-c', 'echo "password updated"; sleep 1.5; touch done'], cwd: dir, creates: `${dir}/done`, promptTimeout: 1 })] })
    expect((await converge({ recipe, hosts: hosts() })).ok).toBe(true)
  })

  it.each(['host', 'controller'] as const)('a download whose server stalls mid-body is cut after stallTimeout and resumed (via %s)', async (via) => {
    const dest = `${tempDir()}/model.ckpt`
    hub.gets.length = 0
    hub.cdnModes.push('stall')
    if (via === 'controller') process.env.STATECRAFT_CACHE = tempDir()
    try {
      const recipe = defineRecipe({ name: 'dl', resources: () => [download({ url: `${hub.hubUrl}/m/resolve/main/model.ckpt`, dest, stallTimeout: 2, via })] })
      const r = await converge({ recipe, hosts: hosts() })
      expect(r.hosts[0]!.resources[0]!.error).toBeUndefined()
      expect(readFileSync(dest).equals(hub.blobs.get('model.ckpt')!.data)).toBe(true)
      const [stalled, rest] = hub.gets as [{ start: number; sent: number }, { start: number; sent: number }]
      expect(hub.gets).toHaveLength(2)
      expect(rest.start).toBeGreaterThan(0)
      expect(rest.start).toBeLessThanOrEqual(stalled.sent)
    } finally {
      delete process.env.STATECRAFT_CACHE
    }
  })

  it('a HEAD that never answers does not hang the plan', async () => {
    const dest = `${tempDir()}/model.ckpt`
    hub.hangHeads = 1
    const recipe = defineRecipe({ name: 'dl', resources: () => [download({ url: `${hub.hubUrl}/m/resolve/main/model.ckpt`, dest, stallTimeout: 2 })] })
    const r = await converge({ recipe, hosts: hosts(), mode: 'plan' })
    hub.hangHeads = 0
    const res = r.hosts[0]!.resources[0]!
    expect(`${res.changes.join(' ')} ${res.error?.message ?? ''}`).toMatch(/download|HEAD|answer/)
  })
})
