import { relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Resource } from './types.ts'

/**
 * Where in a recipe a resource was declared, so that a mistake in it is reported at the recipe's
 * file:line:column. The stack is captured when the factory (`file({…})`) is called; V8 formats
 * it only when read, which is only when something about that resource goes wrong.
 */
// A registered symbol, not a WeakMap: a recipe loaded from outside the package declares its
// resources with its own copy of the library, and this copy must still find their sites.
const SITE = Symbol.for('statecraft.site')
type Sited = { [SITE]?: { stack?: string } }
const remember = (r: object, holder: { stack?: string } | undefined): void => {
  if (holder) Object.defineProperty(r, SITE, { value: holder, enumerable: false, configurable: true })
}

/**
 * The library's own folders, lib/ (the sources) and dist/lib/ (the build): their frames are never
 * the recipe's, whichever of the two declared the resource.
 */
const OWN = fileURLToPath(new URL('../', import.meta.url))
const ROOT = OWN.endsWith(`${sep}dist${sep}lib${sep}`) ? OWN.slice(0, -`dist${sep}lib${sep}`.length) : OWN.slice(0, -`lib${sep}`.length)
const LIB_DIRS = [`${ROOT}lib${sep}`, `${ROOT}dist${sep}lib${sep}`]

export function recordSite(r: Resource): void {
  const holder: { stack?: string } = {}
  Error.captureStackTrace(holder, recordSite)
  remember(r, holder)
}

/** A renamed copy of a resource (an included recipe's) keeps the original's site. */
export function copySite(from: Resource, to: Resource): void {
  if (from !== to) remember(to, (from as Sited)[SITE])
}

/** `recipe.ts:12:7` (relative to the working directory when inside it), or undefined when unknown. */
export function siteOf(r: Resource): string | undefined {
  return recipeFrame((r as Sited)[SITE]?.stack)
}

/** The first frame of a stack that is not the library's, Node's or a dependency's: the recipe's line. */
export function recipeFrame(stack: string | undefined): string | undefined {
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const m = /at (?:.*\()?((?:file:\/\/)?[^()\s]+):(\d+):(\d+)\)?\s*$/.exec(line)
    if (!m) continue
    let file = m[1] as string
    if (file.startsWith('file://')) file = fileURLToPath(file)
    if (file.startsWith('node:') || LIB_DIRS.some((d) => file.startsWith(d)) || file.includes(`${sep}node_modules${sep}`) || !file.startsWith(sep) && !/^[A-Za-z]:\\/.test(file)) continue
    return `${shortPath(file)}:${m[2]}:${m[3]}`
  }
  return undefined
}

function shortPath(file: string): string {
  const rel = relative(process.cwd(), file)
  return rel && !rel.startsWith('..') && !rel.startsWith(sep) ? rel : file
}
