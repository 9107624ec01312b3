import { spawnSync } from 'node:child_process'
import Parser from 'tree-sitter'
import PowerShell from 'tree-sitter-powershell'
import type { Example, Facts, ResourceType, RunFlags } from '../../lib/core/types.ts'
import { batchScript } from '../../lib/shell/posix/scripts.ts'
import { PS_PRELUDE, psStep } from '../../lib/shell/powershell/quote.ts'
import { psBatchScript } from '../../lib/shell/powershell/scripts.ts'
import { linuxFacts } from './facts.ts'

/**
 * The shell lint checks every built-in passes, for any resource type: a third-party resource runs
 * them on its own type with `lintPosix(myType.type, samples)` / `lintPowerShell(...)` in a test.
 */

type AnyType = ResourceType<any, any, any>

export const windowsFacts: Facts = { os: 'windows', arch: 'x64', appleSilicon: false, kernel: 'Windows_NT', user: 'ana', uid: null, home: 'C:\\Users\\ana', hostname: 'GAMING-PC', dialect: 'powershell', bootId: '20261126060000', packageManagers: [], rebootPending: false }

const FLAGS: RunFlags = { verifyArtifacts: true }

/** A type's own examples for each value (a path made from it per dialect); fails when it has none. */
export function examplesOf(type: AnyType, values: string[], pathOf: (value: string) => string): Example[] {
  if (!type.examples) throw new Error(`resource type '${type.type}' has no examples: give its spec examples() so the shell lint tests can run it`)
  const out = values.flatMap((value) => type.examples?.({ path: pathOf(value), value }) ?? [])
  if (out.length === 0) throw new Error(`resource type '${type.type}': examples() returned none`)
  return out
}

export function shellcheck(script: string): { code: number | null; out: string } {
  // SC2086/SC2046: the word splitting in sc_stat is deliberate (ls fields, with set -f). Info-level
  // notes (literal $ in single quotes) are what quoting hostile values is meant to produce.
  const r = spawnSync('shellcheck', ['-s', 'sh', '--severity=warning', '-e', 'SC2086,SC2046', '-'], { input: script })
  if (r.error) throw new Error(`shellcheck is not installed (apt-get install shellcheck): ${r.error.message}`)
  return { code: r.status, out: r.stdout.toString() }
}

/** shellcheck over one batched probe of every sample of every type given: '' when clean. */
export function lintPosix(types: { type: AnyType; samples: Example[] }[], facts: Facts = linuxFacts): { code: number | null; out: string; snippets: number } {
  const snippets = types.flatMap(({ type, samples }) => samples.map((s) => type.probe(type.validate(s.desired, facts), facts, FLAGS)))
  return { ...shellcheck(batchScript(snippets, 'abc123')), snippets: snippets.length }
}

let parser: Parser | undefined

/** Parses with a real PowerShell grammar; returns the first error nodes' text, or '' if clean. */
export function psSyntaxError(script: string): string {
  if (!parser) {
    parser = new Parser()
    parser.setLanguage(PowerShell as never)
  }
  const tree = parser.parse(script, undefined, { bufferSize: 1024 * 1024 })
  if (!tree.rootNode.hasError) return ''
  const bad: Parser.SyntaxNode[] = []
  const walk = (n: Parser.SyntaxNode): void => {
    if (n.type === 'ERROR' || n.isMissing) bad.push(n)
    n.children.forEach(walk)
  }
  walk(tree.rootNode)
  return bad.map((n) => `line ${n.startPosition.row + 1}: ${JSON.stringify(n.text.slice(0, 120))}`).join('\n') || 'error'
}

/**
 * Every sample's probe (in one batch) and the steps its apply makes against its `current`, parsed
 * as PowerShell. Returns the errors ('' when clean) and how many step scripts were checked.
 */
export function lintPowerShell(types: { type: AnyType; samples: Example[] }[], facts: Facts = windowsFacts): { probe: string; steps: string[]; stepCount: number } {
  const snippets: string[] = []
  const steps: string[] = []
  for (const { type, samples } of types) {
    for (const s of samples) {
      const d = type.validate(s.desired, facts)
      snippets.push(type.probe(d, facts, FLAGS))
      for (const st of type.apply(d, s.current, type.diff(d, s.current), facts)) steps.push(st.psScript ?? psStep(st))
    }
  }
  const probe = psSyntaxError(`${PS_PRELUDE}\n${psBatchScript(snippets, 'abc123')}`)
  return { probe, steps: steps.map((s) => psSyntaxError(`${PS_PRELUDE}\n${s}`)).filter((e) => e !== ''), stepCount: steps.length }
}
