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

/**
 * The sections of a batch's output by tag (`0`, `1`, …, `stat`), each as its lines; throws when
 * the end marker never came. Only markers with this run's nonce count. Body lines are kept as
 * printed (a POSIX file name may end in a CR): a CRLF dialect's caller normalises first.
 */
export function splitSections(stdout: string, nonce: string, host: string, count?: number): Map<string, string> {
  const out = new Map<string, string>()
  const lines = stdout.split('\n')
  const prefix = marker(nonce, '')
  let tag: string | null = null
  let body: string[] = []
  let ended = false
  for (const line of lines) {
    if (line.startsWith(prefix)) {
      if (tag !== null && !out.has(tag)) out.set(tag, body.length ? `${body.join('\n')}\n` : '')
      tag = line.slice(prefix.length).replace(/\r$/, '')
      body = []
      if (tag === 'end') {
        ended = true
        break
      }
    } else if (tag !== null) {
      body.push(line)
    }
  }
  if (!ended) {
    const got = [...out.keys()].filter((k) => /^\d+$/.test(k)).length
    throw new TransportError(
      `host ${host}: the probe script's output was cut short (${got}${count !== undefined ? ` of ${count}` : ''} sections); ` +
        'the connection may have dropped or the shell may not be POSIX sh. Run again with --verbose to see its stderr.',
    )
  }
  return out
}

export function splitBatch(stdout: string, count: number, nonce: string, host: string): ProbeData[] {
  const sections = splitSections(stdout, nonce, host, count)
  const out: ProbeData[] = []
  for (let i = 0; i < count; i++) {
    const body = sections.get(String(i))
    if (body === undefined) {
      throw new TransportError(
        `host ${host}: the probe script's output was cut short (${i} of ${count} sections); ` +
          'the connection may have dropped or the shell may not be POSIX sh. Run again with --verbose to see its stderr.',
      )
    }
    out.push(parseKv(body))
  }
  return out
}
