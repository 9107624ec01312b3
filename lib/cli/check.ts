import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { composeResources } from '../core/compose.ts'
import { toStatecraftError, ValidationError } from '../core/errors.ts'
import { optionTable } from '../core/option-table.ts'
import { parseSetArgs, resolveOptions, type Recipe } from '../core/recipe.ts'
import type { OsName } from '../core/types.ts'
import { buildGraph } from '../engine/graph.ts'
import { graphNode, prepare } from '../engine/node.ts'
import { CHECK_FACTS } from './check-facts.ts'
import { loadRecipe, recipePath } from './load-recipe.ts'
import type { CliIo } from './main.ts'

const OSES = Object.keys(CHECK_FACTS) as OsName[]

/**
 * `statecraft check [--recipe X] [--set K=V]… [--os linux,darwin,windows]`: type-checks the recipe
 * with the user's own TypeScript, then validates it against each OS's typical facts, connecting to
 * nothing. Exit 0 when both pass, 1 otherwise.
 */
export async function runCheck(argv: string[], io: CliIo): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({ args: argv, strict: true, options: { recipe: { type: 'string' }, set: { type: 'string', multiple: true }, os: { type: 'string' } } }))
  } catch (e) {
    throw new ValidationError(`check: ${(e as Error).message}. Usage: check [--recipe NAME|PATH] [--set KEY=VALUE]… [--os linux,darwin,windows]`)
  }
  const spec = values.recipe ?? 'invokeai'
  const oses = (values.os ?? OSES.join(',')).split(',').map((s) => s.trim()) as OsName[]
  for (const os of oses) if (!OSES.includes(os)) throw new ValidationError(`check --os ${values.os}: '${os}' is not one of ${OSES.join(', ')}`)
  const file = recipePath(spec, io.cwd)
  io.stdout(`Checking recipe ${spec} (${relative(io.cwd, file) || file})\n`)
  const typed = typeCheck(file, io)
  const recipe = await loadRecipe(spec, io.cwd)
  const set = parseSetArgs(values.set ?? [], recipe)
  let ok = typed
  for (const os of oses) {
    const { label, facts } = CHECK_FACTS[os]
    try {
      const options = resolveOptions(recipe, { set, env: withSecretStandIns(recipe, io.env) }, `check-${os}`)
      const nodes = prepare(composeResources(recipe, { facts, options, host: { name: `check-${os}`, vars: {} } }), facts)
      buildGraph(nodes.map(graphNode))
      io.stdout(`  ${label}: ok, ${nodes.length} resource${nodes.length === 1 ? '' : 's'} valid\n`)
    } catch (e) {
      ok = false
      const err = toStatecraftError(e)
      io.stdout(`  ${label}: ${err.code}: ${err.message}\n`)
    }
  }
  io.stdout(ok ? 'Check: ok\n' : 'Check: failed\n')
  return ok ? 0 : 1
}

/** Secrets are not needed to validate: an unset one gets a stand-in, so a check runs anywhere. */
function withSecretStandIns(recipe: Recipe<any>, env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...env }
  for (const e of optionTable(recipe)) if (e.def.secret && e.def.env && !out[e.def.env]) out[e.def.env] = 'statecraft-check-stand-in'
  return out
}

/**
 * `tsc --noEmit` on the recipe with the TypeScript installed where the recipe lives (the user's,
 * not ours). A throwaway project file next to the recipe extends the nearest tsconfig.json, if
 * any, and lists only the recipe, so the rest of the project is not checked.
 */
function typeCheck(file: string, io: CliIo): boolean {
  if (!/\.[cm]?ts$/.test(file)) {
    io.stdout(`  types: not checked (${basename(file)} is JavaScript)\n`)
    return true
  }
  let tsc: string
  try {
    const req = createRequire(file)
    const pkgFile = req.resolve('typescript/package.json')
    const bin = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { bin?: { tsc?: string } }).bin?.tsc ?? 'bin/tsc'
    tsc = join(dirname(pkgFile), bin)
  } catch {
    io.stdout(
      `  types: not checked: no TypeScript is installed for ${dirname(file)}. Install it and check again:\n` +
        `    npm install --save-dev typescript && npx tsc --noEmit --strict --module nodenext --allowImportingTsExtensions --skipLibCheck ${relative(io.cwd, file) || file}\n`,
    )
    return false
  }
  const base = nearestTsconfig(dirname(file))
  const project = join(dirname(file), `.statecraft-check-${process.pid}.json`)
  const compilerOptions = base
    ? { noEmit: true }
    : { noEmit: true, strict: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', allowImportingTsExtensions: true, skipLibCheck: true }
  try {
    writeFileSync(project, JSON.stringify({ ...(base ? { extends: base } : {}), compilerOptions, files: [basename(file)], include: [] }))
  } catch (e) {
    io.stdout(`  types: not checked: cannot write ${project} (${(e as Error).message}); run tsc yourself: ${relative(io.cwd, tsc) || tsc} --noEmit ${file}\n`)
    return false
  }
  try {
    const r = spawnSync(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { cwd: io.cwd, encoding: 'utf8' })
    if (r.status === 0) {
      io.stdout(`  types: ok (tsc --noEmit${base ? `, with ${relative(io.cwd, base) || base}` : ''})\n`)
      return true
    }
    const out = `${r.stdout}${r.stderr}`.trim().split('\n').map((l) => `    ${l}`).join('\n')
    io.stdout(`  types: tsc --noEmit found errors; fix them in the recipe:\n${out}\n`)
    return false
  } finally {
    rmSync(project, { force: true })
  }
}

function nearestTsconfig(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const f = resolve(d, 'tsconfig.json')
    if (existsSync(f)) return f
    if (dirname(d) === d) return undefined
  }
}
