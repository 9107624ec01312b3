import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Recipe } from '../core/recipe.ts'
import type { HostTarget } from '../engine/converge.ts'
import { readSnapshot, SnapshotError, snapshotFile, type HostSnapshot, type SnapshotFile } from '../engine/snapshot.ts'

/** --simulate: the recorded hosts, each a target that plans from its snapshot and reaches nothing. */
export function simulatedHosts(files: string[], cwd: string): { snapshots: SnapshotFile[]; targets: HostTarget[] } {
  const snapshots = files.map((f) => readSnapshot(resolve(cwd, f)))
  const seen = new Set<string>()
  for (const [i, s] of snapshots.entries()) {
    if (seen.has(s.host)) throw new SnapshotError(`snapshot ${files[i]}: host ${s.host} is in another of the --simulate files too; simulate each host once`)
    seen.add(s.host)
  }
  return { snapshots, targets: snapshots.map((s) => ({ name: s.host, snapshot: s, vars: s.vars, groupVars: s.groupVars })) }
}

/** The recipe a simulation plans: --recipe, else the one the snapshots were recorded with (all the same). */
export function simulatedRecipe(snapshots: SnapshotFile[], given: string): string {
  if (given) return given
  const names = [...new Set(snapshots.map((s) => s.recipe))]
  if (names.length !== 1) throw new SnapshotError(`the snapshots were recorded with different recipes (${names.join(', ')}): say which to plan with --recipe NAME`)
  return names[0] as string
}

/** --snapshot: collects the host's record during the plan; `write` puts it in the file. */
export function snapshotRecorder(file: string, cwd: string): { onSnapshot: (s: HostSnapshot) => void; write: (recipe: Recipe<any>, version: string, origin: string) => boolean } {
  let got: HostSnapshot | undefined
  return {
    onSnapshot: (s) => (got = s),
    write(recipe, version, origin) {
      // A host that failed before its probe (unreachable, locked) has nothing to record.
      if (!got) return false
      writeFileSync(resolve(cwd, file), `${JSON.stringify(snapshotFile(got, { statecraft: version, recipe: recipe.name, origin }), null, 2)}\n`)
      return true
    },
  }
}
