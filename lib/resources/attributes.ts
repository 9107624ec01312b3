import type { Change, ChangeOp, Step } from '../core/types.ts'
import type { Stat } from '../shell/stat.ts'

/** mode and owner, shared by file and directory. */
export type AttributeOp = { op: 'chmod'; mode: string } | { op: 'chown'; owner: string }

export function attributeChanges(d: { mode?: string; owner?: string }, c: Stat, creating: boolean): Change<AttributeOp>[] {
  const out: Change<AttributeOp>[] = []
  if (d.mode && (creating || c.mode !== d.mode)) {
    out.push({ op: 'chmod', mode: d.mode, text: creating ? `set mode ${d.mode}` : `set mode ${d.mode} (was ${c.mode})` })
  }
  if (d.owner && (creating || c.owner !== d.owner)) {
    out.push({ op: 'chown', owner: d.owner, text: creating ? `set owner ${d.owner}` : `set owner ${d.owner} (was ${c.owner})` })
  }
  return out
}

/** chown before chmod: changing the owner can clear setuid/setgid bits that the mode sets. */
export function attributeSteps(path: string, changes: readonly Change<ChangeOp>[]): Step[] {
  const chown = changes.find((c): c is Change<{ op: 'chown'; owner: string }> => c.op === 'chown')
  const chmod = changes.find((c): c is Change<{ op: 'chmod'; mode: string }> => c.op === 'chmod')
  return [...(chown ? [{ argv: ['chown', '--', chown.owner, path], quick: true }] : []), ...(chmod ? [{ argv: ['chmod', '--', chmod.mode, path], quick: true }] : [])]
}
