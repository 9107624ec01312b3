/**
 * Reference models of how a value travels from a PowerShell script to a Windows program, for
 * tests on a machine without PowerShell or Windows. Each follows the published source or
 * documentation, not the code under test.
 */

/** The characters PowerShell's tokenizer treats as single quotes (CharExtensions.IsSingleQuote). */
const PS_SINGLE_QUOTES = new Set(["'", '\u2018', '\u2019', '\u201a', '\u201b'])

/**
 * The value PowerShell reads from a verbatim ('…') literal that starts at `text[0]`, and where the
 * literal ends. Inside, a quote followed by a quote (any of the five kinds) stands for the second
 * one; a lone quote ends the literal. Returns null when the literal never ends.
 */
export function readPsVerbatim(text: string): { value: string; end: number } | null {
  const chars = [...text]
  if (!PS_SINGLE_QUOTES.has(chars[0] ?? '')) return null
  let value = ''
  let offset = (chars[0] as string).length
  for (let i = 1; i < chars.length; i++) {
    const c = chars[i] as string
    if (PS_SINGLE_QUOTES.has(c)) {
      const n = chars[i + 1]
      if (n === undefined || !PS_SINGLE_QUOTES.has(n)) return { value, end: offset + c.length }
      value += n
      offset += c.length + n.length
      i++
      continue
    }
    value += c
    offset += c.length
  }
  return null
}

/** .NET char.IsWhiteSpace: Unicode White_Space (Zs, Zl, Zp, U+0009–U+000D, U+0085). Not JavaScript's \s. */
export const DOTNET_WHITESPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/

/**
 * Windows PowerShell 5.1's legacy native argument passing (NativeCommandParameterBinder
 * .NeedQuotes): the argument goes into the command line as is, wrapped in double quotes when it
 * holds whitespace outside a pair of unescaped double quotes; an empty argument is dropped.
 * (PowerShell 7.x also doubles trailing backslashes inside the quotes it adds; statecraft runs
 * `powershell`, which is 5.1.)
 */
export function psLegacyArg(arg: string): string {
  let needQuotes = false
  let followingBackslash = false
  let quoteCount = 0
  for (const ch of arg.split('')) {
    if (ch === '"' && !followingBackslash) quoteCount++
    else if (DOTNET_WHITESPACE.test(ch) && quoteCount % 2 === 0) needQuotes = true
    followingBackslash = ch === '\\'
  }
  return needQuotes ? `"${arg}"` : arg
}

/**
 * How a program built with the Microsoft C runtime splits its command line into argv[1..]
 * (the UCRT rules; CommandLineToArgvW differs only for "" inside quotes): arguments are separated
 * by spaces and tabs outside quotes; 2n backslashes before a quote give n and the quote toggles
 * quoting, 2n+1 give n and a literal quote; other backslashes are literal; "" inside quotes is a
 * literal quote.
 */
export function msvcrtSplit(line: string): string[] {
  const args: string[] = []
  let cur = ''
  let inQuotes = false
  let has = false
  for (let i = 0; i < line.length; ) {
    const ch = line[i] as string
    if (ch === '\\') {
      let n = 0
      while (line[i] === '\\') (n++, i++)
      if (line[i] === '"') {
        cur += '\\'.repeat(Math.floor(n / 2))
        if (n % 2 === 1) (cur += '"', i++)
      } else cur += '\\'.repeat(n)
      has = true
      continue
    }
    if (ch === '"') {
      if (inQuotes && line[i + 1] === '"') (cur += '"', i += 2)
      else (inQuotes = !inQuotes, i++)
      has = true
      continue
    }
    if ((ch === ' ' || ch === '\t') && !inQuotes) {
      if (has) args.push(cur)
      cur = ''
      has = false
      i++
      continue
    }
    cur += ch
    has = true
    i++
  }
  if (has) args.push(cur)
  return args
}

/** What a native program receives as its arguments when a script runs `& 'prog.exe' <literals>`. */
export function nativeArgvOf(literals: string[]): string[] {
  const values = literals.map((lit) => {
    const r = readPsVerbatim(lit)
    if (!r || r.end !== lit.length) throw new Error(`not one PowerShell verbatim literal: ${JSON.stringify(lit)}`)
    return r.value
  })
  const line = ['prog.exe', ...values.filter((v) => v !== '').map(psLegacyArg)].join(' ')
  return msvcrtSplit(line).slice(1)
}
