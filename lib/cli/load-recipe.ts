import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ValidationError } from '../core/errors.ts'
import type { Recipe } from '../core/recipe.ts'

// Sources run as .ts (tsx, Node 24), the published build as .js: recipes ship beside lib/ in both.
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js'

export function recipePath(spec: string, cwd: string): string {
  if (/^[a-z0-9][a-z0-9-]*$/.test(spec)) {
    const p = fileURLToPath(new URL(`../../recipes/${spec}${EXT}`, import.meta.url))
    if (existsSync(p)) return p
    throw new ValidationError(`--recipe ${spec}: there is no built-in recipe of that name (looked for ${p}); give a path to a recipe module instead`)
  }
  const p = resolve(cwd, spec)
  if (!existsSync(p)) throw new ValidationError(`--recipe ${spec}: file ${p} does not exist`)
  return p
}

export async function loadRecipe(spec: string, cwd: string): Promise<Recipe<any>> {
  const p = recipePath(spec, cwd)
  let mod: { default?: unknown }
  try {
    mod = (await import(pathToFileURL(p).href)) as { default?: unknown }
  } catch (e) {
    throw new ValidationError(`--recipe ${spec}: cannot load ${p}: ${(e as Error).message}`, { cause: e })
  }
  const r = mod.default as Partial<Recipe> | undefined
  if (!r || typeof r.name !== 'string' || typeof r.resources !== 'function') {
    throw new ValidationError(`--recipe ${spec}: ${p} must export default defineRecipe({ name, resources: (ctx) => [...] })`)
  }
  return r as Recipe<any>
}
