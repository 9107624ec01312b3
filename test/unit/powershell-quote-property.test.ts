import Parser from 'tree-sitter'
import PowerShell from 'tree-sitter-powershell'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nativeArg, PS_PRELUDE, psQuote, psStep } from '../../lib/shell/powershell/quote.ts'
import { anyString } from '../helpers/arbitraries.ts'
import { msvcrtSplit, nativeArgvOf, psLegacyArg, readPsVerbatim } from '../helpers/windows-argv.ts'

const parser = new Parser()
parser.setLanguage(PowerShell as never)

/** The ERROR and MISSING nodes of a parse, as text; [] when clean. */
function syntaxErrors(tree: Parser.Tree): string[] {
  const bad: string[] = []
  const walk = (n: Parser.SyntaxNode): void => {
    if (n.type === 'ERROR' || n.isMissing) bad.push(`${n.type} ${JSON.stringify(n.text.slice(0, 80))}`)
    n.children.forEach(walk)
  }
  if (tree.rootNode.hasError) walk(tree.rootNode)
  return tree.rootNode.hasError && bad.length === 0 ? ['error'] : bad
}

const parse = (script: string): Parser.Tree => parser.parse(script, undefined, { bufferSize: 1024 * 1024 })

/** What PowerShell reads from `lit`, which must be exactly one verbatim literal. */
function decode(lit: string): string {
  const r = readPsVerbatim(lit)
  expect(r, `${JSON.stringify(lit)} never ends`).not.toBeNull()
  expect(r?.end, `${JSON.stringify(lit)} ends early`).toBe(lit.length)
  return r?.value as string
}

describe('the reference models (so the properties below can fail)', () => {
  it('PowerShell ends a literal at any lone single quote, typographic ones included', () => {
    expect(readPsVerbatim("'a‘b'")).toEqual({ value: 'a', end: 3 })
    expect(readPsVerbatim("'a‘’b'")).toEqual({ value: 'a’b', end: 6 })
    expect(readPsVerbatim("'abc")).toBeNull()
  })

  it('legacy passing quotes only whitespace, and the C runtime splits on spaces and tabs', () => {
    expect(psLegacyArg('a b')).toBe('"a b"')
    expect(psLegacyArg('a\u0085b')).toBe('"a\u0085b"')
    expect(psLegacyArg('a\ufeffb')).toBe('a\ufeffb')
    expect(msvcrtSplit('p a\\\\"b c" d\\e "f\\"g" ""')).toEqual(['p', 'a\\b c', 'd\\e', 'f"g', ''])
    expect(msvcrtSplit('p a\nb')).toEqual(['p', 'a\nb'])
  })
})

describe('psQuote()', () => {
  it('is one single-quoted literal to tree-sitter-powershell and to PowerShell, and reads back as the value', () => {
    fc.assert(
      fc.property(anyString({ maxLength: 40 }), (s) => {
        const lit = psQuote(s)
        // Between two other arguments, so a literal that ends early or late shows as a count or text mismatch.
        const tree = parse(`& 'prog' ${lit} 'tail'`)
        expect(syntaxErrors(tree)).toEqual([])
        expect(tree.rootNode.descendantsOfType('string_literal').map((n) => n.text)).toEqual(["'prog'", lit, "'tail'"])
        expect(decode(lit)).toBe(s)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('nativeArg()', () => {
  it('a native program receives exactly the value, alone and among other arguments', () => {
    fc.assert(
      fc.property(fc.array(anyString(), { minLength: 1, maxLength: 6 }), (args) => {
        const lits = args.map(nativeArg)
        for (const [i, lit] of lits.entries()) expect(nativeArgvOf([lit]), JSON.stringify({ arg: args[i], lit })).toEqual([args[i]])
        expect(nativeArgvOf(lits), JSON.stringify({ args, lits })).toEqual(args)
        const tree = parse(`& 'prog' ${lits.join(' ')}`)
        expect(syntaxErrors(tree)).toEqual([])
        expect(tree.rootNode.descendantsOfType('string_literal').map((n) => n.text)).toEqual(["'prog'", ...lits])
      }),
      { numRuns: 1000 },
    )
  })

  // Was a bug (lib/shell/powershell/quote.ts, nativeArg): trailing backslashes were doubled when
  // JavaScript's /\s/ found whitespace, but PowerShell 5.1 adds the surrounding quotes when .NET's
  // char.IsWhiteSpace does. With U+0085 the quotes came without the doubling, so the last
  // backslash escaped the closing quote: 'a\u0085\' arrived as 'a\u0085"'.
  it('counterexample: NEXT LINE (U+0085) and a trailing backslash', () => {
    expect(nativeArgvOf([nativeArg('\u0085\\')])).toEqual(['\u0085\\'])
  })

  // The same bug the other way round: U+FEFF is \s to JavaScript but not whitespace to .NET, so
  // the backslashes were doubled but no quotes added: '\ufeff\' arrived as '\ufeff\\'.
  it('counterexample: ZERO WIDTH NO-BREAK SPACE (U+FEFF) and a trailing backslash', () => {
    expect(nativeArgvOf([nativeArg('\ufeff\\')])).toEqual(['\ufeff\\'])
  })
})

const envNameArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/)

describe('psStep()', () => {
  it('parses without errors, and every literal in it reads back as the cwd, env value, program or argument it came from', () => {
    fc.assert(
      fc.property(
        fc.array(anyString(), { minLength: 1, maxLength: 6 }),
        fc.dictionary(envNameArb, anyString(), { maxKeys: 3 }),
        fc.option(anyString({ maxLength: 30 }), { nil: undefined }),
        (argv, env, cwd) => {
          const script = psStep({ argv, env, ...(cwd !== undefined ? { cwd } : {}) })
          const tree = parse(`${PS_PRELUDE}\n${script}`)
          expect(syntaxErrors(tree), script).toEqual([])
          const root = parse(script).rootNode
          const lits = root.descendantsOfType('string_literal').map((n) => n.text)
          const expectedHead = [...(cwd !== undefined ? [cwd] : []), ...Object.values(env), argv[0]]
          const head = lits.slice(0, expectedHead.length)
          expect(head.map(decode)).toEqual(expectedHead)
          expect(nativeArgvOf(lits.slice(expectedHead.length))).toEqual(argv.slice(1))
          expect(root.descendantsOfType('variable').map((n) => n.text)).toEqual([...Object.keys(env).map((k) => `$env:${k}`), '$LASTEXITCODE'])
        },
      ),
      { numRuns: 500 },
    )
  })
})
