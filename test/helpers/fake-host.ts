import type { ExecOptions, ExecResult, Transport, TransportStats } from '../../lib/transport/types.ts'

/**
 * A host that answers from a script of canned outputs. It fails loudly on any exec the test did
 * not provide for, so a test cannot pass on facts it never stated.
 */
export class FakeHost implements Transport {
  readonly stats: TransportStats = { roundTrips: 0, connections: 1 }
  readonly calls: { command: string; stdin: string }[] = []
  private readonly answer: (command: string, stdin: string) => ExecResult | Promise<ExecResult> | undefined
  constructor(answer: (command: string, stdin: string) => ExecResult | Promise<ExecResult> | undefined) {
    this.answer = answer
  }
  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.stats.roundTrips++
    const src = opts.stdin
    const stdin = src === undefined ? '' : typeof src === 'object' && 'file' in src ? `<file ${src.file} from ${src.start}>` : Buffer.from(src).toString('utf8')
    this.calls.push({ command, stdin })
    const r = await this.answer(command, stdin)
    if (!r) throw new Error(`FakeHost: no canned answer for ${JSON.stringify(command)} with stdin ${JSON.stringify(stdin.slice(0, 200))}`)
    return r
  }
  async close(): Promise<void> {}
}

export const ok = (stdout: string): ExecResult => ({ code: 0, signal: null, stdout, stderr: '' })

/**
 * The batch's served-read sections (lib/shell/posix/batch.ts), empty, for a replay whose probe
 * sections print `kind`/`perm`/`owner`/`content` themselves (what a snippet prints wins): present
 * only when the script asked for them, as the real shell prints them.
 */
export function servedReads(stdin: string, nonce: string): string {
  return stdin.includes(`@@statecraft:${nonce}:stat'`) ? `@@statecraft:${nonce}:stat\n@@statecraft:${nonce}:content\n` : ''
}
