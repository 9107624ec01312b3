import { decodeHex, parseKv } from '../../shell/protocol.ts'
import { BODY_PREFIX } from './posix.ts'

/** What one attempt saw, as both halves print it (probe on stdout, a failed wait on stderr). */
export interface Attempt {
  /** curl's exit code (PowerShell: curl's code for the same cause); 0 when the server answered. */
  exit: number
  /** 0 when nothing answered. */
  status: number
  /** The body holds the expected text (or none was asked for). */
  match: boolean
  /** The first BODY_PREFIX bytes of the body. */
  body: string
  /** The client's own error line. */
  err: string
}

export function parseAttempt(kv: Map<string, string>): Attempt {
  return {
    exit: Number(kv.get('exit') ?? 1),
    status: Number(kv.get('status') ?? 0) || 0,
    match: kv.get('match') === '1',
    body: decodeHex(kv.get('body')),
    err: decodeHex(kv.get('err')).trim(),
  }
}

/** curl's exit codes a health check meets, in words (man curl, EXIT CODES). */
const CURL_EXIT: Record<number, string> = {
  1: 'the request failed',
  3: 'the URL is malformed',
  6: 'the host name could not be resolved (DNS)',
  7: 'the connection was refused (nothing listens on that port yet?)',
  28: 'the request timed out',
  35: 'the TLS handshake failed',
  47: 'too many redirects',
  52: 'the server closed the connection without an answer',
  56: 'the connection was reset while receiving',
  60: 'the server certificate is not trusted',
}

export function connectionError(exit: number, err: string): string {
  const words = CURL_EXIT[exit] ?? `the request failed (curl exit ${exit})`
  const detail = err.replace(/^curl: \(\d+\) /, '').split('\n')[0]?.replace(/\.$/, '')
  return detail ? `${words}: ${detail}` : words
}

export const statusText = (want: number[]): string => want.join(' or ')

/** What the last attempt got, for plans and errors: `HTTP 503` or the connection error. */
export function describeAttempt(a: Attempt, needle: string | undefined, withBody: boolean): string {
  if (a.exit !== 0) return connectionError(a.exit, a.err)
  let s = `HTTP ${a.status}`
  if (needle && !a.match) s += ` without ${JSON.stringify(needle)} in the body`
  if (withBody && a.body) s += `, body: ${JSON.stringify(a.body)}${Buffer.byteLength(a.body) >= BODY_PREFIX ? '…' : ''}`
  return s
}

export interface WaitContext {
  url: string
  want: number[]
  needle?: string
  timeout: number
  /** How the logs were read, for the heading: `journalctl -u invokeai.service`, a file path. */
  logSource?: string
}

/** The failure message of a wait that ran out of time, from the script's `statecraft-http-check: ` lines. */
export function explainWait(o: WaitContext, stderr: string): string | undefined {
  const lines = stderr.split('\n').filter((l) => l.startsWith('statecraft-http-check: ')).map((l) => l.slice('statecraft-http-check: '.length))
  const kv = parseKv(lines.join('\n'))
  const where = `httpCheck ${o.url}`
  if (kv.get('curl') === '0') {
    return `${where}: curl is not installed on the host; install it first (e.g. pkg({ name: 'curl' }), and list that resource in this check's after)`
  }
  if (!kv.has('attempts')) return undefined
  const last = parseAttempt(kv)
  const waited = (Number(kv.get('waitedms') ?? 0) / 1000).toFixed(1)
  const wanted = `HTTP ${statusText(o.want)}${o.needle ? ` with ${JSON.stringify(o.needle)} in the body` : ''}`
  let msg = `${where}: no expected answer within ${o.timeout} s (${kv.get('attempts')} attempts over ${waited} s): expected ${wanted}; the last attempt got ${describeAttempt(last, o.needle, true)}.`
  msg += ` Check that the service runs and listens on that address${o.logSource ? ' (its log below)' : ''}, or raise timeout if it needs longer to start.`
  const logs = decodeHex(kv.get('logs')).replace(/\s+$/, '')
  if (o.logSource) msg += logs ? `\nlast lines of ${o.logSource}:\n${logs}` : `\n${o.logSource}: no lines`
  return msg
}

/** The report's figures: attempts (from the host) and the seconds the wait took (from the controller). */
export function waitDetails(t0: () => number): (stdout: string) => Record<string, number> {
  return (stdout) => {
    const m = /statecraft-wait attempts=(\d+)/.exec(stdout)
    const out: Record<string, number> = {}
    if (m) Object.assign(out, { attempts: Number(m[1]), waitedSeconds: Math.round((performance.now() - t0()) / 100) / 10 })
    return out
  }
}
