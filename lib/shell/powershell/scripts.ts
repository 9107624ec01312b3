import { marker } from '../protocol.ts'
import { PS_LIB } from './lib.ts'
import { psQuote } from './quote.ts'

export const PS_FACTS_SCRIPT = `${PS_LIB}
'kernel=Windows_NT'
"machine=$env:PROCESSOR_ARCHITECTURE"
"user=$env:USERNAME"
Sc-KvHex 'home' $env:USERPROFILE
"hostname=$env:COMPUTERNAME"
$sc_bootid = try { (Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('yyyyMMddHHmmss') } catch { 'unknown' }
"bootid=$sc_bootid"
"psversion=$($PSVersionTable.PSVersion.ToString())"
`

function psLockPath(path: string): string {
  return path.startsWith('~/') ? `(Join-Path $env:USERPROFILE ${psQuote(path.slice(2))})` : psQuote(path)
}

/** The lock file is created with CreateNew, which fails if it exists: atomic on NTFS. */
const CREATE = `try {
  $f = [IO.File]::Open($sc_lock, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write)
  $b = [Text.Encoding]::UTF8.GetBytes($sc_info); $f.Write($b, 0, $b.Length); $f.Close(); 'lock=acquired'
} catch [IO.IOException] {
  if (Test-Path -LiteralPath $sc_lock) { 'lock=held'; Sc-KvHex 'holder' ([IO.File]::ReadAllText($sc_lock)) } else { 'lock=error' }
}`

export function psAcquireScript(path: string, prefix: string): string {
  return `$sc_lock = ${psLockPath(path)}
$sc_info = ${psQuote(prefix)} + '|' + $sc_bootid
$null = New-Item -ItemType Directory -Force -Path (Split-Path -Parent $sc_lock)
${CREATE}
Sc-KvHex 'lockinfo' $sc_info
`
}

export function psTakeoverScript(path: string, staleInfo: string, info: string): string {
  return `${PS_LIB}
$sc_lock = ${psLockPath(path)}
$sc_info = ${psQuote(info)}
if ((Test-Path -LiteralPath $sc_lock) -and ([IO.File]::ReadAllText($sc_lock) -eq ${psQuote(staleInfo)})) { Remove-Item -LiteralPath $sc_lock -Force }
${CREATE}
`
}

export function psReleaseScript(path: string, info: string): string {
  return `$sc_lock = ${psLockPath(path)}
if ((Test-Path -LiteralPath $sc_lock) -and ([IO.File]::ReadAllText($sc_lock) -eq ${psQuote(info)})) { Remove-Item -LiteralPath $sc_lock -Force }
`
}

export function psBatchScript(snippets: string[], nonce: string): string {
  const parts = [PS_LIB]
  snippets.forEach((s, i) => parts.push(`'${marker(nonce, String(i))}'`, `& {\n${s}\n}`))
  parts.push(`'${marker(nonce, 'end')}'`)
  return `${parts.join('\n')}\n`
}
