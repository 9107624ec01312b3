import { composeResources } from '../lib/core/compose.ts'
import { resolveOptions, secretValues, type Recipe } from '../lib/core/recipe.ts'
import type { Facts, ProbeData } from '../lib/core/types.ts'
import { prepare, type PlanNode } from '../lib/engine/node.ts'
import { recordProbe, type HostSnapshot } from '../lib/engine/snapshot.ts'
import { checkoutReplies } from './replayed/checkout.ts'
import { fileReplies } from './replayed/files.ts'
import { serviceReplies } from './replayed/service.ts'
import { toolchainReplies } from './replayed/toolchain.ts'
import type { Replayed, ReplayedFs, Replies } from './replayed/types.ts'

export type { Entry, ReplayedFs } from './replayed/types.ts'

/**
 * Snapshots of hosts this machine cannot be (macOS, Windows), built from replayed outputs: each
 * probe is answered with the keys and shapes the fixture tables state for that OS, one family of
 * resource types per file under scripts/replayed/. A type no family replays throws, naming it:
 * record that recipe from a real host instead, or teach a family its probe.
 */
const FAMILIES: Replies[] = [fileReplies, toolchainReplies, checkoutReplies, serviceReplies]

export interface ReplayedHostState {
  /** What the file system holds (the file-level resources' state). */
  fs?: ReplayedFs
  /**
   * Which tools the recipe manages are installed and running as it wants them: all (true), none
   * (false, the default: a fresh host), or these resource ids.
   */
  converged?: boolean | readonly string[]
  /**
   * The controller's environment the options are resolved from, as `--simulate` will: a secret
   * option (HF_TOKEN) changes what a probe sends, and is masked in the probe's recorded hash.
   */
  env?: Record<string, string>
}

export function replayedSnapshot(recipe: Recipe<any>, host: string, facts: Facts, state: ReplayedHostState = {}): HostSnapshot {
  // As the engine's runHost does: options, their secrets, the nodes, then each probed node's secrets.
  const options = resolveOptions(recipe, { env: state.env ?? {} }, host)
  const secrets = secretValues(recipe, options)
  const nodes = prepare(composeResources(recipe, { facts, options, host: { name: host, vars: {} } }), facts, false, secrets).filter((n) => !n.handler)
  for (const n of nodes) secrets.push(...(n.kind.secrets?.(n.desired) ?? []))
  const c = state.converged ?? false
  const has = (id: string): boolean => (typeof c === 'boolean' ? c : c.includes(id))
  const h: Replayed = { facts, fs: state.fs ?? {}, has, nodes, hex: (s) => Buffer.from(s, 'utf8').toString('hex')[facts.dialect === 'powershell' ? 'toUpperCase' : 'toLowerCase']() }
  const probes = Object.fromEntries(nodes.map((n) => [n.id, recordProbe(n, n.kind.probe(n.desired, facts, { verifyArtifacts: false }), answer(n, h), secrets)]))
  return { host, facts, vars: {}, groupVars: [], probes }
}

function answer(n: PlanNode, h: Replayed): ProbeData {
  for (const family of FAMILIES) {
    const got = family(n, h)
    if (got) return got
  }
  throw new Error(`replayed ${h.facts.os} host: no replayed probe output for ${n.id} (a ${n.kind.type}); record this recipe from a real host (--snapshot), or add the ${n.kind.type} probe to a family in scripts/replayed/`)
}
