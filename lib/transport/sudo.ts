import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'

import type { StdinSource } from '../core/types.ts'

export interface StdinIo {
  write: (b: string | Uint8Array) => void
  end: () => void
  pipe: (r: NodeJS.ReadableStream) => void
  fail: (why: SudoFailure) => void
}

/**
 * Privilege escalation with the password on stdin and never in argv: sudo prints a random
 * prompt on stderr when it wants the password; the command it starts prints a random ready
 * marker before anything else. stdin is held back until the marker, so the password can never
 * reach the command (sudo may not ask at all: NOPASSWD or a cached timestamp).
 */
export interface SudoExchange {
  password?: string
  prompt: string
  ready: string
}

export function newSudoExchange(password?: string): SudoExchange {
  const tag = randomBytes(8).toString('hex')
  return { ...(password !== undefined ? { password } : {}), prompt: `[statecraft-sudo-${tag}] password:`, ready: `statecraft-ready-${tag}` }
}

export type SudoFailure = 'needs-password' | 'wrong-password'

/** Drives one process's stdin from what it prints on stderr. */
export class StdinDriver {
  private seen = ''
  private prompts = 0
  private released = false
  private readonly x: SudoExchange | undefined
  private readonly stdin: StdinSource
  private readonly io: StdinIo

  constructor(stdin: StdinSource, x: SudoExchange | undefined, io: StdinIo) {
    this.stdin = stdin
    this.x = x
    this.io = io
    if (!x) this.release()
  }

  private write(b: string | Uint8Array): void {
    this.io.write(b)
  }

  private fail(why: SudoFailure): void {
    this.io.fail(why)
  }

  private release(): void {
    this.released = true
    const s = this.stdin
    if (typeof s === 'object' && 'file' in s) return this.io.pipe(createReadStream(s.file, { start: s.start }))
    if (typeof s === 'string' ? s.length > 0 : s.byteLength > 0) this.write(s)
    this.io.end()
  }

  /** Feed stderr here; returns what the user should see of it. */
  onStderr(chunk: string): string {
    if (!this.x || this.released) return chunk
    this.seen += chunk
    let visible = ''
    for (;;) {
      const p = this.seen.indexOf(this.x.prompt)
      const r = this.seen.indexOf(`${this.x.ready}\n`)
      if (p >= 0 && (r < 0 || p < r)) {
        visible += this.seen.slice(0, p)
        this.seen = this.seen.slice(p + this.x.prompt.length)
        this.prompts++
        if (this.x.password === undefined) return this.fail('needs-password'), visible
        if (this.prompts > 1) return this.fail('wrong-password'), visible
        this.write(`${this.x.password}\n`)
        continue
      }
      if (r >= 0) {
        visible += this.seen.slice(0, r)
        const rest = this.seen.slice(r + this.x.ready.length + 1)
        this.seen = ''
        this.release()
        return visible + rest
      }
      // Keep a tail that could be the start of a marker; show the rest.
      const keep = Math.max(this.x.prompt.length, this.x.ready.length + 1)
      if (this.seen.length > keep) {
        visible += this.seen.slice(0, this.seen.length - keep)
        this.seen = this.seen.slice(-keep)
      }
      return visible
    }
  }

  /** At exit: a password was sent but the command never started (sudo gave up after one try). */
  failure(): SudoFailure | undefined {
    return this.x && this.prompts > 0 && !this.released ? 'wrong-password' : undefined
  }

  /** Stderr held back at the end (no marker came). */
  flush(): string {
    const s = this.seen
    this.seen = ''
    return s
  }
}
