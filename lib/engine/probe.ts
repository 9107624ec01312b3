import { randomBytes } from 'node:crypto'
import { TransportError } from '../core/errors.ts'
import type { ProbeData } from '../core/types.ts'
import { parseKv, SHELL_LIB } from '../facts/shell-lib.ts'

export function newNonce(): string {
  return randomBytes(12).toString('hex')
}

const marker = (nonce: string, tag: string): string => `@@statecraft:${nonce}:${tag}`

/**
 * One script for many probes. Each snippet runs in its own subshell so it cannot disturb the
 * next; sections are split by markers carrying a per-run nonce that no probed file can know.
 */
export function batchScript(snippets: string[], nonce: string): string {
  const parts = [SHELL_LIB]
  snippets.forEach((s, i) => {
    parts.push(`echo '${marker(nonce, String(i))}'`, `(\n${s}\n)`)
  })
  parts.push(`echo '${marker(nonce, 'end')}'`)
  return `${parts.join('\n')}\n`
}

export function splitBatch(stdout: string, count: number, nonce: string, host: string): ProbeData[] {
  const out: ProbeData[] = []
  const lines = stdout.split('\n')
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
