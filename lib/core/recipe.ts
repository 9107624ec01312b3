import { lazy } from './lazy.ts'
import { coerceOption, type OptionType } from './coerce.ts'
import { ValidationError } from './errors.ts'
import { localOptions, lookupVar, optionTable, type OptionEntry } from './option-table.ts'
import type { CostlyFact, Facts, Resource } from './types.ts'

// Only for a --set value that is not a plain word (plainWord): loaded on first use (lazy.ts).
const yaml = lazy<typeof import('yaml')>('yaml')

export type { OptionType } from './coerce.ts'

export interface OptionDef {
  /** Values from `--set`, the inventory and the environment are coerced to it and checked; without it they pass as given. */
  type?: OptionType
  /** The allowed values of an `enum` option. */
  values?: readonly (string | number)[]
  default?: unknown
  description?: string
  /** Secret options are read from `env` only, never from argv or the inventory, and are redacted. */
  secret?: boolean
  /**
   * An environment variable of the controller: a secret option's only source; for other options a
   * layer above the default and below the inventory (`HF_ENDPOINT`, as the tool it configures reads it).
   */
  env?: string
  required?: boolean
}

export interface RecipeContext<O extends Record<string, unknown> = Record<string, unknown>> {
  facts: Facts
  /** This recipe's own options, un-prefixed, also in an included recipe. */
  options: O
  host: { name: string; vars: Record<string, unknown> }
}

/** A fixed value, or a function of the includer's own options (`unknown` would swallow the function's parameter type). */
export type FixedOptions = Record<string, ((includer: Record<string, any>) => unknown) | string | number | boolean | null | undefined | object>

/** One recipe inside another: see `include()`. */
export interface Inclusion {
  recipe: Recipe<any>
  prefix: string
  /** Values the including recipe fixes; users cannot set these. A function gets the includer's own options. */
  options?: FixedOptions
  /** New defaults; users can still set them as `<prefix>.<option>`. */
  defaults?: Record<string, unknown>
}

export interface Recipe<O extends Record<string, unknown> = Record<string, unknown>> {
  name: string
  description?: string
  /** Recipes whose resources come before this one's, their options addressed as `<prefix>.<option>`. */
  include?: Inclusion[]
  options?: Record<string, OptionDef>
  /**
   * Costly facts this recipe reads (`['gpu']`): only then does the first exec gather them.
   * Reading one without declaring it throws a ValidationError.
   */
  facts?: readonly CostlyFact[]
  resources: (ctx: RecipeContext<O>) => Resource[]
}

type Value<D> = D extends { type: 'number' } ? number
  : D extends { type: 'boolean' } ? boolean
  : D extends { type: 'enum'; values: readonly (infer V)[] } ? V
  : D extends { type: 'string' | 'path' } ? string
  : D extends { default: infer T } ? T
  : unknown
/** `ctx.options` from the option definitions: an option with neither a default nor `required` may be absent. */
export type OptionsOf<Defs extends Record<string, OptionDef>> = {
  [K in keyof Defs]: Defs[K] extends { default: {} } | { required: true } ? Value<Defs[K]> : Value<Defs[K]> | undefined
}

/**
 * Identity helper: gives recipe authors type inference and nothing else. With typed `options`,
 * `ctx.options` is typed from them; or name the options type: `defineRecipe<{ dir: string }>(…)`.
 */
export function defineRecipe<const D extends Record<string, OptionDef>>(r: Recipe<OptionsOf<D>> & { options: D }): Recipe<OptionsOf<D>>
export function defineRecipe<O extends Record<string, unknown> = Record<string, unknown>>(r: Recipe<O>): Recipe<O>
export function defineRecipe(r: Recipe<any>): Recipe<any> {
  return r
}

/**
 * Composes recipes: the included recipe's resources run first, its options are addressed as
 * `<prefix>.<option>` and its explicit ids become `<prefix>/<id>`.
 * @example
 * defineRecipe({ name: 'app', include: [include(prereqs, { prefix: 'prereq', options: { dir: (o) => o.root } })], … })
 */
export function include(recipe: Recipe<any>, opts: { prefix: string; options?: FixedOptions; defaults?: Record<string, unknown> }): Inclusion {
  return { recipe, prefix: opts.prefix, ...(opts.options ? { options: opts.options } : {}), ...(opts.defaults ? { defaults: opts.defaults } : {}) }
}

/**
 * `--set key=value` pairs; values are YAML scalars (`true`, `12`, `'0644'`). Given the recipe,
 * a typed option keeps its text, so its type decides (`--set mode=0644` on a string stays "0644").
 */
/**
 * A value YAML reads as the same string: a letter, `_` or `/` first, then letters, digits and
 * `_./-`, and none of YAML 1.2's null and boolean words (numbers, `.inf` and every indicator start
 * otherwise). Most values are such paths and names: they need no YAML parser loaded at start-up.
 */
export function plainWord(raw: string): boolean {
  return /^[A-Za-z_/][A-Za-z0-9_./-]*$/.test(raw) && !/^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL)$/.test(raw)
}

export function parseSetArgs(pairs: string[], recipe?: Recipe<any>): Record<string, unknown> {
  const typed = new Set(recipe ? optionTable(recipe).filter((e) => e.def.type).map((e) => e.address) : [])
  const out: Record<string, unknown> = {}
  for (const p of pairs) {
    const eq = p.indexOf('=')
    if (eq <= 0) throw new ValidationError(`--set ${JSON.stringify(p)}: expected key=value, for example --set port=9090`)
    const key = p.slice(0, eq)
    const raw = p.slice(eq + 1)
    let value: unknown
    try {
      value = raw === '' || typed.has(key) || plainWord(raw) ? raw : yaml().parse(raw)
    } catch {
      value = raw
    }
    if (value !== null && typeof value === 'object') value = raw
    out[key] = value
  }
  return out
}

export interface OptionLayers {
  /** Group vars, lowest precedence first. */
  groupVars?: Record<string, unknown>[]
  hostVars?: Record<string, unknown>
  set?: Record<string, unknown>
  env?: Record<string, string | undefined>
}

/** Checks `--set` keys against the recipe (and its includes) before any host is contacted. */
export function checkSetKeys(recipe: Recipe<any>, set: Record<string, unknown>, table = optionTable(recipe)): void {
  for (const key of Object.keys(set)) {
    const e = table.find((x) => x.address === key)
    if (!e) {
      const valid = table.filter((x) => !x.fixed).map((x) => x.address)
      throw new ValidationError(
        `--set ${key}: recipe '${recipe.name}' has no option '${key}'. Valid options: ${valid.length ? valid.join(', ') : '(none)'}`,
      )
    }
    if (e.fixed) throw new ValidationError(`--set ${key}: recipe '${e.fixed.by}' fixes option '${e.key}' of the recipe '${e.recipe}' it includes; it cannot be set`)
    if (e.def.secret) throw secretError(recipe, e, 'on the command line')
    coerceOption(set[key], target(recipe, e, `--set ${key}`))
  }
}

function secretError(recipe: Recipe<any>, e: OptionEntry, where: string): ValidationError {
  return new ValidationError(
    `option '${e.address}' of recipe '${e.at.length ? e.recipe : recipe.name}' is secret and is not accepted ${where}: ` +
      `set the environment variable ${e.def.env ?? '(none declared)'} instead`,
  )
}

function target(recipe: Recipe<any>, e: OptionEntry, source: string) {
  return {
    ...(e.def.type ? { type: e.def.type } : {}),
    ...(e.def.values ? { values: e.def.values } : {}),
    ...(e.def.secret ? { secret: true } : {}),
    label: `option '${e.address}' of recipe '${e.at.length ? e.recipe : recipe.name}'`,
    source,
  }
}

/**
 * recipe defaults < group vars < host vars < --set; secrets from the environment only. Returns
 * the values by address (`port`, `prereq.port`); included recipes' fixed values are filled in.
 */
export function resolveOptions(recipe: Recipe<any>, layers: OptionLayers, hostName: string): Record<string, unknown> {
  const table = optionTable(recipe)
  const set = layers.set ?? {}
  checkSetKeys(recipe, set, table)
  const inventory = `the vars of host ${hostName} (or of its groups) in the inventory`
  const out: Record<string, unknown> = {}
  for (const e of table) {
    const def = e.def
    const vars = [...(layers.groupVars ?? []), layers.hostVars ?? {}]
    if (e.fixed) {
      const f = e.fixed.value
      const v = typeof f === 'function' ? (f as (o: Record<string, unknown>) => unknown)(localOptions(table, out, e.at.slice(0, -1))) : f
      if (v !== undefined) out[e.address] = coerceOption(v, target(recipe, e, `the include of '${e.recipe}' in recipe '${e.fixed.by}'`))
    } else if (def.secret) {
      for (const layer of vars) if (lookupVar(layer, e.address).found) throw secretError(recipe, e, `in the inventory (host ${hostName})`)
      const v = def.env ? (layers.env ?? process.env)[def.env] : undefined
      if (v !== undefined && v !== '') out[e.address] = coerceOption(v, target(recipe, e, `the environment variable ${def.env}`))
      else if (def.default !== undefined) out[e.address] = def.default
    } else {
      let v = def.default
      let from: string | undefined
      // A non-secret option may name a variable users already set (HF_ENDPOINT): above the default, below the inventory.
      const fromEnv = def.env ? (layers.env ?? process.env)[def.env] : undefined
      if (fromEnv !== undefined && fromEnv !== '') [v, from] = [fromEnv, `the environment variable ${def.env}`]
      for (const layer of vars) {
        const hit = lookupVar(layer, e.address)
        if (hit.found) [v, from] = [hit.value, inventory]
      }
      if (e.address in set) [v, from] = [set[e.address], `--set ${e.address}`]
      if (v !== undefined) out[e.address] = from ? coerceOption(v, target(recipe, e, from)) : v
    }
    if (def.required && out[e.address] === undefined) {
      const how = def.secret ? `set the environment variable ${def.env}` : `use --set ${e.address}=… or a host/group var`
      throw new ValidationError(`host ${hostName}: recipe '${recipe.name}' needs option '${e.address}': ${how}`)
    }
  }
  return out
}

/** The secret values in resolved options, so reports and diffs can redact them. */
export function secretValues(recipe: Recipe<any>, options: Record<string, unknown>): string[] {
  return optionTable(recipe)
    .filter((e) => e.def.secret && typeof options[e.address] === 'string' && (options[e.address] as string).length > 0)
    .map((e) => options[e.address] as string)
}
