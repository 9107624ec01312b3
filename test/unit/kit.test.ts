import { existsSync, readFileSync } from 'node:fs'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { converge, defineRecipe, file } from '../../lib/index.ts'
import { atomicWrite, decodeHex, defineResource, normalisePath, parseStat, path, psQuote, psScriptStep, psWrite, quote, statProbe, text, ValidationError, type Change, type Stat } from '../../lib/kit.ts'
import { linuxFacts } from '../helpers/facts.ts'
import { lintPosix, lintPowerShell, windowsFacts } from '../helpers/lint.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

/** A third-party resource as an author outside the project writes it: only `statecraft/kit`. */
interface MarkerOptions {
  path: string
  /** What the marker file says. */
  label?: string
}
interface MarkerCurrent extends Stat {
  content?: string
}
type MarkerOp = { op: 'write'; content: string } | { op: 'note'; by: string[] }

const spec = {
  type: 'marker',
  describe: (i: Record<string, any>) => `marker ${String(i.path)}`,
  fields: { path: path(), label: v.optional(text()) },
  normalise: (d: MarkerOptions, facts: typeof linuxFacts, fail: (f: string, p: string) => never): MarkerOptions => ({ ...d, path: normalisePath(d.path, 'path', facts, fail) }),
  defaultId: (d: MarkerOptions) => `marker:${d.path}`,
  paths: (d: MarkerOptions) => [{ path: d.path, kind: 'file' as const }],
  parse(data: Map<string, string>): MarkerCurrent {
    const c: MarkerCurrent = parseStat(data)
    if (data.has('content')) c.content = decodeHex(data.get('content'))
    return c
  },
  diff(d: MarkerOptions, c: MarkerCurrent): Change<MarkerOp>[] {
    const want = `${d.label ?? 'ready'}\n`
    return c.content === want ? [] : [{ op: 'write', content: want, text: `write marker ${d.path}` }]
  },
  examples: ({ path, value }: { path: string; value: string }) => [{ desired: { path, label: value }, current: { kind: 'absent' as const } }],
}

/** The log next to the marker records each notification, so a test can count them. */
const posix = {
  probe: (d: MarkerOptions) => `${statProbe(d.path, 'posix')}\nif [ -f ${quote(d.path)} ]; then printf 'content='; sc_hex < ${quote(d.path)}; echo; fi`,
  apply: (d: MarkerOptions, _c: MarkerCurrent, changes: Change<MarkerOp>[]) =>
    changes.map((ch) => (ch.op === 'write' ? atomicWrite(d.path, ch.content, '0644') : { argv: ['sh', '-c', 'echo "notified by $2" >> "$1.log"', 'marker-note', d.path, ch.by.join(',')] })),
}
const powershell = {
  probe: (d: MarkerOptions) => `${statProbe(d.path, 'powershell')}\nif (Test-Path -LiteralPath ${psQuote(d.path)} -PathType Leaf) { Sc-KvHex 'content' ([IO.File]::ReadAllText(${psQuote(d.path)})) }`,
  apply: (d: MarkerOptions, _c: MarkerCurrent, changes: Change<MarkerOp>[]) =>
    changes.map((ch) => (ch.op === 'write' ? psWrite(d.path, ch.content) : psScriptStep(`note ${d.path}`, `Add-Content -LiteralPath (${psQuote(d.path)} + '.log') -Value ${psQuote(`notified by ${ch.by.join(',')}`)}`))),
}
const notified = (d: MarkerOptions, by: string[]): Change<MarkerOp> => ({ op: 'note', by, text: `note in ${d.path}.log (notified by ${by.join(', ')})` })

const marker = defineResource<MarkerOptions, MarkerCurrent, MarkerOp>({ ...spec, posix, powershell, notified })
const posixMarker = defineResource<MarkerOptions, MarkerCurrent, MarkerOp>({ ...spec, type: 'posix-marker', describe: (i) => `posix-marker ${String(i.path)}`, posix })
const silentMarker = defineResource<MarkerOptions, MarkerCurrent, MarkerOp>({ ...spec, posix, powershell })

describe('a resource defined with defineResource', () => {
  it('validates with messages naming the resource, the field, the value and the fix', () => {
    const bad = (input: object): string => {
      try {
        marker.type.validate(input as MarkerOptions, linuxFacts)
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError)
        return (e as Error).message
      }
      throw new Error('validated')
    }
    expect(bad({ path: 'rel/x' })).toBe('marker rel/x: path must be absolute or start with ~/ (got "rel/x")')
    expect(bad({ path: '/x', label: 3 })).toBe('marker /x: label must be a string (got 3)')
    expect(bad({ path: '/x', lable: 'a' })).toBe('marker /x: lable is not a known field; known fields: path, label')
    expect(bad({ path: '' })).toBe('marker : path must be a non-empty string path (got "")')
    expect(marker.type.validate({ path: '~/m/' }, linuxFacts)).toEqual({ path: '/home/ana/m' })
    expect(marker.type.validate({ path: '~/m' }, windowsFacts)).toEqual({ path: 'C:\\Users\\ana\\m' })
  })

  it('is refused on a host whose dialect it has no half for, with one standard ValidationError', () => {
    expect(() => posixMarker.type.validate({ path: 'C:\\m' }, windowsFacts)).toThrow(ValidationError)
    expect(() => posixMarker.type.validate({ path: 'C:\\m' }, windowsFacts)).toThrow(/^posix-marker C:\\m: not supported on windows \(the posix-marker resource has no PowerShell implementation\)/)
    expect(posixMarker.type.validate({ path: '/m' }, linuxFacts)).toEqual({ path: '/m' })
  })

  it('its probe and apply pass the same shell lint checks as the built-ins', () => {
    const samples = marker.type.examples?.({ path: '/tmp/it\'s $(x)', value: '`id` "q"' }) ?? []
    expect(lintPosix([{ type: marker.type, samples }]).out).toBe('')
    const ps = lintPowerShell([{ type: marker.type, samples: marker.type.examples?.({ path: "C:\\it's $(x)", value: '`id` "q"' }) ?? [] }])
    expect(ps).toEqual({ probe: '', steps: [], stepCount: 1 })
  })

  it('converges locally, is notified after converging when its notifier changed, and plans that', async () => {
    const home = tempDir()
    const dir = tempDir()
    const recipe = defineRecipe<{ v: string }>({
      name: 'markers',
      options: { v: { default: '1' } },
      resources: ({ options }) => [file({ id: 'conf', path: `${dir}/conf`, content: options.v, notify: ['m'] }), marker({ id: 'm', path: `${dir}/ready`, label: 'up' })],
    })
    const run = (mode: 'plan' | 'apply', v = '1') => converge({ recipe, hosts: [{ name: 'local', transport: localHost(home) }], mode, set: { v } })
    const plan = await run('plan')
    expect(plan.hosts[0]!.resources[1]).toMatchObject({ id: 'm', status: 'changed', changes: [`write marker ${dir}/ready`, `note in ${dir}/ready.log (notified by conf)`] })
    const first = await run('apply')
    expect(first.ok).toBe(true)
    expect(first.hosts[0]!.resources[1]!.changes).toEqual(plan.hosts[0]!.resources[1]!.changes)
    expect(readFileSync(`${dir}/ready`, 'utf8')).toBe('up\n')
    expect(readFileSync(`${dir}/ready.log`, 'utf8')).toBe('notified by conf\n')

    const noop = await run('apply')
    expect(noop.summary).toMatchObject({ changed: 0, unchanged: 2 })
    expect(readFileSync(`${dir}/ready.log`, 'utf8')).toBe('notified by conf\n')

    // Only the notifier changes: the marker itself is converged and is only notified.
    const replan = await run('plan', '2')
    expect(replan.hosts[0]!.resources[1]).toMatchObject({ status: 'changed', changes: [`note in ${dir}/ready.log (notified by conf)`] })
    await run('apply', '2')
    expect(readFileSync(`${dir}/ready.log`, 'utf8')).toBe('notified by conf\nnotified by conf\n')
  })

  it('leaves the notified change out when its own changes cover it (notifiedCoveredBy), in the plan and the apply', async () => {
    // A marker whose own write does what being notified would: like a service started anyway.
    const covering = defineResource<MarkerOptions, MarkerCurrent, MarkerOp>({ ...spec, type: 'covering-marker', posix, powershell, notified, notifiedCoveredBy: (own) => own.some((c) => c.op === 'write') })
    const home = tempDir()
    const dir = tempDir()
    const recipe = defineRecipe<{ v: string }>({
      name: 'covering',
      options: { v: { default: '1' } },
      resources: ({ options }) => [file({ id: 'conf', path: `${dir}/conf`, content: options.v, notify: ['m'] }), covering({ id: 'm', path: `${dir}/ready`, label: 'up' })],
    })
    const run = (mode: 'plan' | 'apply', v = '1') => converge({ recipe, hosts: [{ name: 'local', transport: localHost(home) }], mode, set: { v } })
    const plan = await run('plan')
    expect(plan.hosts[0]!.resources[1]).toMatchObject({ id: 'm', status: 'changed', changes: [`write marker ${dir}/ready`] })
    const first = await run('apply')
    expect(first.hosts[0]!.resources[1]!.changes).toEqual([`write marker ${dir}/ready`])
    expect(existsSync(`${dir}/ready.log`)).toBe(false)
    // Converged itself, its notifier changed: now the notification is all it does.
    const second = await run('apply', '2')
    expect(second.hosts[0]!.resources[1]!.changes).toEqual([`note in ${dir}/ready.log (notified by conf)`])
    expect(readFileSync(`${dir}/ready.log`, 'utf8')).toBe('notified by conf\n')
  })

  it('a notify naming a resource whose type cannot be notified is a ValidationError naming both ids, before any change', async () => {
    const home = tempDir()
    const dir = tempDir()
    const recipe = defineRecipe({ name: 'bad-notify', resources: () => [file({ id: 'conf', path: `${dir}/conf`, content: 'x', notify: ['quiet'] }), silentMarker({ id: 'quiet', path: `${dir}/q` })] })
    const r = await converge({ recipe, hosts: [{ name: 'local', transport: localHost(home) }] })
    expect(r.hosts[0]!.error).toMatchObject({ code: 'E_VALIDATION', message: expect.stringMatching(/resource 'conf': notify names 'quiet', which is not a handler and cannot be notified \(a marker has no notified change\)/) })
    expect(existsSync(`${dir}/conf`)).toBe(false)
  })
})

describe('declaring with no argument', () => {
  it('works for a type whose fields are all optional (homebrew(), xcodeCommandLineTools(), conda(), rustup())', async () => {
    const { homebrew, xcodeCommandLineTools, conda, rustup } = await import('../../lib/index.ts')
    for (const r of [homebrew(), xcodeCommandLineTools(), conda(), rustup()]) expect(r.desired).toEqual({})
  })
})
