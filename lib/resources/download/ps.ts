import { PS_SHA256_FN } from '../../shell/powershell/lib.ts'
import { psQuote } from '../../shell/powershell/quote.ts'
import type { DownloadProbeInput } from './script.ts'

/**
 * The Windows halves of `download`: curl.exe (built into Windows 10 1803+ and 11) with the
 * config on its stdin, Get-FileHash for the check, File.Replace for the swap. A file's identity
 * in the stamp is size, last-write time and creation time (.NET has no inode).
 */
const PS_STAT = `function Sc-St([string]$p) { $i = Get-Item -LiteralPath $p -Force; "$($i.Length) $([DateTimeOffset]::new($i.LastWriteTimeUtc).ToUnixTimeSeconds()) $($i.CreationTimeUtc.Ticks)" }`

/** The host's HF_TOKEN, else $HF_HOME\\token (default ~\\.cache\\huggingface\\token), appended to $cfg. */
const PS_HOST_TOKEN = `if ($cfg -notmatch '(?m)^header = "Authorization:') {
  $t = $env:HF_TOKEN
  $hf = if ($env:HF_HOME) { $env:HF_HOME } else { Join-Path $env:USERPROFILE '.cache\\huggingface' }
  if (-not $t -and (Test-Path -LiteralPath (Join-Path $hf 'token'))) { $t = ([IO.File]::ReadAllText((Join-Path $hf 'token'))).Trim() }
  if ($t) { $cfg += 'header = "Authorization: Bearer ' + $t + '"' + [char]10 }
}
`

export type PsDownload = DownloadProbeInput

export function psDownloadProbe(o: PsDownload): string {
  const D = psQuote(o.dest)
  const S = psQuote(o.stamp)
  const want = o.sha256 ? ` -and $f[3] -eq ${psQuote(o.sha256)}` : ''
  return `${PS_STAT}
$D = ${D}
$S = ${S}
if (Test-Path -LiteralPath $D -PathType Leaf) { 'exists=1' }
$ok = 0
if ((Test-Path -LiteralPath $D -PathType Leaf) -and (Test-Path -LiteralPath $S)) {
  $f = ([IO.File]::ReadAllText($S)).Trim() -split ' '
  if ((("$($f[0]) $($f[1]) $($f[2])") -eq (Sc-St $D)) -and $f[4] -eq ${psQuote(o.urlHash)}${want}) { $ok = 1 }
}
"stampmatch=$ok"
${o.verify ? '$ok = 0' : ''}
"stampok=$ok"
if ($ok -eq 0) {
  if (Test-Path -LiteralPath $D -PathType Leaf) { try { 'hash=' + (Sc-Sha256 $D) } catch { 'unreadable=1' } }
  if (Test-Path -LiteralPath ($D + '.part')) {
    'partsize=' + (Get-Item -LiteralPath ($D + '.part')).Length
    if (Test-Path -LiteralPath ($D + '.part.source')) { Sc-KvHex 'partsrc' ([IO.File]::ReadAllText($D + '.part.source')) }
  }
  if (Get-Command curl.exe -ErrorAction SilentlyContinue) {
    $ErrorActionPreference = 'Continue'
    $cfg = ${psQuote(o.config)}
${o.hubToken ? PS_HOST_TOKEN : ''}    Sc-KvHex 'head' (($cfg | curl.exe -sS -I -L --max-redirs 10 --connect-timeout 20 --config '-' 2>&1) -join [char]10)
  } else { 'curl=missing' }
  $dir = Split-Path -Parent $D
  while (-not (Test-Path -LiteralPath $dir)) { $dir = Split-Path -Parent $dir }
  'avail=' + [math]::Floor((Get-Item -LiteralPath $dir).PSDrive.Free / 1024)
}`
}

export interface PsApply extends PsDownload {
  size?: number
  sourceId: string
}

export function psDownloadApply(o: PsApply): string {
  return `${PS_STAT}
${PS_SHA256_FN}
$D = ${psQuote(o.dest)}
$S = ${psQuote(o.stamp)}
$P = $D + '.part'
$M = $D + '.part.source'
$src = ${psQuote(o.sourceId)}
$null = [IO.Directory]::CreateDirectory((Split-Path -Parent $D))
$null = [IO.Directory]::CreateDirectory((Split-Path -Parent $S))
if ((Test-Path -LiteralPath $P) -and -not ((Test-Path -LiteralPath $M) -and [IO.File]::ReadAllText($M) -eq $src)) { Remove-Item -LiteralPath $P -Force }
[IO.File]::WriteAllText($M, $src)
$cfg = ${psQuote(o.config)}
${o.hubToken ? PS_HOST_TOKEN : ''}$ErrorActionPreference = 'Continue'
for ($n = 1; ; $n++) {
  $code = $cfg | curl.exe -sS -f -L --max-redirs 10 --connect-timeout 20 -C '-' -o $P -w '%{http_code}' --config '-'
  if ($LASTEXITCODE -eq 0 -or $code -eq '416') { break }
  if ($code -match '^4\\d\\d$' -and $code -ne '408' -and $code -ne '429') { [Console]::Error.WriteLine("statecraft-http: $code"); exit 22 }
  if ($n -ge 6) { [Console]::Error.WriteLine("statecraft-download: gave up after $n attempts (curl exit $LASTEXITCODE, HTTP $code)"); exit 75 }
  Start-Sleep -Seconds $n
}
$got = (Get-Item -LiteralPath $P).Length
${o.size !== undefined ? `if ($got -ne ${o.size}) { [Console]::Error.WriteLine("statecraft-verify: got $got bytes, expected ${o.size}"); Remove-Item -LiteralPath $P, $M -Force; exit 65 }` : ''}
$h = Sc-Sha256 $P
${o.sha256 ? `if ($h -ne ${psQuote(o.sha256)}) { [Console]::Error.WriteLine("statecraft-verify: sha256 $h, expected ${o.sha256}"); Remove-Item -LiteralPath $P, $M -Force; exit 65 }` : ''}
if (Test-Path -LiteralPath $D) { [IO.File]::Replace($P, $D, [NullString]::Value) } else { [IO.File]::Move($P, $D) }
Remove-Item -LiteralPath $M -Force
"statecraft-stats bytes=$got"
[IO.File]::WriteAllText($S, "$(Sc-St $D) $h ${o.urlHash}")`
}

export function psStampScript(dest: string, stamp: string, sha256: string, urlHash: string): string {
  return `${PS_STAT}
$null = [IO.Directory]::CreateDirectory((Split-Path -Parent ${psQuote(stamp)}))
[IO.File]::WriteAllText(${psQuote(stamp)}, "$(Sc-St ${psQuote(dest)}) ${sha256} ${urlHash}")`
}
