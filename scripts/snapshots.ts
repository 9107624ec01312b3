/**
 * Records the snapshots the project ships for a recipe
 * (`npm run snapshots -- [RECIPE] [--out DIR] [--replayed-only]`, default demo), into
 * recipes/snapshots/<recipe>/ (or DIR):
 * - debian12-fresh / debian12-converged: recorded from this machine (a Debian 12 host), as
 *   `--snapshot` records, with HOME a fresh directory: a plan before, and a plan after an apply.
 *   Not for a recipe whose Debian pair comes from the lab (invokeai: `npm run smoke -- --snapshots
 *   recipes/snapshots/invokeai`), nor with --replayed-only.
 * - macos-arm64-* and windows11-*: built from replayed outputs (scripts/replayed-snapshot.ts) of
 *   the fixture tables' Mac and Windows 11 hosts, fresh and with the recipe's state in place
 *   (scripts/replayed/states.ts, per recipe). Reproducible: a file whose content is the same but
 *   for its `recorded` time is left as it is.
 * Run it again after a recipe changes; the tests plan each shipped snapshot.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { loadRecipe } from '../lib/cli/load-recipe.ts'
import { version } from '../lib/cli/main.ts'
import type { Recipe } from '../lib/core/recipe.ts'
import { declaredFacts } from '../lib/core/declared-facts.ts'
import type { Facts, OsName } from '../lib/core/types.ts'
import { converge } from '../lib/engine/converge.ts'
import { snapshotFile, type HostSnapshot } from '../lib/engine/snapshot.ts'
import { macArmFacts } from '../test/helpers/mac-facts.ts'
import { windowsFacts } from '../test/helpers/facts.ts'
import { replayedSnapshot } from './replayed-snapshot.ts'
import { REPLAYED_GPU, REPLAYS } from './replayed/states.ts'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const REPLAYED = 'built from the replayed outputs of the fixture tables (scripts/replayed-snapshot.ts)'

async function recordLocal(recipe: Recipe<any>): Promise<{ fresh: HostSnapshot; converged: HostSnapshot }> {
  const home = mkdtempSync(join(tmpdir(), 'statecraft-snapshot-'))
  try {
    const plan = async (): Promise<HostSnapshot> => {
      let got: HostSnapshot | undefined
      const report = await converge({ recipe, hosts: [{ name: 'debian12', local: true }], mode: 'plan', env: { ...process.env, HOME: home }, lockPath: join(home, '.statecraft', 'run.lock'), onSnapshot: (s) => (got = s) })
      if (!got) throw new Error(`the plan on this machine recorded nothing: ${JSON.stringify(report.hosts[0]?.error)}`)
      return got
    }
    const before = await runWithHome(home, plan)
    const applied = await runWithHome(home, () => converge({ recipe, hosts: [{ name: 'debian12', local: true }], env: { ...process.env, HOME: home }, lockPath: join(home, '.statecraft', 'run.lock') }))
    if (!applied.ok) throw new Error(`the apply on this machine failed: ${JSON.stringify(applied.hosts[0]?.error ?? applied.hosts[0]?.resources.filter((r) => r.error))}`)
    return { fresh: before, converged: await runWithHome(home, plan) }
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

/** The local transport's shell and the facts read HOME from the process environment. */
async function runWithHome<T>(home: string, f: () => Promise<T>): Promise<T> {
  const was = process.env.HOME
  process.env.HOME = home
  try {
    return await f()
  } finally {
    process.env.HOME = was
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' }, 'replayed-only': { type: 'boolean' } } })
  const recipe = await loadRecipe(positionals[0] ?? 'demo', ROOT)
  const replay = REPLAYS[recipe.name]
  if (!replay) throw new Error(`no replayed state for recipe ${recipe.name} in scripts/replayed/states.ts: add one to build its macOS and Windows snapshots`)
  const out = values.out ?? join(ROOT, 'recipes', 'snapshots', recipe.name)
  mkdirSync(out, { recursive: true })
  const write = (file: string, h: HostSnapshot, origin: string): void => {
    const path = join(out, `${file}.json`)
    const next = snapshotFile(h, { statecraft: version(), recipe: recipe.name, origin })
    if (existsSync(path)) {
      const { recorded, ...was } = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
      const { recorded: _now, ...now } = next
      // The same content: keep the file (and its recorded time), so a re-run changes nothing.
      if (JSON.stringify(was) === JSON.stringify(now) && typeof recorded === 'string') {
        console.log(`unchanged ${path} (${Object.keys(h.probes).length} resources)`)
        return
      }
    }
    writeFileSync(path, `${JSON.stringify(next, null, 2)}\n`)
    console.log(`wrote ${path} (${Object.keys(h.probes).length} resources)`)
  }
  if (replay.debian === 'lab') {
    console.log(`debian12-*: recipe ${recipe.name}'s Debian 12 snapshots are recorded from a lab host (npm run smoke -- --snapshots recipes/snapshots/${recipe.name}), not here`)
  } else if (values['replayed-only']) {
    console.log('debian12-*: not recorded (--replayed-only)')
  } else {
    const local = await recordLocal(recipe)
    const here = local.fresh.facts
    if (here.distro?.id !== 'debian' || here.osVersion !== '12') throw new Error(`the debian12 snapshots are recorded on a Debian 12 machine; this one is ${here.distro?.id ?? here.os} ${here.osVersion ?? ''}`)
    const os: OsName = local.fresh.facts.os
    write('debian12-fresh', local.fresh, `recorded from a ${os} host (${local.fresh.facts.distro?.id} ${local.fresh.facts.osVersion}) by a plan, HOME a fresh directory`)
    write('debian12-converged', local.converged, `recorded from a ${os} host (${local.fresh.facts.distro?.id} ${local.fresh.facts.osVersion}) by a plan after an apply`)
  }
  // The costly facts the recipe declares, as the fixture tables give these hosts.
  const withGpu = (f: Facts, os: 'darwin' | 'windows'): Facts => (declaredFacts(recipe).includes('gpu') ? { ...f, gpu: REPLAYED_GPU[os] } : f)
  for (const [file, host, facts] of [['macos-arm64', 'studio-mac', withGpu(macArmFacts, 'darwin')], ['windows11', 'gaming-pc', withGpu(windowsFacts, 'windows')]] as const) {
    const env = replay.env ?? {}
    write(`${file}-fresh`, replayedSnapshot(recipe, host, facts, { env }), `${REPLAYED}: a fresh host`)
    write(`${file}-converged`, replayedSnapshot(recipe, host, facts, { fs: replay.converged(facts), converged: true, env }), `${REPLAYED}: the recipe's state in place`)
  }
}

await main()
