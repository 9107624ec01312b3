/**
 * Cost per resource: first converge and no-op of a recipe with N small files and directories
 * (N/5 directories, each holding four files), on this machine through the local transport (the
 * same shell scripts an SSH host gets, without the network). Speed is reported, never asserted:
 *
 *   npx tsx bench/many-files.ts [N=5000]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { converge, defineRecipe, directory, file, LocalTransport } from '../lib/index.ts'

const N = Number(process.argv[2] ?? 5000)

const recipe = defineRecipe({
  name: 'many-files',
  options: { root: { required: true } },
  resources: ({ options }) => {
    const out = []
    for (let d = 0; d < N / 5; d++) {
      out.push(directory({ path: `${options.root}/d${d}`, mode: '0755' }))
      for (let f = 0; f < 4; f++) out.push(file({ path: `${options.root}/d${d}/f${f}.conf`, content: `key=${d}.${f}\n`, mode: '0644' }))
    }
    return out
  },
})

async function run(root: string, home: string): Promise<{ ms: number; trips: number; changed: number }> {
  const t0 = performance.now()
  const r = await converge({ recipe, hosts: [{ name: 'local', transport: new LocalTransport({ env: { ...process.env, HOME: home } }) }], mode: 'apply', set: { root } })
  const h = r.hosts[0]
  if (!h?.ok) throw new Error(`converge failed: ${JSON.stringify(h?.error ?? h?.resources.find((x) => x.error))}`)
  return { ms: performance.now() - t0, trips: h.roundTrips, changed: r.summary.changed }
}

const home = mkdtempSync(join(tmpdir(), 'sc-many-'))
try {
  const root = join(home, 'tree')
  const first = await run(root, home)
  console.log(`${N} resources, first converge: ${(first.ms / 1000).toFixed(2)} s, ${first.trips} round trips, ${first.changed} changed`)
  for (let i = 0; i < 3; i++) {
    const noop = await run(root, home)
    console.log(`${N} resources, no-op: ${(noop.ms / 1000).toFixed(2)} s, ${noop.trips} round trips, ${noop.changed} changed`)
  }
} finally {
  rmSync(home, { recursive: true, force: true })
}
