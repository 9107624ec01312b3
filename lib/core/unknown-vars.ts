import type { OptionEntry } from './option-table.ts'

/**
 * Inventory vars that match no option of the recipe being run, each worded with the closest
 * option: a typo (`fullPrecison`) or an old name (`host` for `bind`) would otherwise be ignored
 * silently. Warnings, not errors: one inventory serves several recipes.
 */
export function unknownVars(table: OptionEntry[], layers: { where: string; vars: Record<string, unknown> }[], recipe: string): string[] {
  const addresses = table.map((e) => e.address)
  const out: string[] = []
  for (const { where, vars } of layers) {
    for (const address of flatten(vars, addresses)) {
      const near = closest(address, addresses)
      out.push(`${where}: '${address}' matches no option of recipe '${recipe}'${near ? `; did you mean '${near}'?` : ''}`)
    }
  }
  return out
}

/** Addresses of the vars: a nested map counts as a prefix only where some option lives under it. */
function flatten(vars: Record<string, unknown>, addresses: string[], prefix = ''): string[] {
  const out: string[] = []
  for (const [k, v] of Object.entries(vars)) {
    const a = prefix ? `${prefix}.${k}` : k
    if (addresses.includes(a)) continue
    const nested = v !== null && typeof v === 'object' && !Array.isArray(v) && addresses.some((x) => x.startsWith(`${a}.`))
    if (nested) out.push(...flatten(v as Record<string, unknown>, addresses, a))
    else out.push(a)
  }
  return out
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined
  let bestD = Infinity
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase())
    if (d < bestD) [best, bestD] = [c, d]
  }
  // Too far to be the same word: still name the nearest when it is within half its length.
  return best !== undefined && bestD <= Math.max(2, Math.ceil(best.length / 2)) ? best : undefined
}

/** Edit distance counting a swap of two neighbours as one edit (`prot` is one from `port`). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  const at = (i: number, j: number): number => (d[i] as number[])[j] as number
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1)
      ;(d[i] as number[])[j] = v
    }
  }
  return at(a.length, b.length)
}
