import { parse as parseYaml } from 'yaml'
import { ValidationError } from './errors.ts'
import type { Facts, Resource } from './types.ts'

export interface OptionDef {
  default?: unknown
  description?: string
  /** Secret options are read from `env` only, never from argv or the inventory, and are redacted. */
  secret?: boolean
  env?: string
  required?: boolean
}

export interface RecipeContext<O extends Record<string, unknown> = Record<string, unknown>> {
  facts: Facts
  options: O
  host: { name: string; vars: Record<string, unknown> }
}

export interface Recipe<O extends Record<string, unknown> = Record<string, unknown>> {
  name: string
  description?: string
  options?: Record<string, OptionDef>
  resources: (ctx: RecipeContext<O>) => Resource[]
}

/** Identity helper: gives recipe authors type inference and nothing else. */
export function defineRecipe<O extends Record<string, unknown> = Record<string, unknown>>(r: Recipe<O>): Recipe<O> {
  return r
}

/** `--set key=value` pairs; values are YAML scalars (`true`, `12`, `'0644'`). */
export function parseSetArgs(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const p of pairs) {
    const eq = p.indexOf('=')
    if (eq <= 0) throw new ValidationError(`--set ${JSON.stringify(p)}: expected key=value, for example --set port=9090`)
    const raw = p.slice(eq + 1)
    let value: unknown
    try {
      value = raw === '' ? '' : parseYaml(raw)
    } catch {
      value = raw
    }
    if (value !== null && typeof value === 'object') value = raw
    out[p.slice(0, eq)] = value
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

/** Checks `--set` keys against the recipe before any host is contacted. */
export function checkSetKeys(recipe: Recipe<any>, set: Record<string, unknown>): void {
  const defs = recipe.options ?? {}
  for (const key of Object.keys(set)) {
    const def = defs[key]
    if (!def) {
      const valid = Object.keys(defs)
      throw new ValidationError(
        `--set ${key}: recipe '${recipe.name}' has no option '${key}'. Valid options: ${valid.length ? valid.join(', ') : '(none)'}`,
      )
    }
    if (def.secret) throw secretError(recipe, key, def, 'on the command line')
  }
}

function secretError(recipe: Recipe<any>, key: string, def: OptionDef, where: string): ValidationError {
  return new ValidationError(
    `option '${key}' of recipe '${recipe.name}' is secret and is not accepted ${where}: ` +
      `set the environment variable ${def.env ?? '(none declared)'} instead`,
  )
}

/** recipe defaults < group vars < host vars < --set; secrets from the environment only. */
export function resolveOptions(recipe: Recipe<any>, layers: OptionLayers, hostName: string): Record<string, unknown> {
  const defs = recipe.options ?? {}
  const set = layers.set ?? {}
  checkSetKeys(recipe, set)
  const out: Record<string, unknown> = {}
  for (const [key, def] of Object.entries(defs)) {
    if (def.secret) {
      for (const vars of [...(layers.groupVars ?? []), layers.hostVars ?? {}]) {
        if (key in vars) throw secretError(recipe, key, def, `in the inventory (host ${hostName})`)
      }
      const v = def.env ? (layers.env ?? process.env)[def.env] : undefined
      if (v !== undefined && v !== '') out[key] = v
      else if (def.default !== undefined) out[key] = def.default
    } else {
      let v = def.default
      for (const vars of layers.groupVars ?? []) if (key in vars) v = vars[key]
      if (layers.hostVars && key in layers.hostVars) v = layers.hostVars[key]
      if (key in set) v = set[key]
      if (v !== undefined) out[key] = v
    }
    if (def.required && out[key] === undefined) {
      const how = def.secret ? `set the environment variable ${def.env}` : `use --set ${key}=… or a host/group var`
      throw new ValidationError(`host ${hostName}: recipe '${recipe.name}' needs option '${key}': ${how}`)
    }
  }
  return out
}

/** The secret values in resolved options, so reports and diffs can redact them. */
export function secretValues(recipe: Recipe<any>, options: Record<string, unknown>): string[] {
  return Object.entries(recipe.options ?? {})
    .filter(([k, d]) => d.secret && typeof options[k] === 'string' && (options[k] as string).length > 0)
    .map(([k]) => options[k] as string)
}
