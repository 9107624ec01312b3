/** Why a command was stopped before it finished by itself. */
export type Expiry = 'timeout' | 'idle-timeout' | 'prompt'

/**
 * What a program prints when it stops to wait for an answer: a password or passphrase, yes/no,
 * a licence to accept, "press return". Matched on the last line of output, which has no newline
 * yet because the program waits on the same line.
 */
export const PROMPT = /(password|passphrase|\[y\/n\]|\(y\/n\)|\[yes\/no\]|\(yes\/no\)|y\/n\??|press (return|enter|any key)|do you (accept|agree|want to continue)|continue\?|overwrite\?|proceed\?)[^\n]{0,40}$/i

/**
 * The bounds on a running command: a total time; a time without any output (long work such as an
 * environment build is bounded by its progress, not by a short total); and a short time after it
 * printed what looks like a prompt and went quiet — statecraft gives commands no input, so it
 * would wait forever. `touch(text)` on every chunk of output; `clear()` when the command ends.
 */
export class Deadline {
  private total: NodeJS.Timeout | undefined
  private idle: NodeJS.Timeout | undefined
  private asking: NodeJS.Timeout | undefined
  private readonly idleMs: number | undefined
  private readonly promptMs: number | undefined
  private readonly expire: (why: Expiry) => void
  private tail = ''
  expired: Expiry | undefined

  constructor(o: { timeout?: number; idleTimeout?: number; promptTimeout?: number }, expire: (why: Expiry) => void) {
    this.expire = expire
    this.idleMs = o.idleTimeout
    this.promptMs = o.promptTimeout
    if (o.timeout) this.total = setTimeout(() => this.fire('timeout'), o.timeout)
    this.touch()
  }

  private fire(why: Expiry): void {
    if (this.expired) return
    this.expired = why
    this.clear()
    this.expire(why)
  }

  touch(text = ''): void {
    if (this.expired) return
    if (this.idleMs) {
      clearTimeout(this.idle)
      this.idle = setTimeout(() => this.fire('idle-timeout'), this.idleMs)
    }
    if (!this.promptMs) return
    this.tail = (this.tail + text).slice(-200)
    clearTimeout(this.asking)
    if (PROMPT.test(this.tail)) this.asking = setTimeout(() => this.fire('prompt'), this.promptMs)
  }

  clear(): void {
    clearTimeout(this.total)
    clearTimeout(this.idle)
    clearTimeout(this.asking)
  }
}
