import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConnectError, TransportError } from '../../lib/core/errors.ts'
import { quote } from '../../lib/shell/posix/quote.ts'
import { REBOOT_SCRIPT } from '../../lib/shell/posix/scripts.ts'
import { LocalTransport } from '../../lib/transport/local.ts'
import type { ExecOptions, ExecResult, Transport, TransportStats } from '../../lib/transport/types.ts'

const KERNEL_BOOT_ID = '/proc/sys/kernel/random/boot_id'

/**
 * This machine, with a boot id of its own that a restart changes: every script runs in a real
 * shell on real files (the lock, the resources), but the facts read the boot id from `bootFile`,
 * and the restart script is answered by a simulated restart — a new boot id, the connection
 * dropped, and `downFor` execs refused as a host that is still booting refuses them. The one
 * thing not real is the restart itself (test/e2e/reboot.test.ts restarts real Debian hosts).
 */
export class RebootableHost implements Transport {
  readonly stats: TransportStats = { roundTrips: 0, connections: 1 }
  readonly bootFile: string
  boots = 1
  /** The uid each restart command ran as (the restart script is swapped for `id -u`, sent the same way: sudo included). */
  readonly restartedAs: number[] = []
  /** Execs refused after each restart. */
  downFor: number
  /** Awaited on the first refused exec after a restart (another run can try the host meanwhile). */
  onDown: (() => Promise<void>) | undefined
  private down = 0
  private readonly inner: Transport
  private readonly onRestart: (() => Promise<void>) | undefined

  /**
   * `inner`: how scripts reach this machine (default: locally, with HOME = `home`; an SSH transport
   * to a test sshd makes the drop real). `onRestart`: what else a restart does (stop that sshd).
   */
  constructor(home: string, o: { downFor?: number; bootFile?: string; inner?: Transport; onRestart?: () => Promise<void> } = {}) {
    this.inner = o.inner ?? new LocalTransport({ env: { ...process.env, HOME: home } })
    this.onRestart = o.onRestart
    this.downFor = o.downFor ?? 2
    this.bootFile = o.bootFile ?? join(home, 'boot_id')
    if (!o.bootFile) writeFileSync(this.bootFile, `${randomUUID()}\n`)
  }

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.stats.roundTrips++
    if (this.down > 0) {
      const first = this.down === this.downFor
      this.down--
      if (first) await this.onDown?.()
      throw new ConnectError('host rebootable: connection refused: is sshd running there and is the port right?')
    }
    if (opts.stdin === REBOOT_SCRIPT) {
      const who = await this.inner.exec(command, { ...opts, stdin: 'id -u\n' })
      this.restartedAs.push(Number(who.stdout.trim().split('\n').pop()))
      writeFileSync(this.bootFile, `${randomUUID()}\n`)
      this.boots++
      this.down = this.downFor
      await this.onRestart?.()
      throw new TransportError('host rebootable: the connection dropped while a command was running')
    }
    const stdin = typeof opts.stdin === 'string' ? opts.stdin.replaceAll(KERNEL_BOOT_ID, quote(this.bootFile)) : opts.stdin
    try {
      return await this.inner.exec(command, { ...opts, ...(stdin !== undefined ? { stdin } : {}) })
    } finally {
      this.stats.connections = this.inner.stats.connections
    }
  }

  async close(): Promise<void> {
    await this.inner.close()
  }
}
