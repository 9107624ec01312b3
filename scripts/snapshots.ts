/**
 * Records the snapshots the project ships for a recipe (`npm run snapshots -- [RECIPE] [--out DIR]`,
 * default demo), into recipes/snapshots/<recipe>/ (or DIR):
 * - debian12-fresh / debian12-converged: recorded from this machine (a Debian 12 host), as
 *   `--snapshot` records, with HOME a fresh directory: a plan before, and a plan after an apply.
 * - macos-arm64-* and windows11-*: built from replayed outputs (scripts/replayed-snapshot.ts) of
 *   the fixture tables' Mac and Windows 11 hosts, fresh and with the recipe's state in place
 *   (the `converged` table below, per recipe).
 * Run it again after a recipe changes; the tests plan each shipped snapshot.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { loadRecipe } from '../lib/cli/load-recipe.ts'
import { version } from '../lib/cli/main.ts'
import type { Recipe } from '../lib/core/recipe.ts'
import type { Facts, OsName } from '../lib/core/types.ts'
import { converge } from '../lib/engine/converge.ts'
import { snapshotFile, type HostSnapshot } from '../lib/engine/snapshot.ts'
import { macArmFacts } from '../test/helpers/mac-facts.ts'
import { windowsFacts } from '../test/helpers/facts.ts'
import { replayedSnapshot, type ReplayedFs } from './replayed-snapshot.ts'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const REPLAYED = 'built from the replayed outputs of the fixture tables (scripts/replayed-snapshot.ts)'

/** The state a converged host of each OS holds, per recipe: what the replayed file system shows. */
const converged: Record<string, (f: Facts) => ReplayedFs> = {
  demo(f) {
    const win = f.os === 'windows'
    const j = (...p: string[]): string => [f.home, 'statecraft-demo', ...p].join(win ? '\\' : '/')
    const greeting = 'hello from statecraft'
    const dir = (perm: string) => ({ kind: 'directory' as const, perm, owner: f.user })
    const file = (perm: string, content: string) => ({ kind: 'file' as const, perm, owner: f.user, content })
    return {
      [j()]: dir('drwxr-xr-x'),
      [j('conf')]: dir('drwx------'),
      [j('hello.txt')]: file('-rw-r--r--', `${greeting}\n`),
      [j('conf', 'host.env')]: file('-rw-------', `HOST_OS=${f.os}\nHOST_ARCH=${f.arch}\n`),
      [j('profile')]: file('-rw-r--r--', `export DEMO_GREETING='${greeting}'\n`),
      [j('current')]: { kind: 'link', perm: f.os === 'darwin' ? 'lrwxr-xr-x' : 'lrwxrwxrwx', owner: f.user, target: 'hello.txt' },
      [j('stamp.txt')]: file('-rw-r--r--', 'Mon Dec  7 01:00:00 UTC 2026\n'),
    }
  },
}

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
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' } } })
  const recipe = await loadRecipe(positionals[0] ?? 'demo', ROOT)
  const state = converged[recipe.name]
  if (!state) throw new Error(`no converged state for recipe ${recipe.name} in scripts/snapshots.ts: add one to build its macOS and Windows snapshots`)
  const out = values.out ?? join(ROOT, 'recipes', 'snapshots', recipe.name)
  mkdirSync(out, { recursive: true })
  const write = (file: string, h: HostSnapshot, origin: string): void => {
    writeFileSync(join(out, `${file}.json`), `${JSON.stringify(snapshotFile(h, { statecraft: version(), recipe: recipe.name, origin }), null, 2)}\n`)
    console.log(`wrote ${join(out, `${file}.json`)} (${Object.keys(h.probes).length} resources)`)
  }
  const local = await recordLocal(recipe)
  const here = local.fresh.facts
  if (here.distro?.id !== 'debian' || here.osVersion !== '12') throw new Error(`the debian12 snapshots are recorded on a Debian 12 machine; this one is ${here.distro?.id ?? here.os} ${here.osVersion ?? ''}`)
  const os: OsName = local.fresh.facts.os
  write('debian12-fresh', local.fresh, `recorded from a ${os} host (${local.fresh.facts.distro?.id} ${local.fresh.facts.osVersion}) by a plan, HOME a fresh directory`)
  write('debian12-converged', local.converged, `recorded from a ${os} host (${local.fresh.facts.distro?.id} ${local.fresh.facts.osVersion}) by a plan after an apply`)
  for (const [file, host, facts] of [['macos-arm64', 'studio-mac', macArmFacts], ['windows11', 'gaming-pc', windowsFacts]] as const) {
    write(`${file}-fresh`, replayedSnapshot(recipe, host, facts, {}), `${REPLAYED}: a fresh host`)
    write(`${file}-converged`, replayedSnapshot(recipe, host, facts, state(facts)), `${REPLAYED}: the recipe's state in place`)
  }
}

await main()
