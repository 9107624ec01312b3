/**
 * Loading a large inventory: 40,000 hosts in one group (2 MB of YAML).
 *
 *   npx tsx bench/inventory.ts [hosts]
 *
 * Speed is reported here, never asserted in the test suite.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadInventory, selectHosts } from '../lib/inventory/load.ts'

const n = Number(process.argv[2] ?? 40_000)
const dir = mkdtempSync(join(tmpdir(), 'sc-bench-inv-'))
try {
  const file = join(dir, 'hosts.yaml')
  let text = 'hosts:\n'
  for (let i = 0; i < n; i++) text += `  h${i}:\n    address: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n    groups: [gpu]\n`
  writeFileSync(file, `${text}groups:\n  gpu:\n    vars: { port: 9090 }\n`)
  const t0 = performance.now()
  const inv = loadInventory(file)
  const t1 = performance.now()
  const picked = selectHosts(inv, [], 'gpu')
  const t2 = performance.now()
  console.log(`${inv.hosts.size} hosts (${(text.length / 2 ** 20).toFixed(1)} MiB): load ${(t1 - t0).toFixed(0)} ms, select group of ${picked.length} ${(t2 - t1).toFixed(0)} ms`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
