import fc from 'fast-check'
import { HOSTILE } from './hostile.ts'

const cp = (lo: number, hi: number): fc.Arbitrary<string> => fc.integer({ min: lo, max: hi }).map((n) => String.fromCodePoint(n))

/** Characters that mean something to sh, PowerShell or the Windows argv splitter. */
const SPECIAL = [..."'\"\\$`!*?~-=[]{}()<>|&;#%^,.:@/ \t\n\r"]
/** Quote look-alikes PowerShell treats as quotes, and whitespace that JavaScript and .NET disagree on. */
const UNICODE_SPECIAL = ['\u2018', '\u2019', '\u201a', '\u201b', '\u201c', '\u201d', '\u201e', '\u00a0', '\u2028', '\u3000', '\u0085', '\ufeff']

/**
 * Any character a value in argv can hold: everything but NUL and lone surrogates (which have no
 * UTF-8 encoding), weighted towards the characters quoting has to get right.
 */
export function anyChar(opts: { exclude?: string[] } = {}): fc.Arbitrary<string> {
  const arb = fc.oneof(
    { arbitrary: fc.constantFrom(...SPECIAL), weight: 8 },
    { arbitrary: cp(0x20, 0x7e), weight: 6 },
    { arbitrary: cp(0x01, 0x1f), weight: 2 },
    { arbitrary: fc.constant('\x7f'), weight: 1 },
    { arbitrary: cp(0x80, 0xff), weight: 1 },
    { arbitrary: fc.constantFrom(...UNICODE_SPECIAL), weight: 2 },
    { arbitrary: fc.oneof(cp(0x100, 0xd7ff), cp(0xe000, 0xfffd)), weight: 2 },
    { arbitrary: cp(0x10000, 0x10ffff), weight: 2 },
  )
  const ex = opts.exclude ?? []
  return ex.length === 0 ? arb : arb.filter((c) => !ex.includes(c))
}

/** Strings for quoting properties: any characters, words quoting may leave bare, leading dashes, HOSTILE, ''. */
export function anyString(opts: { maxLength?: number; exclude?: string[] } = {}): fc.Arbitrary<string> {
  const maxLength = opts.maxLength ?? 24
  const ex = opts.exclude ?? []
  return fc.oneof(
    { arbitrary: fc.string({ unit: anyChar(opts), maxLength }), weight: 10 },
    // The unquoted fast path of quote(): only [A-Za-z0-9_@%+=:,./-].
    { arbitrary: fc.string({ unit: fc.constantFrom(...'aZ09_@%+=:,./-'), minLength: 1, maxLength: 8 }), weight: 2 },
    { arbitrary: fc.tuple(fc.constantFrom('-', '--', '-e', '-n', '--help=', '~', '~/'), fc.string({ unit: anyChar(opts), maxLength: 6 })).map(([a, b]) => a + b), weight: 2 },
    // Trailing backslashes decide how a Windows program reads the quote after them.
    { arbitrary: fc.tuple(fc.string({ unit: anyChar(opts), maxLength }), fc.integer({ min: 1, max: 3 })).map(([a, n]) => a + '\\'.repeat(n)), weight: 2 },
    { arbitrary: fc.constantFrom(...HOSTILE), weight: 1 },
  ).filter((s) => !ex.some((c) => s.includes(c)))
}

/** A valid file name: no '/', not '.' or '..', at most 200 UTF-8 bytes. */
export function fileName(opts: { exclude?: string[] } = {}): fc.Arbitrary<string> {
  return fc
    .string({ unit: anyChar({ exclude: ['/', ...(opts.exclude ?? [])] }), minLength: 1, maxLength: 16 })
    .filter((s) => s !== '.' && s !== '..' && Buffer.byteLength(s) <= 200)
}

/** Environment variable names, in a namespace of their own so they cannot clobber PATH or HOME. */
export const envName: fc.Arbitrary<string> = fc
  .string({ unit: fc.constantFrom(...'ABCXYZabz_019'), maxLength: 6 })
  .map((s) => `SC_P${s}`)
