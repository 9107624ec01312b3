import { describe, expect, it } from 'vitest'
import { nativeArg, psQuote, psStdin, psStep } from '../../lib/shell/powershell/quote.ts'
import { HOSTILE } from '../helpers/hostile.ts'

/** What PowerShell makes of a single-quoted literal. */
function evalPsLiteral(lit: string): string {
  expect(lit.startsWith("'") && lit.endsWith("'")).toBe(true)
  return lit.slice(1, -1).replace(/(['\u2018\u2019\u201a\u201b])\1/g, '$1')
}

/** PowerShell's legacy native argument passing: it only adds quotes around whitespace. */
function legacyCommandLineArg(v: string): string {
  return /\s/.test(v) ? `"${v}"` : v
}

/** The MSVCRT / CommandLineToArgvW rules a Windows program uses to split its command line. */
function msvcrtSplit(line: string): string[] {
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
    if (/\s/.test(ch) && !inQuotes) {
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

describe('PowerShell quoting', () => {
  it.each([
    ["it's", "'it''s'"],
    ['‘curly’', "'‘‘curly’’'"],
    ['$(Get-Date) `n $env:X', "'$(Get-Date) `n $env:X'"],
    ['', "''"],
  ])('psQuote(%j) = %s', (v, q) => expect(psQuote(v)).toBe(q))

  it.each([...HOSTILE, 'C:\\Program Files\\x\\', 'a\\\\"b', '"', '\\', 'trailing\\ space\\'])('native argument %j reaches the program intact', (v) => {
    const literal = nativeArg(v)
    const passed = legacyCommandLineArg(evalPsLiteral(literal))
    expect(msvcrtSplit(`prog.exe ${passed}`)).toEqual(['prog.exe', v])
  })

  it('runs a step with cwd and env, and returns its exit code', () => {
    expect(psStep({ argv: ['git', 'clone', 'a b'], cwd: "C:\\it's", env: { GIT_DIR: '$x' } })).toBe(
      "Set-Location -LiteralPath 'C:\\it''s'\n$env:GIT_DIR = '$x'\n& 'git' 'clone' 'a b'\nexit $LASTEXITCODE",
    )
  })

  it('sends scripts as one ASCII line of base64 UTF-8', () => {
    const line = psStdin("Write-Output 'ünï'")
    expect(line).toMatch(/^& \(\[ScriptBlock\]::Create\(\[Text\.Encoding\]::UTF8\.GetString\(\[Convert\]::FromBase64String\('[A-Za-z0-9+/=]+'\)\)\)\)\n$/)
    const b64 = /'([A-Za-z0-9+/=]+)'/.exec(line)![1]!
    expect(Buffer.from(b64, 'base64').toString('utf8')).toMatch(/\[Console\]::OutputEncoding = \[Text\.Encoding\]::UTF8\nWrite-Output 'ünï'$/)
  })
})
