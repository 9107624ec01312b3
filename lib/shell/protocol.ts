import { randomBytes } from 'node:crypto'
import { TransportError } from '../core/errors.ts'
import type { ProbeData } from '../core/types.ts'

/**
 * What comes back from a host, for every dialect: `key=value` lines, hex for any value that can
 * hold arbitrary bytes, and batch sections split by markers carrying a per-run nonce that no
 * probed file can know.
 */

export function newNonce(): string {
  return randomBytes(12).toString('hex')
}

export const marker = (nonce: string, tag: string): string => `@@statecraft:${nonce}:${tag}`

export function decodeHex(hex: string | undefined): string {
  return hex ? Buffer.from(hex, 'hex').toString('utf8') : ''
}

/** Parses `key=value` lines (LF or CRLF); later keys win. */
export function parseKv(text: string): Map<string, string> {
  const m = new Map<string, string>()
  for (const line of text.replaceAll('\r\n', '\n').split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) m.set(line.slice(0, eq), line.slice(eq + 1))
  }
  return m
}

export function splitBatch(stdout: string, count: number, nonce: string, host: string): ProbeData[] {
  const out: ProbeData[] = []
  const lines = stdout.replaceAll('\r\n', '\n').split('\n')
  let current: string[] | null = null
  let ended = false
  const prefix = marker(nonce, '')
  for (const line of lines) {
    if (line.startsWith(prefix)) {
      if (current) out.push(parseKv(current.join('\n')))
      const tag = line.slice(prefix.length)
      if (tag === 'end') {
        ended = true
        current = null
        break
      }
      current = []
    } else if (current) {
      current.push(line)
    }
  }
  if (!ended || out.length !== count) {
    throw new TransportError(
      `host ${host}: the probe script's output was cut short (${out.length} of ${count} sections); ` +
        'the connection may have dropped or the shell may not be POSIX sh. Run again with --verbose to see its stderr.',
    )
  }
  return out
}
