import { existsSync, readdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { RecipeError, ValidationError } from '../core/errors.ts'
import { recipeFrame } from '../core/site.ts'
import type { Recipe } from '../core/recipe.ts'

// Sources run as .ts (tsx, Node 24), the published build as .js: recipes ship beside lib/ in both.
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js'

const RECIPES = '../../recipes/'

/** The names `--recipe NAME` accepts: the modules in the package's recipes/ folder. */
export function builtinRecipes(): string[] {
  const dir = fileURLToPath(new URL(RECIPES, import.meta.url))
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => f.endsWith(EXT) && !f.endsWith(`.d${EXT}`))
    .map((f) => f.slice(0, -EXT.length))
    .sort()
}

export function recipePath(spec: string, cwd: string = process.cwd()): string {
  if (/^[a-z0-9][a-z0-9-]*$/.test(spec)) {
    const p = fileURLToPath(new URL(`${RECIPES}${spec}${EXT}`, import.meta.url))
    if (existsSync(p)) return p
    throw new ValidationError(
      `--recipe ${spec}: there is no built-in recipe of that name; the built-in recipes are: ${builtinRecipes().join(', ') || 'none'}. For your own recipe, give its path (--recipe ./my-recipe.ts)`,
    )
  }
  const p = resolve(cwd, spec)
  if (!existsSync(p)) throw new ValidationError(`--recipe ${spec}: file ${p} does not exist`)
  return p
}

/**
 * A recipe module's default export, by built-in name (`demo`) or path (relative to `cwd`).
 * @example
 * const recipe = await loadRecipe('./my-recipe.ts')
 */
export async function loadRecipe(spec: string, cwd: string = process.cwd()): Promise<Recipe<any>> {
  const p = recipePath(spec, cwd)
  let mod: { default?: unknown }
  try {
    mod = (await import(pathToFileURL(p).href)) as { default?: unknown }
  } catch (e) {
    // A recipe that throws while loading: point at its own line, not at the loader's.
    const at = recipeFrame((e as { stack?: string } | null)?.stack)
    if (at) {
      const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
      throw new RecipeError(`${at}: --recipe ${spec} threw while loading: ${what}; fix the recipe there (npx tsx provision.ts check --recipe ${spec} type-checks it)`, { cause: e })
    }
    throw new ValidationError(`--recipe ${spec}: cannot load ${p}: ${(e as Error).message}${hint(p, e)}`, { cause: e })
  }
  const r = mod.default as Partial<Recipe> | undefined
  if (!r || typeof r.name !== 'string' || typeof r.resources !== 'function') {
    throw new ValidationError(`--recipe ${spec}: ${p} must export default defineRecipe({ name, resources: (ctx) => [...] })`)
  }
  return r as Recipe<any>
}

/** Node before 22.18 cannot strip types: a `.ts` recipe (or one it imports) needs tsx there. */
function hint(p: string, e: unknown): string {
  const code = (e as { code?: string }).code
  if (code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !/\.[cm]?ts\b/.test(`${p} ${(e as Error).message}`)) return ''
  return `. This Node (${process.version}) cannot run TypeScript: run it under tsx (npx tsx node_modules/statecraft/provision.ts --recipe ${p} …, or node --import tsx your-script.mjs), or use Node >= 22.18, which strips types`
}
