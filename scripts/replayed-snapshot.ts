import { composeResources } from '../lib/core/compose.ts'
import { resolveOptions, type Recipe } from '../lib/core/recipe.ts'
import type { Facts, ProbeData } from '../lib/core/types.ts'
import { prepare, type PlanNode } from '../lib/engine/node.ts'
import { recordProbe, type HostSnapshot } from '../lib/engine/snapshot.ts'

/**
 * Snapshots of hosts this machine cannot be (macOS, Windows), built from a replayed file system:
 * each probe is answered with the keys and shapes the fixture tables state for that OS
 * (test/helpers/facts.ts, test/unit/resources/*, test/helpers/windows-host.ts): `ls -ld` perms on
 * a Mac, `kind=`/`size=` and upper-case hex on Windows. A type this model does not replay throws,
 * naming it: record that recipe from a real host instead, or teach the model its probe.
 */
export type Entry =
  | { kind: 'directory'; perm?: string; owner?: string }
  | { kind: 'file'; perm?: string; owner?: string; content: string }
  | { kind: 'link'; perm?: string; owner?: string; target: string }

export type ReplayedFs = Record<string, Entry>

export function replayedSnapshot(recipe: Recipe<any>, host: string, facts: Facts, fs: ReplayedFs): HostSnapshot {
  const options = resolveOptions(recipe, {}, host)
  const nodes = prepare(composeResources(recipe, { facts, options, host: { name: host, vars: {} } }), facts).filter((n) => !n.handler)
  const probes = Object.fromEntries(nodes.map((n) => [n.id, recordProbe(n, n.kind.probe(n.desired, facts, { verifyArtifacts: false }), answer(n, facts, fs), [])]))
  return { host, facts, vars: {}, groupVars: [], probes }
}

function answer(n: PlanNode, facts: Facts, fs: ReplayedFs): ProbeData {
  const d = n.desired as Record<string, unknown>
  const ps = facts.dialect === 'powershell'
  const hex = (s: string): string => (ps ? Buffer.from(s, 'utf8').toString('hex').toUpperCase() : Buffer.from(s, 'utf8').toString('hex'))
  const at = (p: unknown): Entry | undefined => fs[String(p)] ?? (ps ? Object.entries(fs).find(([k]) => k.toLowerCase() === String(p).toLowerCase())?.[1] : undefined)
  const stat = (p: unknown): [string, string][] => {
    const e = at(p)
    if (!e) return [['kind', 'absent']]
    // Sc-Stat prints no permissions (NTFS has ACLs), and a file's size; sc_stat prints ls -ld's.
    if (ps) return e.kind === 'file' ? [['kind', 'file'], ['size', String(Buffer.byteLength(e.content))]] : [['kind', e.kind]]
    return [['kind', e.kind], ['perm', e.perm ?? ''], ['owner', e.owner ?? facts.user]]
  }
  const content = (p: unknown): [string, string][] => {
    const e = at(p)
    return e?.kind === 'file' ? [...(ps ? [] : ([['size', String(Buffer.byteLength(e.content))]] as [string, string][])), ['content', hex(e.content)]] : []
  }
  switch (n.kind.type) {
    case 'directory': {
      const e = at(d.path)
      const empty = e?.kind === 'directory' && !Object.keys(fs).some((k) => k.startsWith(`${String(d.path)}${ps ? '\\' : '/'}`))
      return new Map([...stat(d.path), ...(d.state === 'absent' && e ? ([['empty', empty ? '1' : '0']] as [string, string][]) : [])])
    }
    case 'file':
      return new Map([...stat(d.path), ...(d.content !== undefined ? content(d.path) : [])])
    case 'line':
      return new Map([...stat(d.path), ...content(d.path)])
    case 'symlink': {
      const e = at(d.path)
      return new Map([...stat(d.path), ...(e?.kind === 'link' ? ([['target', hex(e.target)]] as [string, string][]) : [])])
    }
    case 'command':
      if (d.unless !== undefined) break
      return new Map(d.creates !== undefined ? [['creates', at(d.creates) ? '1' : '0']] : [])
  }
  throw new Error(`replayed ${facts.os} host: no replayed probe output for ${n.id} (a ${n.kind.type}); record this recipe from a real host (--snapshot), or add the ${n.kind.type} probe to scripts/replayed-snapshot.ts`)
}
