import { pathToFileURL } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ResourceType } from '../../lib/core/types.ts'
import { PS_PRELUDE } from '../../lib/shell/powershell/quote.ts'
import { linuxFacts } from '../helpers/facts.ts'
import { extConsumer } from '../helpers/ext-package.ts'
import { HOSTILE } from '../helpers/hostile.ts'
import { examplesOf, lintPosix, lintPowerShell, psSyntaxError, shellcheck, windowsFacts } from '../helpers/lint.ts'

type AnyType = ResourceType<any, any, any>

/**
 * The shell lint checks the built-ins get (shellcheck.test.ts, powershell-parse.test.ts), run on
 * the resource type of the external fixture package, loaded as a consumer loads it: installed
 * beside node_modules/statecraft, its `statecraft/kit` import resolving to the built dist/.
 */
let markerType: AnyType

beforeAll(async () => {
  const project = extConsumer()
  const mod = (await import(pathToFileURL(`${project}/node_modules/statecraft-marker/index.mjs`).href)) as { markerType: AnyType }
  markerType = mod.markerType
})

const posixValues = HOSTILE.filter((x) => x !== '' && !x.includes('\n'))
const psValues = HOSTILE.filter((x) => x !== '')
const posixPath = (h: string) => `/tmp/${h.replaceAll('/', '_')}`
const psPath = (h: string) => `C:\\data\\${h.replaceAll('\\', '_').replaceAll('/', '_')}`

describe('the external marker resource passes the project\'s shell lint checks', () => {
  it('is a ResourceType with examples and a notified change, like a built-in', () => {
    expect(markerType.type).toBe('marker')
    for (const k of ['validate', 'probe', 'parse', 'diff', 'apply', 'examples', 'notified'] as const) expect(typeof markerType[k]).toBe('function')
  })

  it('shellcheck: a batched probe of its examples with hostile paths and texts', () => {
    const r = lintPosix([{ type: markerType, samples: examplesOf(markerType, posixValues, posixPath) }])
    expect(r.out).toBe('')
    expect(r.code).toBe(0)
    expect(r.snippets).toBe(posixValues.length * 3)
  })

  it('shellcheck: the sh -c scripts its POSIX apply runs, for every change it plans and its notified change', () => {
    const scripts = new Set<string>()
    for (const s of examplesOf(markerType, posixValues, posixPath)) {
      const d = markerType.validate(s.desired, linuxFacts)
      const changes = [...markerType.diff(d, s.current), markerType.notified!(d, ['conf'])]
      for (const st of markerType.apply(d, s.current, changes, linuxFacts)) {
        expect(st.argv.length).toBeGreaterThan(0)
        if (st.argv[0] === 'sh' && st.argv[1] === '-c') scripts.add(st.argv[2] ?? '')
      }
    }
    expect(scripts.size).toBeGreaterThan(0)
    for (const s of scripts) expect(shellcheck(`#!/bin/sh\n${s}`).out).toBe('')
  })

  it('tree-sitter-powershell: its probe and apply scripts with hostile values, and its notified change', () => {
    const samples = examplesOf(markerType, psValues, psPath)
    const r = lintPowerShell([{ type: markerType, samples }], windowsFacts)
    expect(r.probe).toBe('')
    expect(r.steps).toEqual([])
    // Per value: a write for absent, a write for a stale file, a remove and a write for a link.
    expect(r.stepCount).toBe(psValues.length * 4)
    const touch = samples.flatMap((s) => {
      const d = markerType.validate(s.desired, windowsFacts)
      return markerType.apply(d, s.current, [markerType.notified!(d, ['conf'])], windowsFacts)
    })
    expect(touch.length).toBe(samples.length)
    for (const st of touch) {
      expect(st.psScript).toBeDefined()
      expect(psSyntaxError(`${PS_PRELUDE}\n${st.psScript}`)).toBe('')
    }
  })
})
