/**
 * The first exec's cost: a plan of an empty recipe on the local machine (facts+lock, unlock), 10
 * runs each, median. Variants: the facts of the first release (the script as it was before the OS
 * version, package managers, memory and reboot facts), today's facts, and today's with the GPU.
 * Run: npx tsx bench/facts.ts
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { converge, defineRecipe, LocalTransport } from '../lib/index.ts'
import { posixDialect } from '../lib/shell/dialect.ts'
import { FACTS_SCRIPT } from '../lib/shell/posix/scripts.ts'

const FIRST_RELEASE = FACTS_SCRIPT.slice(0, FACTS_SCRIPT.indexOf('case $sc_kernel in'))
const home = mkdtempSync(join(tmpdir(), 'sc-bench-'))
const transport = () => new LocalTransport({ env: { ...process.env, HOME: home } })

async function median(label: string, facts: readonly 'gpu'[], patch?: () => string): Promise<void> {
  const original = posixDialect.facts
  if (patch) posixDialect.facts = patch
  const recipe = defineRecipe({ name: 'empty', facts, resources: () => [] })
  const ms: number[] = []
  for (let i = 0; i < 11; i++) {
    const t = performance.now()
    const r = await converge({ recipe, hosts: [{ name: 'local', transport: transport() }], mode: 'plan' })
    if (!r.ok) throw new Error(JSON.stringify(r.hosts[0]?.error))
    if (i > 0) ms.push(performance.now() - t) // the first warms the module cache
  }
  posixDialect.facts = original
  ms.sort((a, b) => a - b)
  console.log(`${label}: median ${((ms[4]! + ms[5]!) / 2).toFixed(1)} ms (min ${ms[0]!.toFixed(1)}, max ${ms[9]!.toFixed(1)})`)
}

await median('facts of the first release', [], () => FIRST_RELEASE)
await median('facts today', [])
await median("facts today + facts: ['gpu']", ['gpu'])
rmSync(home, { recursive: true, force: true })
