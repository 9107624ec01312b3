/** Why a command was stopped before it finished by itself. */
export type Expiry = 'timeout' | 'idle-timeout'

/**
 * The two bounds on a running command: a total time, and a time without any output (long work
 * such as an environment build is bounded by its progress, not by a short total). `touch()` on
 * every chunk of output; `clear()` when the command ends.
 */
export class Deadline {
  private total: NodeJS.Timeout | undefined
  private idle: NodeJS.Timeout | undefined
  private readonly idleMs: number | undefined
  private readonly expire: (why: Expiry) => void
  expired: Expiry | undefined

  constructor(o: { timeout?: number; idleTimeout?: number }, expire: (why: Expiry) => void) {
    this.expire = expire
    this.idleMs = o.idleTimeout
    if (o.timeout) this.total = setTimeout(() => this.fire('timeout'), o.timeout)
    this.touch()
  }

  private fire(why: Expiry): void {
    if (this.expired) return
    this.expired = why
    this.clear()
    this.expire(why)
  }

  touch(): void {
    if (!this.idleMs || this.expired) return
    clearTimeout(this.idle)
    this.idle = setTimeout(() => this.fire('idle-timeout'), this.idleMs)
  }

  clear(): void {
    clearTimeout(this.total)
    clearTimeout(this.idle)
  }
}
