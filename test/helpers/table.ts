import { expect } from 'vitest'
import type { Facts, ResourceType } from '../../lib/core/types.ts'

export interface Case<D> {
  name: string
  desired: D
  facts: Facts
  /** Probe output; omit for validation-error cases. */
  current?: Map<string, string>
  /** Expected change texts; [] means converged, so no commands may come out. */
  changes?: string[]
  /** Expected argv of each step. */
  steps?: string[][]
  /** Expected validation error, matched against the message. */
  error?: RegExp
}

/** facts + current state in, changes and commands out. */
export function runCase<D>(type: ResourceType<D, any>, c: Case<D>): void {
  if (c.error) {
    expect(() => type.validate(c.desired, c.facts)).toThrow(c.error)
    return
  }
  const d = type.validate(c.desired, c.facts)
  const cur = type.parse(c.current ?? new Map(), d)
  const changes = type.diff(d, cur)
  expect(changes.map((x) => x.text)).toEqual(c.changes)
  if (changes.length === 0) {
    expect(c.steps ?? []).toEqual([])
    return
  }
  const steps = type.apply(d, cur, changes, c.facts)
  expect(steps.map((s) => s.argv)).toEqual(c.steps)
}
