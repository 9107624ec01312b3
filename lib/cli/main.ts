import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { toStatecraftError } from '../core/errors.ts'
import { parseSetArgs } from '../core/recipe.ts'
import { loadInventory, selectHosts, type Inventory } from '../inventory/load.ts'
import { hostTarget } from '../inventory/targets.ts'
import { parseCli, shardOf, USAGE } from './args.ts'
import { loadRecipe } from './load-recipe.ts'
import { recipeHelp } from './recipe-help.ts'
import { renderHost, renderSummary } from './render.ts'
import { progressReporter } from './progress.ts'
import { loadPatch } from './patch.ts'
import { renderJunit } from './junit.ts'
import { simulatedHosts, simulatedRecipe, snapshotRecorder } from './snapshots.ts'

export interface CliIo {
  stdout: (s: string) => void
  stderr: (s: string) => void
  color: boolean
  cwd: string
  env: Record<string, string | undefined>
  signal?: AbortSignal
  /** Asks for a secret on a terminal; absent when there is none (CI, pipes). */
  prompt?: (question: string) => Promise<string>
}

export function version(): string {
  // lib/cli/ in the sources, dist/lib/cli/ in the build: the package root is two or three up.
  for (const rel of ['../../package.json', '../../../package.json']) {
    const url = new URL(rel, import.meta.url)
    if (existsSync(url)) return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version
  }
  return 'unknown'
}

/** The whole CLI as a function: returns the exit code and never exits the process. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  try {
    if (argv[0] === 'check') return await (await import('./check.ts')).runCheck(argv.slice(1), io)
    const args = parseCli(argv)
    if (args.help) {
      io.stdout(`${USAGE}\n\n${await helpOfRecipe(args.recipe, io.cwd)}\n`)
      return 0
    }
    if (args.version) {
      io.stdout(`statecraft ${version()}\n`)
      return 0
    }
    // --simulate: the hosts are the snapshots; no inventory is read and nothing is reached.
    const simulated = args.simulate.length > 0 ? simulatedHosts(args.simulate, io.cwd) : undefined
    const recipe = await loadRecipe(simulated ? simulatedRecipe(simulated.snapshots, args.recipe) : args.recipe, io.cwd)
    for (const s of simulated?.snapshots ?? []) io.stderr(`statecraft: ${s.host}: planned from a snapshot of ${s.recorded}, ${s.origin}; nothing is contacted\n`)
    const set = parseSetArgs(args.set, recipe)
    const invFile = args.inventory ? resolve(io.cwd, args.inventory) : resolve(io.cwd, 'hosts.yaml')
    const inv: Inventory | null = !simulated && (args.inventory || existsSync(invFile)) ? loadInventory(invFile) : null
    const selected = simulated ? [] : selectHosts(inv, args.hosts, args.group)
    const hosts = args.shard ? shardOf(selected, args.shard) : selected
    const render = { color: io.color, verbose: args.verbose, recipe: recipe.name, ...(args.diff ? { patch: await loadPatch() } : {}) }
    const recorder = args.snapshot ? snapshotRecorder(args.snapshot, io.cwd) : undefined
    // A snapshot is recorded by a plan, and a simulation is one: neither changes anything.
    const mode = args.plan || recorder || simulated ? 'plan' : 'apply'
    const progress = progressReporter({ tty: io.color, write: io.stderr })
    // The engine (and the shell scripts it sends) loads only for a run: --help, --version and bad
    // arguments answer without it.
    const { converge } = await import('../engine/converge.ts')
    const asker = becomeAsker(io)
    const report = await converge({
      recipe,
      mode,
      hosts: simulated ? simulated.targets : hosts.map((h) => hostTarget(inv, h)),
      ...(asker ? { askBecomePassword: asker } : {}),
      set,
      env: io.env,
      only: args.only,
      skip: args.skip,
      diff: args.diff,
      concurrency: args.concurrency,
      failFast: args.failFast,
      verifyArtifacts: args.verifyArtifacts,
      reboot: args.reboot,
      ...(args.rebootTimeout ? { rebootTimeout: args.rebootTimeout } : {}),
      ...(args.lockPath ? { lockPath: args.lockPath } : {}),
      ssh: { acceptNewHostKeys: args.acceptNewHostKeys, ...(io.env.HOME ? { home: io.env.HOME } : {}), ...(io.env.SSH_AUTH_SOCK ? { agentSocket: io.env.SSH_AUTH_SOCK } : {}) },
      ...(io.signal ? { signal: io.signal } : {}),
      ...(args.verbose ? { log: (l: string) => io.stderr(`${l}\n`) } : {}),
      onProgress: progress,
      ...(recorder ? { onSnapshot: recorder.onSnapshot } : {}),
      ...(args.json ? {} : { onHost: (h) => io.stdout(`${renderHost(h, mode, render)}\n`) }),
    })
    if (args.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`)
    else io.stdout(`${renderSummary(report, render)}\n`)
    if (args.junit) writeFileSync(resolve(io.cwd, args.junit), renderJunit(report, { name: recipe.name }))
    if (recorder) {
      const origin = `recorded from host ${args.hosts[0]} by a plan`
      if (recorder.write(recipe, version(), origin)) io.stderr(`statecraft: snapshot of ${args.hosts[0]} written to ${args.snapshot}\n`)
      else io.stderr(`statecraft: no snapshot written: host ${args.hosts[0]} failed before its probe\n`)
    }
    if (io.signal?.aborted) return 130
    // A host that waits for a restart is not converged: 1, as for a failure; its status says which.
    if (!report.ok) return 1
    if (mode === 'plan' && report.summary.changed + report.summary.pending > 0) return 2
    return 0
  } catch (e) {
    const err = toStatecraftError(e)
    io.stderr(`statecraft: ${err.message}\n`)
    return 1
  }
}

/** The options of the recipe a run would use; its loading error instead, when it does not load. */
async function helpOfRecipe(spec: string, cwd: string): Promise<string> {
  try {
    return recipeHelp(await loadRecipe(spec, cwd), spec)
  } catch (e) {
    return `Recipe ${spec}: ${toStatecraftError(e).message}`
  }
}

/**
 * Asks on the terminal for a host's sudo password — only for a host whose first exec found that
 * sudo needs one and whose inventory names no variable holding it; one question at a time, however
 * many hosts run at once. Without a terminal there is no asking: the run reports the fix instead.
 */
function becomeAsker(io: CliIo): ((host: string, user: string) => Promise<string>) | undefined {
  const prompt = io.prompt
  if (!prompt) return undefined
  let turn: Promise<unknown> = Promise.resolve()
  return (host, user) => {
    const asked = turn.then(() => prompt(`sudo password for ${user} on ${host} (empty if none): `))
    turn = asked.catch(() => undefined)
    return asked
  }
}
