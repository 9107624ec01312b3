import { PS_LIB } from '../../shell/powershell/lib.ts'
import { psQuote } from '../../shell/powershell/quote.ts'
import { BODY_PREFIX, LOG_BYTES } from './posix.ts'

/**
 * The Windows halves of `httpCheck`: Invoke-WebRequest -UseBasicParsing, which Windows
 * PowerShell 5.1 has without Internet Explorer. It throws on any status outside 2xx; the status
 * is then on the exception's Response and the body in ErrorDetails (5.1 and 7 alike). A request
 * that got no answer is given curl's exit code for the same cause, so one parser and one set of
 * messages serve both halves.
 */
const TRY_FN = `try { [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12 } catch { }
function Sc-HttpTry([string]$u, [string]$needle, [int]$t) {
  $r = @{ exit = 0; status = 0; match = 1; body = ''; err = '' }
  try {
    $w = Invoke-WebRequest -Uri $u -UseBasicParsing -TimeoutSec $t -MaximumRedirection 5 -ErrorAction Stop
    $r.status = [int]$w.StatusCode
    $c = $w.Content
    if ($c -is [byte[]]) { $c = [Text.Encoding]::UTF8.GetString($c) }
    $r.body = [string]$c
  } catch {
    $x = $_.Exception
    $resp = $null
    try { $resp = $x.Response } catch { }
    if ($null -ne $resp -and $null -ne $resp.StatusCode) {
      $r.status = [int]$resp.StatusCode
      if ($_.ErrorDetails) { $r.body = [string]$_.ErrorDetails.Message }
    } else {
      $s = ''
      try { $s = [string]$x.Status } catch { }
      $codes = @{ NameResolutionFailure = 6; ConnectFailure = 7; Timeout = 28; SecureChannelFailure = 35; ConnectionClosed = 52; ReceiveFailure = 56; TrustFailure = 60 }
      $r.exit = 1
      if ($s -and $codes.ContainsKey($s)) { $r.exit = $codes[$s] }
      $r.err = [string]$x.Message
    }
  }
  if ($needle -and -not $r.body.Contains($needle)) { $r.match = 0 }
  $r
}
function Sc-HttpReport($r) {
  "exit=$($r.exit)"
  'status=' + ('{0:000}' -f $r.status)
  "match=$($r.match)"
  $b = [Text.Encoding]::UTF8.GetBytes($r.body)
  if ($b.Length -gt ${BODY_PREFIX}) { $b = $b[0..${BODY_PREFIX - 1}] }
  'body=' + (Sc-Hex $b)
  Sc-KvHex 'err' $r.err
}`

export interface PsCheck {
  url: string
  needle: string
  attemptSeconds: number
}

/** The batched probe's part: one quick attempt. */
export function psHttpProbe(o: PsCheck): string {
  return `${TRY_FN}
'curl=1'
Sc-HttpReport (Sc-HttpTry ${psQuote(o.url)} ${psQuote(o.needle)} ${Math.ceil(o.attemptSeconds)})`
}

export interface PsWait extends PsCheck {
  want: number[]
  timeout: number
  logFile?: string
  lines: number
}

/** The wait loop, as the POSIX script: backoff 0.5 s doubling to 5 s, a line per attempt on stderr. */
export function psHttpWait(o: PsWait): string {
  const logs = o.logFile
    ? `try { $logs = (Get-Content -LiteralPath ${psQuote(o.logFile)} -Tail ${o.lines} -ErrorAction Stop) -join [char]10 } catch { $logs = [string]$_.Exception.Message }`
    : "$logs = ''"
  return `${PS_LIB}
${TRY_FN}
$want = @(${o.want.join(', ')})
$clock = [Diagnostics.Stopwatch]::StartNew()
$limit = ${o.timeout * 1000}
$pause = 500
$n = 0
while ($true) {
  $n++
  $left = $limit - $clock.ElapsedMilliseconds
  $t = [math]::Max(1, [math]::Ceiling([math]::Min(${o.attemptSeconds * 1000}, $left) / 1000))
  $r = Sc-HttpTry ${psQuote(o.url)} ${psQuote(o.needle)} $t
  if ($r.exit -eq 0 -and $r.match -eq 1 -and $want -contains $r.status) { "statecraft-wait attempts=$n"; exit 0 }
  if ($r.exit -eq 0) { [Console]::Error.WriteLine("statecraft-http-check attempt $($n): HTTP $($r.status)") }
  else { [Console]::Error.WriteLine("statecraft-http-check attempt $($n): no answer ($($r.exit))") }
  $left = $limit - $clock.ElapsedMilliseconds
  if ($left -le 0) { break }
  Start-Sleep -Milliseconds ([math]::Min($pause, $left))
  $pause = [math]::Min($pause * 2, 5000)
}
${logs}
if ($logs.Length -gt ${LOG_BYTES}) { $logs = $logs.Substring($logs.Length - ${LOG_BYTES}) }
$out = @("attempts=$n", "waitedms=$($clock.ElapsedMilliseconds)") + @(Sc-HttpReport $r) + @(Sc-KvHex 'logs' $logs)
foreach ($l in $out) { [Console]::Error.WriteLine('statecraft-http-check: ' + $l) }
exit 75`
}
