import type { Step } from '../../core/types.ts'

/**
 * PowerShell quoting: single-quoted literals, where PowerShell also treats the typographic
 * single quotes as quote characters, so every one of them is doubled.
 */
export function psQuote(s: string): string {
  return `'${s.replace(/['\u2018\u2019\u201a\u201b]/g, (m) => m + m)}'`
}

/**
 * What PowerShell counts as whitespace when it decides to quote an argument: .NET's
 * char.IsWhiteSpace (Zs, Zl, Zp, U+0009–U+000D, U+0085). Not JavaScript's \s, which adds U+FEFF
 * and lacks U+0085.
 */
const DOTNET_WHITESPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/

/**
 * An argument for a native program. Windows hands programs one command line, which they split
 * with the MSVCRT rules; Windows PowerShell 5.1 (`powershell`, what statecraft runs) passes
 * arguments the legacy way and only wraps those holding whitespace in double quotes, leaving
 * trailing backslashes as they are. So embedded double quotes and the backslashes before them
 * are escaped here, trailing backslashes are doubled when 5.1 will add the closing quote after
 * them, and an empty argument is passed as "". PowerShell 7.x differs: it doubles trailing
 * backslashes inside the quotes it adds itself, so these literals are not right for `pwsh`.
 */
export function nativeArg(s: string): string {
  if (s === '') return `'""'`
  return psQuote(msvcrtEscape(s, DOTNET_WHITESPACE.test(s)))
}

/**
 * The inside of one argument as the MSVC runtime splits a command line: a double quote and the
 * backslashes before it escaped; trailing backslashes doubled when a closing quote follows them.
 */
export function msvcrtEscape(s: string, closingQuote: boolean): string {
  let out = ''
  let bs = 0
  for (const ch of s) {
    if (ch === '\\') {
      bs++
      continue
    }
    out += ch === '"' ? `${'\\'.repeat(bs * 2 + 1)}"` : `${'\\'.repeat(bs)}${ch}`
    bs = 0
  }
  return out + '\\'.repeat(closingQuote ? bs * 2 : bs)
}

/** Statements that run `step`: cwd, env, the program with its arguments, then its exit code. */
export function psStep(step: Step): string {
  const lines: string[] = []
  if (step.cwd !== undefined) lines.push(`Set-Location -LiteralPath ${psQuote(step.cwd)}`)
  for (const [k, v] of Object.entries(step.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`invalid environment variable name ${JSON.stringify(k)}`)
    lines.push(`$env:${k} = ${psQuote(v)}`)
  }
  const [program, ...args] = step.argv
  if (program === undefined) throw new Error('empty argv')
  lines.push(`& ${psQuote(program)} ${args.map(nativeArg).join(' ')}`.trimEnd(), 'exit $LASTEXITCODE')
  return lines.join('\n')
}

export const PS_PRELUDE = [
  "$ErrorActionPreference = 'Stop'",
  "$PSNativeCommandArgumentPassing = 'Legacy'",
  '$ProgressPreference = \'SilentlyContinue\'',
  '[Console]::OutputEncoding = [Text.Encoding]::UTF8',
].join('\n')

/** The remote command that runs any script: the same words work from cmd.exe and PowerShell. */
export const PS_COMMAND = 'powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command -'

/**
 * `-Command -` reads stdin in the console code page, line by line: the real script travels as
 * base64 of UTF-8 on one ASCII line, so any characters and any length survive.
 */
export function psStdin(script: string): string {
  const b64 = Buffer.from(`${PS_PRELUDE}\n${script}`, 'utf8').toString('base64')
  return `& ([ScriptBlock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('${b64}'))))\n`
}
