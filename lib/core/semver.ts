import { lazy } from './lazy.ts'

/** The semver functions the library uses, each loaded on first use (lazy.ts says why). */
const fn = {
  coerce: lazy<typeof import('semver/functions/coerce.js')>('semver/functions/coerce.js'),
  satisfies: lazy<typeof import('semver/functions/satisfies.js')>('semver/functions/satisfies.js'),
  rcompare: lazy<typeof import('semver/functions/rcompare.js')>('semver/functions/rcompare.js'),
  validRange: lazy<typeof import('semver/ranges/valid.js')>('semver/ranges/valid.js'),
}

export const coerce = (v: string): { version: string } | null => fn.coerce()(v)
export const satisfies = (v: string, range: string): boolean => fn.satisfies()(v, range)
export const rcompare = (a: string, b: string): number => fn.rcompare()(a, b)
export const validRange = (range: string): string | null => fn.validRange()(range)
