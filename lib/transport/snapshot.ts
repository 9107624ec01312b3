import { TransportError } from '../core/errors.ts'
import type { OsName } from '../core/types.ts'
import type { ExecResult, Transport, TransportStats } from './types.ts'

/**
 * The transport of a simulated host (`--simulate`): the engine takes facts and probe outputs from
 * the snapshot and sends nothing, so any exec is a bug, refused before a socket could exist.
 */
export class SnapshotTransport implements Transport {
  readonly stats: TransportStats = { roundTrips: 0, connections: 0 }
  /** The snapshot's facts say the OS; nothing is guessed from a transport that never connects. */
  readonly osHint: OsName | undefined = undefined
  private readonly host: string
  constructor(host: string) {
    this.host = host
  }
  async exec(): Promise<ExecResult> {
    throw new TransportError(`host ${this.host}: simulated from a snapshot, so nothing can run there; this is a statecraft bug, please report it`)
  }
  async close(): Promise<void> {}
}
