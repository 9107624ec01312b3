import { isDeepStrictEqual } from 'node:util'
import { factsForRecipe } from './declared-facts.ts'
import { hasCode, RecipeError, ValidationError } from './errors.ts'
import { copySite, recipeFrame } from './site.ts'
import { localOptions, optionTable, recipeTree, type RecipeNode } from './option-table.ts'
import type { Recipe, RecipeContext } from './recipe.ts'
import type { Resource } from './types.ts'

interface Declared {
  r: Resource
  id: string
  node: RecipeNode
}

/**
 * The resources of a recipe and of the recipes it includes (theirs first, depth first), for one
 * host. `ctx.options` holds the resolved options by address, as `resolveOptions` returns them.
 *
 * An included recipe's explicit ids become `<prefix>/<id>`, and its `after`/`notify` names of its
 * own ids (and of its includes', as `<its prefix>/<id>`) follow. A default id (`file:/etc/x`) names the thing on the host, so two recipes that
 * declare it identically share it (kept once, after and notifying what either orders it after and
 * notifies); declared differently it is an error naming both.
 */
export function composeResources(recipe: Recipe<any>, ctx: RecipeContext): Resource[] {
  const table = optionTable(recipe)
  const nodes = recipeTree(recipe)
  const out: Declared[] = []
  // By id, so that finding a twin is a lookup, not a scan of everything declared so far.
  const byId = new Map<string, Declared[]>()
  // Children before their includer: prerequisites first, as a reader of the recipe expects.
  const emit = (node: RecipeNode): void => {
    for (const child of nodes.filter((n) => n.parent === node)) emit(child)
    const own = recipeResources(node, { ...ctx, facts: factsForRecipe(ctx.facts, node.recipe), options: localOptions(table, ctx.options, node.at) })
    const prefix = node.at.join('/')
    const ownIds = new Set(own.flatMap((r) => (r.id !== undefined ? [r.id] : [])))
    // A recipe names its includes' resources as it sees them (`b/say`); included itself, those move too.
    const childPrefixes = (node.recipe.include ?? []).map((i) => `${i.prefix}/`)
    const mine = (id: string): boolean => ownIds.has(id) || childPrefixes.some((c) => id.startsWith(c))
    const rename = (id: string): string => (prefix && mine(id) ? `${prefix}/${id}` : id)
    for (const r of own) {
      const renamed: Resource = prefix ? { ...r, ...(r.id !== undefined ? { id: rename(r.id) } : {}), after: r.after.map(rename), notify: r.notify.map(rename) } : r
      copySite(r, renamed)
      const id = renamed.id ?? safeDefaultId(renamed, ctx)
      const twin = id === undefined ? undefined : byId.get(id)?.find((d) => d.node !== node)
      if (!twin || id === undefined) {
        const d = { r: renamed, id: id ?? '', node }
        out.push(d)
        byId.set(d.id, [...(byId.get(d.id) ?? []), d])
        continue
      }
      const diff = differences(twin.r, renamed, ctx)
      if (diff.length === 0) {
        // The same thing on the host, ordered or watched differently by each recipe (each waits on
        // its own preflight, notifies its own service): kept once, after and notifying all of them.
        const merged: Resource = { ...twin.r, after: union(twin.r.after, renamed.after), notify: union(twin.r.notify, renamed.notify) }
        copySite(twin.r, merged)
        twin.r = merged
        continue
      }
      throw new ValidationError(
        `resource id '${id}' is declared by ${who(twin.node)} and by ${who(node)}, differently (${diff.join(', ')}); ` +
          'declare it the same way in both, or give one an explicit id',
      )
    }
  }
  emit(nodes[0] as RecipeNode)
  return resolveUpward(out)
}

/**
 * An included recipe may be handed an includer's id as an option value (`after: ['preflight']`
 * from the recipe that includes it). Where the includer is itself included, that id moved to
 * `<its prefix>/preflight`: a name that is no resource is looked up in the enclosing recipes,
 * nearest first. Names found nowhere stay, for the graph to report.
 */
function resolveUpward(out: Declared[]): Resource[] {
  const ids = new Set(out.map((d) => d.id))
  return out.map((d) => {
    const up = (a: string): string => {
      if (ids.has(a)) return a
      for (let n = d.node.at.length - 1; n >= 1; n--) {
        const candidate = `${d.node.at.slice(0, n).join('/')}/${a}`
        if (ids.has(candidate)) return candidate
      }
      return a
    }
    if (d.r.after.every((a) => ids.has(a)) && d.r.notify.every((a) => ids.has(a))) return d.r
    const fixed: Resource = { ...d.r, after: d.r.after.map(up), notify: d.r.notify.map(up) }
    copySite(d.r, fixed)
    return fixed
  })
}

/**
 * A recipe's resources() call: what it throws is the recipe's mistake, reported at the recipe's
 * own line (the first stack frame outside the library), not as an internal error.
 */
function recipeResources(node: RecipeNode, ctx: RecipeContext): Resource[] {
  let own: unknown
  try {
    own = node.recipe.resources(ctx)
  } catch (e) {
    const at = recipeFrame((e as { stack?: string } | null)?.stack)
    const where = `${at ? `${at}: ` : ''}recipe '${node.recipe.name}'`
    const what = e instanceof Error ? `${e.name}: ${e.message}` : `it threw ${String(e)}`
    const err = hasCode(e, 'E_VALIDATION') || hasCode(e, 'E_RECIPE')
      ? new ValidationError(`${where}: ${(e as Error).message}`, { cause: e })
      : new RecipeError(`${where} failed while building its resources: ${what}; fix the recipe there (npx tsx provision.ts check --recipe FILE type-checks it)`, { cause: e })
    // The report counts the recipe as the failed item (see ResourceFault in engine/node.ts).
    throw Object.assign(err, { resource: { id: `recipe:${node.recipe.name}`, type: 'recipe' } })
  }
  if (!Array.isArray(own)) {
    throw new RecipeError(`recipe '${node.recipe.name}': resources() returned ${own === null ? 'null' : typeof own}, not an array; return the list of resources, e.g. resources: () => [file({ … })]`)
  }
  return own as Resource[]
}

function who(n: RecipeNode): string {
  return n.at.length ? `recipe '${n.recipe.name}' (included as '${n.at.join('.')}')` : `recipe '${n.recipe.name}'`
}

/** The desired state as the engine will see it (paths normalised), or as written when invalid. */
function normalised(r: Resource, ctx: RecipeContext): unknown {
  try {
    return r.kind.validate(r.desired, ctx.facts)
  } catch {
    return r.desired
  }
}

/** Ids come from the normalised declaration, so one path written two ways is one id; invalid input is left for validate() to name. */
function safeDefaultId(r: Resource, ctx: RecipeContext): string | undefined {
  try {
    return r.kind.defaultId(normalised(r, ctx))
  } catch {
    return undefined
  }
}

/** The fields two declarations differ in, after normalising: names only, since values may be secret. */
function differences(a: Resource, b: Resource, ctx: RecipeContext): string[] {
  if (a.kind.type !== b.kind.type) return ['type']
  const out: string[] = []
  const da = (normalised(a, ctx) ?? {}) as Record<string, unknown>
  const db = (normalised(b, ctx) ?? {}) as Record<string, unknown>
  for (const k of new Set([...Object.keys(da), ...Object.keys(db)])) if (!isDeepStrictEqual(da[k], db[k])) out.push(k)
  for (const k of ['tags', 'become'] as const) if (!isDeepStrictEqual(a[k], b[k])) out.push(k)
  return out
}

const union = (a: string[], b: string[]): string[] => [...new Set([...a, ...b])]
