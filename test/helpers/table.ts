import { expect } from 'vitest'
import type { Facts, ResourceType, Step } from '../../lib/core/types.ts'
import { posixDialect, powershellDialect } from '../../lib/shell/dialect.ts'
import { PS_PRELUDE } from '../../lib/shell/powershell/quote.ts'
import { StrictProbe } from './facts.ts'

/** A vitest asymmetric matcher, e.g. `expect.stringContaining(…)`. */
interface Asymmetric {
  asymmetricMatch(other: unknown): boolean
}

/**
 * One expected step. POSIX: its argv. PowerShell: the script text the host runs (without the
 * prelude every script gets), exactly as a string, or a RegExp, an asymmetric matcher, or a
 * function that asserts on it.
 */
export type StepExpect = string[] | string | RegExp | Asymmetric | ((script: string) => void)

export interface Case<D> {
  name: string
  desired: D
  facts: Facts
  /** Probe output, from `probe({...})`: strict, see StrictProbe. Omit for validation-error cases. */
  current?: StrictProbe
  /** Expected change texts; [] means converged: apply([]) must then yield no step. */
  changes?: string[]
  /**
   * Expected steps, in the host's dialect: argv arrays on POSIX facts, PowerShell expectations
   * on Windows facts. A case must give the dialect's form; the other one fails.
   */
  steps?: StepExpect[]
  /** Expected validation error, matched against the message. */
  error?: RegExp
  /** Expected error from apply (after `changes` are planned), matched against the message. */
  applyError?: RegExp
}

/** The script a PowerShell host receives for a step, without the prelude. */
export function psScriptOf(step: Step): string {
  const stdin = String(powershellDialect.step(step).stdin)
  const b64 = /FromBase64String\('([^']+)'\)/.exec(stdin)?.[1]
  if (!b64) throw new Error(`not a PowerShell bootstrap: ${stdin.slice(0, 120)}`)
  const text = Buffer.from(b64, 'base64').toString('utf8')
  if (!text.startsWith(`${PS_PRELUDE}\n`)) throw new Error('the PowerShell script lacks the prelude')
  return text.slice(PS_PRELUDE.length + 1)
}

function checkPs(caseName: string, i: number, script: string, want: StepExpect): void {
  const what = `${caseName}: step ${i + 1}`
  if (Array.isArray(want)) throw new Error(`${what}: the facts are Windows (PowerShell) but the case expects an argv; give the script text or a matcher on it`)
  if (typeof want === 'string') expect(script, what).toBe(want)
  else if (want instanceof RegExp) expect(script, what).toMatch(want)
  else if (typeof want === 'function') want(script)
  else expect(script, what).toEqual(want)
}

/**
 * facts + current state in, changes and commands out.
 * - error: validate throws it; nothing else is looked at.
 * - the probe output is strict (StrictProbe): reading a key the case did not state throws.
 * - changes [] (converged): apply with the empty change list must give no step.
 * - applyError: the plan shows `changes`, then apply throws it.
 * - steps: each passes through the host's dialect, and is compared in that dialect's form.
 */
export function runCase<D>(type: ResourceType<D, any>, c: Case<D>): void {
  if (c.error) {
    expect(() => type.validate(c.desired, c.facts)).toThrow(c.error)
    return
  }
  const d = type.validate(c.desired, c.facts)
  if (!(c.current instanceof StrictProbe)) throw new Error(`${c.name}: give the probe output as probe({...}) (strict fixture)`)
  if (c.changes === undefined) throw new Error(`${c.name}: give the expected changes ([] for converged)`)
  const cur = type.parse(c.current.named(`case "${c.name}"`), d)
  const changes = type.diff(d, cur)
  expect(changes.map((x) => x.text)).toEqual(c.changes)
  if (c.applyError) {
    if (c.steps) throw new Error(`${c.name}: a case expects either steps or an apply error, not both`)
    expect(() => type.apply(d, cur, changes, c.facts)).toThrow(c.applyError)
    return
  }
  const steps = type.apply(d, cur, changes, c.facts)
  if (changes.length === 0) {
    expect(c.steps ?? [], `${c.name}: a converged case expects no steps`).toEqual([])
    expect(steps, `${c.name}: apply([]) must give no step`).toEqual([])
    return
  }
  if (!c.steps) throw new Error(`${c.name}: changes are planned, so give the expected steps`)
  if (c.facts.dialect === 'powershell') {
    const scripts = steps.map(psScriptOf)
    expect(scripts.length, `${c.name}: number of steps`).toBe(c.steps.length)
    c.steps.forEach((want, i) => checkPs(c.name, i, scripts[i] as string, want))
    return
  }
  for (const want of c.steps) {
    if (!Array.isArray(want)) throw new Error(`${c.name}: the facts are POSIX but the case expects a PowerShell script; give argv arrays`)
  }
  for (const s of steps) posixDialect.step(s)
  expect(steps.map((s) => s.argv)).toEqual(c.steps)
}
