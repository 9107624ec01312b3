import type { Facts, ProbeData } from '../../lib/core/types.ts'
import type { PlanNode } from '../../lib/engine/node.ts'

/** A replayed file system: what `ls -ld` (a Mac) or Sc-Stat (Windows) would find at each path. */
export type Entry =
  | { kind: 'directory'; perm?: string; owner?: string }
  | { kind: 'file'; perm?: string; owner?: string; content: string }
  | { kind: 'link'; perm?: string; owner?: string; target: string }

export type ReplayedFs = Record<string, Entry>

/**
 * The replayed host a probe is answered from: its files, and which of the tools the recipe
 * manages (a conda, rustup, the Command Line Tools, a clone, an env, a service…) are there as the
 * recipe wants them (`has(id)`); the others are not installed at all, as on a fresh host.
 */
export interface Replayed {
  facts: Facts
  fs: ReplayedFs
  has(id: string): boolean
  /** Every probed node: a probe that reads another resource's work (the env reads the clone's yml) asks about it. */
  nodes: PlanNode[]
  /** Hex as the host's helpers print it: sc_hex's lower case, or Sc-Hex's upper case on Windows. */
  hex(s: string): string
}

/** One family's answers: the probe output of a node it knows, or undefined for a type it does not. */
export type Replies = (n: PlanNode, h: Replayed) => ProbeData | undefined

export const kv = (o: Record<string, string | undefined>): ProbeData => new Map(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined))
