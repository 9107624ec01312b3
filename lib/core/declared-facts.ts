import { ValidationError } from './errors.ts'
import { recipeTree } from './option-table.ts'
import type { Recipe } from './recipe.ts'
import { COSTLY_FACTS, type CostlyFact, type Facts } from './types.ts'

/** The costly facts a recipe and the recipes it includes declare; the first exec gathers these. */
export function declaredFacts(recipe: Recipe<any>): CostlyFact[] {
  const wanted = new Set<CostlyFact>()
  for (const node of recipeTree(recipe)) {
    for (const f of node.recipe.facts ?? []) {
      if (!COSTLY_FACTS.includes(f)) {
        throw new ValidationError(`recipe '${node.recipe.name}': facts lists '${String(f)}', which is not a fact to declare; the costly facts are ${COSTLY_FACTS.join(', ')}`)
      }
      wanted.add(f)
    }
  }
  return COSTLY_FACTS.filter((f) => wanted.has(f))
}

/**
 * The facts as one recipe sees them: a costly fact it did not declare throws on read, even when
 * another recipe of the run declared it (so a recipe cannot lean on its includer's declaration,
 * and one included elsewhere keeps working). The getter is not enumerable: spreading or printing
 * the facts skips it instead of throwing.
 */
export function factsForRecipe(facts: Facts, recipe: Recipe<any>): Facts {
  const declared = recipe.facts ?? []
  const missing = COSTLY_FACTS.filter((f) => !declared.includes(f))
  if (missing.length === 0) return facts
  const view = Object.fromEntries(Object.entries(facts).filter(([k]) => !missing.includes(k as CostlyFact))) as unknown as Facts
  for (const f of missing) {
    Object.defineProperty(view, f, {
      enumerable: false,
      get() {
        throw new ValidationError(
          `recipe '${recipe.name}' reads facts.${f}, which it does not declare: add facts: ['${f}'] to its defineRecipe({ … }). ` +
            `The ${f} query costs time, so the first exec runs it only for recipes that ask`,
        )
      },
    })
  }
  return view
}
