import { createRequire } from 'node:module'

/**
 * Regular expressions from recipes run in RE2 (re2js, pure JavaScript): matching takes time linear
 * in the input, so no pattern can freeze the controller (`^(a+)+$` against `aaaa…b` takes minutes
 * in JavaScript's backtracking engine, and Ctrl-C cannot interrupt it). RE2 has no lookaround and
 * no backreferences. Loaded on first use: most runs never need it.
 */
export interface RecipeRegex {
  test(s: string): boolean
}

let engine: typeof import('re2js') | undefined

/** Throws with RE2's message when the pattern is not valid RE2 syntax. */
export function recipeRegex(pattern: string): RecipeRegex {
  engine ??= createRequire(import.meta.url)('re2js') as typeof import('re2js')
  const re = engine.RE2JS.compile(pattern)
  return { test: (s) => re.test(s) }
}
