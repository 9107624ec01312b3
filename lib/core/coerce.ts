import { ValidationError } from './errors.ts'

export type OptionType = 'string' | 'number' | 'boolean' | 'enum' | 'path'

/** What coercion needs to know of an option, and how to name it in a message. */
export interface CoerceTarget {
  type?: OptionType
  values?: readonly (string | number)[]
  secret?: boolean
  /** `option 'port' of recipe 'demo'` */
  label: string
  /** Where the value came from, said as the fix: `--set port`, `the environment variable PORT`. */
  source: string
}

const TRUE = new Set(['true', 'yes', 'on', '1'])
const FALSE = new Set(['false', 'no', 'off', '0'])

/**
 * Values from `--set`, inventory vars and the environment arrive as text or YAML scalars; a typed
 * option turns them into its type here or fails naming the option, the value and the type.
 * An option without `type` gets the value as it came (nothing is inferred).
 */
export function coerceOption(value: unknown, t: CoerceTarget): unknown {
  if (t.type === undefined) return value
  const fail = (expected: string): never => {
    // A secret's value is never echoed, not even a wrong one.
    const got = t.secret ? 'a secret value, not shown' : JSON.stringify(value)
    throw new ValidationError(`${t.label} must be ${expected} (got ${got}); fix ${t.source}`)
  }
  switch (t.type) {
    case 'number': {
      if (typeof value === 'number' && Number.isFinite(value)) return value
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value)
      return fail('a number')
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value
      const s = typeof value === 'string' ? value.trim().toLowerCase() : typeof value === 'number' ? String(value) : undefined
      if (s !== undefined && TRUE.has(s)) return true
      if (s !== undefined && FALSE.has(s)) return false
      return fail('a boolean (true or false)')
    }
    case 'enum': {
      const allowed = t.values ?? []
      const hit = allowed.find((a) => a === value || (typeof value === 'string' && String(a) === value) || (typeof value === 'number' && String(value) === a))
      if (hit !== undefined) return hit
      return fail(`one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`)
    }
    case 'path': {
      if (typeof value === 'string' && value !== '') return value
      return fail('a path (a non-empty string)')
    }
    case 'string': {
      if (typeof value === 'string') return value
      // A YAML inventory turns `version: 3` into a number; the author asked for text.
      if (typeof value === 'number' || typeof value === 'boolean') return String(value)
      return fail('a string')
    }
  }
  return value
}
