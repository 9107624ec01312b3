import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Step } from '../../lib/core/types.ts'
import { commandLine, quote } from '../../lib/shell/posix/quote.ts'
import { anyString, envName, fileName } from '../helpers/arbitraries.ts'
import { tempDir } from '../helpers/tmp.ts'

/** Every POSIX shell a step may meet here, as the argv prefix that runs a `-c` script. */
const SHELLS: [string, string[]][] = [
  ['sh', ['/bin/sh']],
  ['dash', ['dash']],
  ['bash', ['bash']],
  ['bash --posix', ['bash', '--posix']],
]

/** Runs `script` the way a transport runs a command: `<shell> -c script`, in a minimal environment. */
function run(shell: string[], script: string): Buffer {
  const [bin, ...args] = shell as [string, ...string[]]
  return execFileSync(bin, [...args, '-c', script], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] })
}

const nulJoined = (vs: string[]): Buffer => Buffer.from(vs.map((v) => `${v}\0`).join(''), 'utf8')

describe.each(SHELLS)('quote() round-trips any string through %s', (_name, shell) => {
  it('printf of many quoted values gives back exactly the bytes of each', () => {
    let samples = 0
    fc.assert(
      fc.property(fc.array(anyString(), { minLength: 1, maxLength: 50, size: 'max' }), (values) => {
        const script = `printf '%s\\0' ${values.map(quote).join(' ')}`
        // Linux refuses one argument over 128 KiB (E2BIG): a limit of the -c test harness, not of
        // quoting (commands reach the host on stdin, not as one argument).
        fc.pre(Buffer.byteLength(script) < 120_000)
        samples += values.length
        const out = run(shell, script)
        // Compare bytes, so a mangled encoding cannot hide behind a lenient decoder.
        expect(out.equals(nulJoined(values)), JSON.stringify({ values, got: out.toString('utf8').split('\0') })).toBe(true)
      }),
      // 40 arrays of 1..50 values: about 1000 samples; the floor below sits ~5 deviations under that.
      { numRuns: 40 },
    )
    expect(samples).toBeGreaterThanOrEqual(500)
  })
})

/**
 * A program that reports what it received, NUL-separated: its physical cwd (pwd adds a newline),
 * its argument count and arguments, then its environment (env -0), then an empty field.
 */
const PRINTER = `#!/bin/sh
pwd -P; printf '\\0'
printf '%s\\0' "$#" "$@"
env -0; printf '\\0'
`

interface Seen {
  cwd: string
  args: string[]
  env: Record<string, string>
}

/** Parses the printer's output of one or more runs. */
function parseSeen(out: Buffer): Seen[] {
  const fields = out.toString('utf8').split('\0')
  const seen: Seen[] = []
  let i = 0
  const next = (): string => {
    if (i >= fields.length) throw new Error(`printer output ended early: ${JSON.stringify(fields)}`)
    return fields[i++] as string
  }
  while (i < fields.length - 1) {
    const cwd = next()
    if (!cwd.endsWith('\n')) throw new Error(`no cwd in printer output: ${JSON.stringify(fields)}`)
    const argc = Number(next())
    const args = Array.from({ length: argc }, next)
    const env: Record<string, string> = {}
    for (let e = next(); e !== ''; e = next()) {
      const eq = e.indexOf('=')
      env[e.slice(0, eq)] = e.slice(eq + 1)
    }
    seen.push({ cwd: cwd.slice(0, -1), args, env })
  }
  return seen
}

/** Only the variables the property controls: the shells add PWD, SHLVL, _ and the like. */
const ours = (env: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('SC_P')))

/** A step for the printer: the printer's own folder (with "=" too), the cwd and the env are random. */
const stepArb = fc.record({
  progDir: fileName(),
  args: fc.array(anyString(), { maxLength: 6 }),
  cwd: fc.option(fc.array(fileName(), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  env: fc.dictionary(envName, anyString(), { maxKeys: 4 }),
})

type StepSpec = typeof stepArb extends fc.Arbitrary<infer T> ? T : never

function materialise(base: string, spec: StepSpec): { step: Step; expected: Seen } {
  const progDir = `${base}/prog/${spec.progDir}`
  if (!existsSync(`${progDir}/printer`)) {
    mkdirSync(progDir, { recursive: true })
    writeFileSync(`${progDir}/printer`, PRINTER)
    chmodSync(`${progDir}/printer`, 0o755)
  }
  const step: Step = { argv: [`${progDir}/printer`, ...spec.args], env: spec.env }
  let cwd = base
  if (spec.cwd) {
    cwd = `${base}/cwd/${spec.cwd.join('/')}`
    mkdirSync(cwd, { recursive: true })
    step.cwd = cwd
  }
  return { step, expected: { cwd, args: spec.args, env: spec.env } }
}

describe.each(SHELLS)('commandLine() under %s', (_name, shell) => {
  it('the program receives exactly the argv, runs in exactly the cwd, sees exactly the env values', () => {
    const base = tempDir()
    let samples = 0
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 8 }), (specs) => {
        samples += specs.length
        const cases = specs.map((s) => materialise(base, s))
        // Each step in a subshell of its own, as if it were its own `sh -c`; base is the default cwd.
        const script = [`cd -- ${quote(base)} || exit 99`, ...cases.map((c) => `(${commandLine(c.step)}) || exit 98`)].join('\n')
        const seen = parseSeen(run(shell, script))
        expect(seen.map((s) => ({ ...s, env: ours(s.env) }))).toEqual(cases.map((c) => c.expected))
      }),
      { numRuns: 25 },
    )
    expect(samples).toBeGreaterThanOrEqual(50)
  })
})

describe('commandLine(): a program name with "=" in it', () => {
  /** Installs the printer as `dir/name` and returns what it saw when `step` ran under sh. */
  function runPrinter(dir: string, name: string, step: Step): Seen[] {
    mkdirSync(dir, { recursive: true })
    writeFileSync(`${dir}/${name}`, PRINTER)
    chmodSync(`${dir}/${name}`, 0o755)
    const out = execFileSync('/bin/sh', ['-c', `${commandLine(step)} || :`], { env: { PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}` }, stdio: ['ignore', 'pipe', 'ignore'] })
    return parseSeen(out)
  }

  it('runs without env (the path before "=" is not a variable name, so sh does not take it as an assignment)', () => {
    const base = tempDir()
    const seen = runPrinter(`${base}/a=b`, 'printer', { argv: [`${base}/a=b/printer`, 'x'] })
    expect(seen.map((s) => s.args)).toEqual([['x']])
  })

  // Was a bug: with env set, the line was `env 'SC_PA=1' /tmp/…/a=b/printer x`, and env(1) takes
  // every leading argument that contains "=" as an assignment. Env values are shell assignments
  // now, and a program name with "=" is quoted.
  it('env set and "=" in the program path', () => {
    const base = tempDir()
    const seen = runPrinter(`${base}/a=b`, 'printer', { argv: [`${base}/a=b/printer`, 'x'], env: { SC_PA: '1' } })
    expect(seen.map((s) => s.args)).toEqual([['x']])
  })

  // Was a bug: 'a=b' matched the bare-word fast path, so the line was `a=b x`, which sh reads as an
  // assignment followed by the command `x`. The program name is quoted now.
  it('a program on PATH named "a=b"', () => {
    const base = tempDir()
    const seen = runPrinter(`${base}/bin`, 'a=b', { argv: ['a=b', 'x'] })
    expect(seen.map((s) => s.args)).toEqual([['x']])
  })
})
