import { PROMPT } from '../transport/deadline.ts'
import type { ExecResult } from '../transport/types.ts'
import { marker } from '../shell/protocol.ts'

// Reading what a host's commands print: progress lines, the tail shown in errors, where a probe
// stopped, the prompt a command waits at.

/** Splits streamed stderr into lines and reports `statecraft-progress BYTES [TOTAL]`. */
export function progressParser(report: (bytes: number, total?: number) => void): (text: string) => void {
  let buf = ''
  return (text) => {
    buf += text
    const lines = buf.split('\n')
    buf = lines.pop() ?? ''
    for (const l of lines) {
      const m = /^statecraft-progress (\d+)(?: (\d+))?/.exec(l)
      if (m) report(Number(m[1]), m[2] ? Number(m[2]) : undefined)
    }
  }
}

export function tail(s: string): string {
  const t = s.trim()
  return t.length > 600 ? `…${t.slice(-600)}` : t
}

/** The index of the last probe section that started (its marker was printed), if any. */
export function lastSection(stdout: string, nonce: string): number | undefined {
  const prefix = marker(nonce, '')
  let last: number | undefined
  for (const line of stdout.replaceAll('\r\n', '\n').split('\n')) {
    if (line.startsWith(prefix)) {
      const n = Number(line.slice(prefix.length))
      if (Number.isInteger(n)) last = n
    }
  }
  return last
}

/** A command that printed a prompt and went quiet is ended this long after (Step.promptTimeout). */
export const DEFAULT_PROMPT_MS = 10_000

/** The prompt a command was left waiting at: the last line of its output that looks like one. */
export function promptOf(r: ExecResult): string {
  for (const text of [r.stderr, r.stdout]) {
    const last = text.replace(/\s+$/, '').split('\n').pop() ?? ''
    if (PROMPT.test(last)) return last.trim().slice(-120)
  }
  return ''
}
