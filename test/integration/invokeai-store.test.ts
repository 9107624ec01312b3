import { existsSync, readFileSync, readlinkSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { composeResources, converge, defineRecipe, include, resolveOptions } from '../../lib/index.ts'
import type { Facts } from '../../lib/core/types.ts'
import invokeai from '../../recipes/invokeai.ts'
import modern from '../../recipes/invokeai-modern.ts'
import { linuxFacts } from '../helpers/facts.ts'
import { bytes, startHub, type Hub } from '../helpers/hub.ts'
import { planRecipe } from '../helpers/plan-recipe.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

/**
 * Both InvokeAI flows on one host (a studio trying InvokeAI 6 beside its 2022 install): the
 * checkpoint is one download into the shared model store, and each install links to it.
 */
const studio = defineRecipe({
  name: 'studio',
  include: [
    include(invokeai, { prefix: 'classic' }),
    include(modern, { prefix: 'modern', defaults: { checkpoint: 'sd-v1-4-full-ema.ckpt' } }),
  ],
  resources: () => [],
})
const FILE = 'sd-v1-4-full-ema.ckpt'
/** git, curl and build-essential there (dpkg-query's output): the download, which needs curl, is planned at once. */
const TOOLS = {
  'classic/prereq/tools': { manager: 'apt', installed: Buffer.from('git\tinstall ok installed\t1:2.39.5-0+deb12u1\ncurl\tinstall ok installed\t7.88.1-10+deb12u5\nbuild-essential\tinstall ok installed\t12.9\n').toString('hex') },
  'modern/curl': { manager: 'apt', installed: Buffer.from('curl\tinstall ok installed\t7.88.1-10+deb12u5\n').toString('hex') },
}
const cpu: Facts = { ...linuxFacts, gpu: { vendor: 'none', devices: [] } }

let hub: Hub
let sha256 = ''
const SIZE = 4096
beforeAll(async () => {
  hub = await startHub()
  sha256 = hub.addBlob(FILE, bytes(SIZE, 7)).sha256
})
afterAll(async () => hub?.close())

/** The stand-in checkpoint for both recipes: the same option values, as a user would set them once per recipe. */
const overrides = () => ({ 'classic.checkpointSha256': sha256, 'classic.checkpointSize': SIZE, 'modern.checkpointSha256': sha256, 'modern.checkpointSize': SIZE })

describe('one model store for recipes/invokeai and recipes/invokeai-modern on the same host', () => {
  it('the plan of both together has one download, into the store, waiting for both preflights; each install has its own link', () => {
    const r = planRecipe(studio, cpu, { env: { HF_TOKEN: 'hf_store_test', HF_ENDPOINT: hub.hubUrl }, set: overrides(), probes: TOOLS })
    const store = '/home/ana/.local/share/statecraft/models'
    const downloads = r.order.filter((x) => x.id.startsWith('download:'))
    expect(downloads.map((x) => x.id)).toEqual([`download:${store}/${FILE}`])
    expect(downloads[0]?.changes).toEqual([`download ${hub.hubUrl}/CompVis/stable-diffusion-v-1-4-original/resolve/main/${FILE} to ${store}/${FILE} (4096 bytes), sha256 from the recipe`])
    expect(r.order.filter((x) => x.id.startsWith('directory:')).map((x) => x.id)).toEqual([`directory:${store}`])
    expect(r.order.map((x) => x.id)).toEqual(expect.arrayContaining(['classic/checkpoint', 'modern/checkpoint']))
    expect(JSON.stringify(r)).not.toContain('hf_store_test')
    // Kept once, it waits for each recipe's own gate and restarts each one's service.
    const options = resolveOptions(studio, { set: overrides(), hostVars: {}, env: { HF_ENDPOINT: hub.hubUrl } }, 'h')
    const dl = composeResources(studio, { facts: cpu, options, host: { name: 'h', vars: {} } }).find((x) => x.kind.type === 'download')
    expect([dl?.after, dl?.notify]).toEqual([['classic/preflight', 'classic/prereq/tools', 'modern/room', 'modern/curl'], ['classic/service', 'modern/service']])
  })

  it('a store declared differently by the two (another modelStore) is two stores, two downloads: the default is what they agree on', () => {
    const r = planRecipe(studio, cpu, { env: { HF_TOKEN: 'hf_store_test', HF_ENDPOINT: hub.hubUrl }, set: { ...overrides(), 'modern.modelStore': '/data/models' } })
    expect(r.order.filter((x) => x.id.startsWith('download:')).map((x) => x.id)).toEqual([
      `download:/home/ana/.local/share/statecraft/models/${FILE}`, `download:/data/models/${FILE}`,
    ])
  })

  it('applied on a local host (temp HOME, --only models): one GET of the checkpoint, both links point at the store; a second run changes nothing', async () => {
    const home = tempDir()
    const set = { ...overrides(), 'classic.root': `${home}/invokeai`, 'modern.root': `${home}/invokeai-modern` }
    const run = () => converge({ recipe: studio, hosts: [{ name: 'local', transport: localHost(home) }], set, env: { HF_TOKEN: 'hf_store_test', HF_ENDPOINT: hub.hubUrl }, only: ['models'] })
    const before = hub.requests.length
    const r = await run()
    expect(r.hosts[0]!.resources.filter((x) => x.error).map((x) => `${x.id}: ${String(x.error?.message)}`)).toEqual([])
    expect(r.ok).toBe(true)
    const store = `${home}/.local/share/statecraft/models`
    const gets = hub.requests.slice(before).filter((q) => q.method === 'GET' && q.url.endsWith(FILE))
    // The hub's GET redirects to the CDN's: one of each, for the one download.
    expect(gets.map((q) => q.origin).sort()).toEqual(['cdn', 'hub'])
    expect(readFileSync(`${store}/${FILE}`).length).toBe(SIZE)
    expect(readlinkSync(`${home}/invokeai/models/ldm/stable-diffusion-v1/model.ckpt`)).toBe(`${store}/${FILE}`)
    expect(readlinkSync(`${home}/invokeai-modern/models/statecraft/${FILE}`)).toBe(`${store}/${FILE}`)
    expect(readFileSync(`${home}/invokeai/models/ldm/stable-diffusion-v1/model.ckpt`).length).toBe(SIZE)
    const again = await run()
    expect(again.summary).toMatchObject({ changed: 0, failed: 0 })
    expect(hub.requests.slice(before).filter((q) => q.method === 'GET' && q.url.endsWith(FILE))).toHaveLength(2)
  })

  it('removing the 2022 install (state absent) keeps the store and the modern flow\'s link to it', async () => {
    const home = tempDir()
    const set = { ...overrides(), 'classic.root': `${home}/invokeai`, 'modern.root': `${home}/invokeai-modern` }
    const env = { HF_TOKEN: 'hf_store_test', HF_ENDPOINT: hub.hubUrl }
    const target = { name: 'local', transport: localHost(home) }
    expect((await converge({ recipe: studio, hosts: [target], set, env, only: ['models'] })).ok).toBe(true)
    const gone = await converge({ recipe: invokeai, hosts: [{ name: 'local', transport: localHost(home) }], set: { root: `${home}/invokeai`, removeModels: true, state: 'absent' }, env, only: ['removal'] })
    expect(gone.hosts[0]!.resources.map((x) => x.error)).toEqual([undefined])
    expect(existsSync(`${home}/invokeai`)).toBe(false)
    const store = `${home}/.local/share/statecraft/models`
    expect(readFileSync(`${store}/${FILE}`).length).toBe(SIZE)
    expect(readFileSync(`${home}/invokeai-modern/models/statecraft/${FILE}`).length).toBe(SIZE)
  })
})
