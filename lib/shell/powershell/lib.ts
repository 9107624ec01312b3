import type { Step } from '../../core/types.ts'
import { psQuote, psStep } from './quote.ts'

export const PS_SHA256_FN = 'function Sc-Sha256([string]$p) { (Get-FileHash -LiteralPath $p -Algorithm SHA256).Hash.ToLower() }'

/** PowerShell twins of SHELL_LIB: the same key=value lines, hex for anything arbitrary. */
export const PS_LIB = `function Sc-Hex([byte[]]$b) { if ($null -eq $b -or $b.Length -eq 0) { return '' }; [BitConverter]::ToString($b).Replace('-', '') }
function Sc-KvHex([string]$k, [string]$v) { "$k=" + (Sc-Hex ([Text.Encoding]::UTF8.GetBytes($v))) }
function Sc-Stat([string]$p) {
  $i = Get-Item -LiteralPath $p -Force -ErrorAction SilentlyContinue
  if ($null -eq $i) { 'kind=absent'; return }
  if ($i.Attributes -band [IO.FileAttributes]::ReparsePoint) { 'kind=link' }
  elseif ($i.PSIsContainer) { 'kind=directory' }
  else { 'kind=file'; "size=$($i.Length)" }
}
${PS_SHA256_FN}
`

/** Snippets the resources' PowerShell halves share: they print the same key=value lines as POSIX. */

export function psStat(path: string): string {
  return `Sc-Stat ${psQuote(path)}`
}

/** Bytes of a regular file (hex) up to `limit`, else its sha256. */
export function psContent(path: string, limit: number, tooLargeKey = 'sha256'): string {
  const p = psQuote(path)
  const large = tooLargeKey === 'sha256' ? `'sha256=' + (Sc-Sha256 ${p})` : `'${tooLargeKey}=1'`
  return `$i = Get-Item -LiteralPath ${p} -Force -ErrorAction SilentlyContinue
if ($i -and -not $i.PSIsContainer -and -not ($i.Attributes -band [IO.FileAttributes]::ReparsePoint)) {
  if ($i.Length -le ${limit}) { 'content=' + (Sc-Hex ([IO.File]::ReadAllBytes(${p}))) } else { ${large} }
}`
}

/**
 * Atomic replace on NTFS: write a temp file beside the target, then File.Replace (or Move when
 * the target is new). The bytes travel base64 inside the script, so a cut-off script never runs
 * and never writes a part. The writer's PID is in the temp name: temp files of a writer that no
 * longer runs (killed before its finally) are swept first.
 */
export function psWrite(path: string, content: string | Uint8Array): Step {
  const b64 = Buffer.from(typeof content === 'string' ? Buffer.from(content, 'utf8') : content).toString('base64')
  const p = psQuote(path)
  return {
    argv: [],
    label: `write ${path}`,
    psScript: `$p = ${p}
$d = Split-Path -Parent $p
$null = [IO.Directory]::CreateDirectory($d)
foreach ($s in @(Get-ChildItem -LiteralPath $d -Force -Filter '.statecraft.*' -ErrorAction SilentlyContinue)) {
  $w = ($s.Name -split '\\.')[2]
  if ($w -match '^\\d+$' -and -not (Get-Process -Id ([int]$w) -ErrorAction SilentlyContinue)) { Remove-Item -LiteralPath $s.FullName -Force -ErrorAction SilentlyContinue }
}
$t = Join-Path $d ('.statecraft.' + $PID + '.' + [Guid]::NewGuid().ToString('N'))
try {
  [IO.File]::WriteAllBytes($t, [Convert]::FromBase64String('${b64}'))
  if ([IO.File]::Exists($p)) { [IO.File]::Replace($t, $p, [NullString]::Value) } else { [IO.File]::Move($t, $p) }
} finally {
  if (Test-Path -LiteralPath $t) { Remove-Item -LiteralPath $t -Force }
}`,
  }
}

export function psScriptStep(label: string, script: string): Step {
  return { argv: [], label, psScript: script }
}

/**
 * A guard command inside a probe: its output is discarded, and the location and environment it
 * changes are restored, because they are process-wide for the rest of the probe script.
 */
export function psGuard(step: Step, key: string): string {
  const names = Object.keys(step.env ?? {})
  const invoke = psStep(step).replace(/\nexit \$LASTEXITCODE$/, '')
  return `$sc_loc = Get-Location
$sc_env = @{}
${names.map((n) => `$sc_env[${psQuote(n)}] = [Environment]::GetEnvironmentVariable(${psQuote(n)})`).join('\n')}
$ErrorActionPreference = 'Continue'
$c = 1
try { & { ${invoke} } *> $null; $c = $LASTEXITCODE } catch { $c = 1 } finally {
  Set-Location -LiteralPath $sc_loc.Path
  foreach ($k in $sc_env.Keys) { [Environment]::SetEnvironmentVariable($k, $sc_env[$k]) }
}
"${key}=$c"`
}
