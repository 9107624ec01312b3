import { describe, expect, it } from 'vitest'
import { nativeArg, psQuote, psStdin, psStep } from '../../lib/shell/powershell/quote.ts'
import { HOSTILE } from '../helpers/hostile.ts'
import { msvcrtSplit, psLegacyArg, readPsVerbatim } from '../helpers/windows-argv.ts'

/** What PowerShell makes of a single-quoted literal: the whole literal, and nothing after it. */
function evalPsLiteral(lit: string): string {
  const r = readPsVerbatim(lit)
  expect(r?.end).toBe(lit.length)
  return r?.value ?? ''
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
    const passed = psLegacyArg(evalPsLiteral(literal))
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
