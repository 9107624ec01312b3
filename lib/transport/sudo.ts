import { randomBytes } from 'node:crypto'

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
  private readonly stdin: string | Uint8Array
  private readonly write: (b: string | Uint8Array) => void
  private readonly end: () => void
  private readonly fail: (why: SudoFailure) => void

  constructor(stdin: string | Uint8Array, x: SudoExchange | undefined, io: { write: (b: string | Uint8Array) => void; end: () => void; fail: (why: SudoFailure) => void }) {
    this.stdin = stdin
    this.x = x
    this.write = io.write
    this.end = io.end
    this.fail = io.fail
    if (!x) this.release()
  }

  private release(): void {
    this.released = true
    if (typeof this.stdin === 'string' ? this.stdin.length > 0 : this.stdin.byteLength > 0) this.write(this.stdin)
    this.end()
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
