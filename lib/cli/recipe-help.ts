import { optionTable } from '../core/option-table.ts'
import type { Recipe } from '../core/recipe.ts'

/**
 * `--help --recipe X`: the recipe's options as `--set` addresses them, with type, default and
 * where a secret comes from (its environment variable; never argv or the inventory).
 */
export function recipeHelp(recipe: Recipe<any>, spec: string): string {
  const rows = optionTable(recipe)
    .filter((e) => !e.fixed)
    .map((e) => {
      const d = e.def
      const type = d.type === 'enum' && d.values ? d.values.map((v) => String(v)).join('|') : (d.type ?? 'any')
      const facts = [
        d.secret ? `secret: from the environment variable ${d.env ?? '(none declared)'}` : undefined,
        d.default !== undefined && !d.secret ? `default ${JSON.stringify(d.default)}` : undefined,
        d.required ? 'required' : undefined,
        d.description,
      ].filter(Boolean)
      return [e.address, type, facts.join('; ')] as const
    })
  const head = `Recipe ${recipe.name} (--recipe ${spec})${recipe.description ? `: ${recipe.description}` : ''}`
  if (rows.length === 0) return `${head}\nIt has no options.`
  const w0 = Math.max(...rows.map((r) => r[0].length))
  const w1 = Math.max(...rows.map((r) => r[1].length))
  const lines = rows.map(([a, t, f]) => `  ${a.padEnd(w0)}  ${t.padEnd(w1)}  ${f}`.trimEnd())
  return `${head}\nIts options (--set KEY=VALUE, or host/group vars in the inventory; secrets only from their variable):\n${lines.join('\n')}`
}
