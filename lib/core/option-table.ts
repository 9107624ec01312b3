import { ValidationError } from './errors.ts'
import type { Inclusion, OptionDef, Recipe } from './recipe.ts'

/** A recipe in the include tree, with the prefixes that lead to it (`[]` for the top one). */
export interface RecipeNode {
  recipe: Recipe<any>
  at: string[]
  parent?: RecipeNode
  inclusion?: Inclusion
}

/** One option as users address it: `port` for the top recipe, `prereq.port` for an included one. */
export interface OptionEntry {
  address: string
  key: string
  /** The option's definition, with the includer's `defaults` applied. */
  def: OptionDef
  /** The recipe that declares it, for messages. */
  recipe: string
  at: string[]
  /** Set by the including recipe: a value, or a function of the includer's own options. */
  fixed?: { value: unknown; by: string }
}

const PREFIX = /^[A-Za-z0-9_-]+$/

/** The include tree in declaration order, parents before children; rejects bad prefixes and cycles. */
export function recipeTree(root: Recipe<any>): RecipeNode[] {
  const out: RecipeNode[] = []
  const walk = (node: RecipeNode, stack: Recipe<any>[]): void => {
    out.push(node)
    const seen = new Set<string>()
    for (const inc of node.recipe.include ?? []) {
      const where = `recipe '${node.recipe.name}' includes recipe '${inc.recipe?.name}'`
      if (!inc.recipe || typeof inc.recipe.resources !== 'function') {
        throw new ValidationError(`recipe '${node.recipe.name}': an include entry is not a recipe; write include(otherRecipe, { prefix: 'name' })`)
      }
      if (!PREFIX.test(inc.prefix ?? '')) {
        throw new ValidationError(`${where} with prefix ${JSON.stringify(inc.prefix)}: a prefix uses letters, digits, dash and underscore (it becomes '<prefix>.<option>' and '<prefix>/<id>')`)
      }
      if (seen.has(inc.prefix)) throw new ValidationError(`${where} with prefix '${inc.prefix}', which another include of '${node.recipe.name}' already uses; give each include its own prefix`)
      seen.add(inc.prefix)
      if (stack.includes(inc.recipe)) {
        throw new ValidationError(`${where}, which includes '${node.recipe.name}' again (an include cycle: ${[...stack, inc.recipe].map((r) => r.name).join(' -> ')})`)
      }
      const defs = inc.recipe.options ?? {}
      for (const field of ['options', 'defaults'] as const) {
        for (const k of Object.keys(inc[field] ?? {})) {
          if (!(k in defs)) {
            throw new ValidationError(`${where} as '${inc.prefix}' and gives ${field} '${k}', which it does not declare. Its options: ${Object.keys(defs).join(', ') || '(none)'}`)
          }
        }
      }
      walk({ recipe: inc.recipe, at: [...node.at, inc.prefix], parent: node, inclusion: inc }, [...stack, inc.recipe])
    }
  }
  walk({ recipe: root, at: [] }, [root])
  return out
}

/** Every option of the tree, addressed as users set it. */
export function optionTable(root: Recipe<any>): OptionEntry[] {
  const out: OptionEntry[] = []
  for (const node of recipeTree(root)) {
    for (const [key, def] of Object.entries(node.recipe.options ?? {})) {
      if (key.includes('.')) throw new ValidationError(`recipe '${node.recipe.name}': option name '${key}' contains a dot, which is kept for addressing included recipes (prefix.option); rename it`)
      if (def.type === 'enum' && !(def.values && def.values.length > 0)) {
        throw new ValidationError(`recipe '${node.recipe.name}': option '${key}' has type 'enum' but no values; list them, e.g. values: ['a', 'b']`)
      }
      const inc = node.inclusion
      const entry: OptionEntry = {
        address: [...node.at, key].join('.'),
        key,
        def: inc?.defaults && key in inc.defaults ? { ...def, default: inc.defaults[key] } : def,
        recipe: node.recipe.name,
        at: node.at,
      }
      if (inc?.options && key in inc.options) entry.fixed = { value: inc.options[key], by: node.parent?.recipe.name ?? '' }
      out.push(entry)
    }
  }
  return out
}

/** The options one recipe of the tree sees: its own, un-prefixed. */
export function localOptions(table: OptionEntry[], resolved: Record<string, unknown>, at: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const here = at.join('.')
  for (const e of table) if (e.at.join('.') === here && e.address in resolved) out[e.key] = resolved[e.address]
  return out
}

/** A var by its address: a flat `prereq.port` key, or nested maps (`prereq: { port: … }`). */
export function lookupVar(vars: Record<string, unknown>, address: string): { found: boolean; value?: unknown } {
  if (Object.hasOwn(vars, address)) return { found: true, value: vars[address] }
  let cur: unknown = vars
  for (const seg of address.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, seg)) return { found: false }
    cur = (cur as Record<string, unknown>)[seg]
  }
  return { found: true, value: cur }
}
