import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { parse as parseYaml } from 'yaml'
import { checkSetKeys, defineRecipe, parseSetArgs, plainWord, resolveOptions, secretValues } from '../../lib/core/recipe.ts'

const recipe = defineRecipe({
  name: 'r',
  options: {
    port: { default: 9090 },
    sampler: { default: 'ddim' },
    fullPrecision: { default: false },
    hfToken: { secret: true, env: 'HF_TOKEN' },
  },
  resources: () => [],
})

describe('recipe options', () => {
  it('layers defaults < group vars < host vars < --set', () => {
    const o = resolveOptions(recipe, { groupVars: [{ port: 1, sampler: 'k_lms' }, { port: 2 }], hostVars: { port: 3, other: 'ignored' }, set: { port: 4 }, env: {} }, 'h')
    expect(o).toEqual({ port: 4, sampler: 'k_lms', fullPrecision: false })
    expect(resolveOptions(recipe, { groupVars: [{ port: 1 }, { port: 2 }], env: {} }, 'h').port).toBe(2)
    expect(resolveOptions(recipe, { groupVars: [{ port: 1 }], hostVars: { port: 3 }, env: {} }, 'h').port).toBe(3)
  })

  it('parses --set values as YAML scalars', () => {
    expect(parseSetArgs(['port=9091', 'fullPrecision=true', 'sampler=ddim', 'empty=', 'url=http://x/?a=b', 'list=[1,2]'])).toEqual({
      port: 9091, fullPrecision: true, sampler: 'ddim', empty: '', url: 'http://x/?a=b', list: '[1,2]',
    })
    expect(() => parseSetArgs(['noequals'])).toThrow(/--set "noequals": expected key=value/)
  })

  it('rejects an unknown --set key, listing the valid ones', () => {
    expect(() => resolveOptions(recipe, { set: { prot: 1 }, env: {} }, 'h')).toThrow(/--set prot: recipe 'r' has no option 'prot'. Valid options: port, sampler, fullPrecision, hfToken/)
  })

  it('reads secrets from the environment only, and never echoes them', () => {
    const o = resolveOptions(recipe, { env: { HF_TOKEN: 'hf_abc123' } }, 'h')
    expect(o.hfToken).toBe('hf_abc123')
    expect(secretValues(recipe, o)).toEqual(['hf_abc123'])
    let msg = ''
    try {
      resolveOptions(recipe, { set: { hfToken: 'hf_leak999' }, env: {} }, 'h')
    } catch (e) {
      msg = (e as Error).message
    }
    expect(msg).toMatch(/option 'hfToken' of recipe 'r' is secret and is not accepted on the command line: set the environment variable HF_TOKEN/)
    expect(msg).not.toContain('hf_leak999')
    expect(() => resolveOptions(recipe, { hostVars: { hfToken: 'x' }, env: {} }, 'gpu-1')).toThrow(/not accepted in the inventory \(host gpu-1\)/)
  })
})

describe('typed options', () => {
  const typed = defineRecipe({
    name: 'demo',
    options: {
      port: { type: 'number', default: 9090 },
      gpu: { type: 'boolean', default: false },
      sampler: { type: 'enum', values: ['ddim', 'k_lms'], default: 'ddim' },
      root: { type: 'path', default: '~/ai' },
      mode: { type: 'string' },
      loose: { default: 1 },
      token: { type: 'string', secret: true, env: 'TOK' },
      debug: { type: 'boolean', secret: true, env: 'DEBUG_ON' },
    },
    resources: ({ options }) => {
      // Compile-time checks (tsc --noEmit runs in npm test): ctx.options is typed from the definitions.
      const port: number = options.port
      const sampler: 'ddim' | 'k_lms' = options.sampler
      // @ts-expect-error a number option is not a string
      const wrong: string = options.port
      // @ts-expect-error an option with neither default nor required may be absent
      const mode: string = options.mode
      void [port, sampler, wrong, mode]
      return []
    },
  })
  const resolve = (layers: Parameters<typeof resolveOptions>[1]) => resolveOptions(typed, { env: {}, ...layers }, 'box')

  it('coerces --set text to the option type, and keeps typed text as text', () => {
    expect(parseSetArgs(['port=9091', 'mode=0644', 'loose=0644'], typed)).toEqual({ port: '9091', mode: '0644', loose: 644 })
    const o = resolve({ set: parseSetArgs(['port=9091', 'gpu=true', 'sampler=k_lms', 'root=/srv/ai', 'mode=0644'], typed) })
    expect(o).toMatchObject({ port: 9091, gpu: true, sampler: 'k_lms', root: '/srv/ai', mode: '0644', loose: 1 })
  })

  it.each([
    [{ port: 'abc' }, /^option 'port' of recipe 'demo' must be a number \(got "abc"\); fix --set port$/],
    [{ port: '' }, /option 'port' of recipe 'demo' must be a number \(got ""\)/],
    [{ gpu: 'maybe' }, /option 'gpu' of recipe 'demo' must be a boolean \(true or false\) \(got "maybe"\)/],
    [{ sampler: 'euler' }, /option 'sampler' of recipe 'demo' must be one of "ddim", "k_lms" \(got "euler"\)/],
    [{ root: '' }, /option 'root' of recipe 'demo' must be a path \(a non-empty string\) \(got ""\)/],
  ])('rejects --set %o naming the option, the value and the type', (set, msg) => {
    expect(() => resolve({ set })).toThrow(msg)
    // The CLI checks --set before any host is contacted.
    expect(() => checkSetKeys(typed, set)).toThrow(msg)
  })

  it('coerces inventory vars and env, and names where a bad value came from', () => {
    expect(resolve({ hostVars: { port: '8080', gpu: 'yes', mode: 3 } })).toMatchObject({ port: 8080, gpu: true, mode: '3' })
    expect(() => resolve({ groupVars: [{ port: 'x' }] })).toThrow(/must be a number \(got "x"\); fix the vars of host box \(or of its groups\) in the inventory/)
    for (const [text, want] of [['yes', true], ['no', false], ['1', true], ['0', false], ['TRUE', true]] as const) {
      expect(resolve({ env: { DEBUG_ON: text } }).debug).toBe(want)
    }
    let msg = ''
    try {
      resolve({ env: { DEBUG_ON: 'hunter2' } })
    } catch (e) {
      msg = (e as Error).message
    }
    expect(msg).toMatch(/option 'debug' of recipe 'demo' must be a boolean \(true or false\) \(got a secret value, not shown\); fix the environment variable DEBUG_ON/)
    expect(msg).not.toContain('hunter2')
  })

  it('leaves untyped options as they come, and keeps defaults unconverted', () => {
    expect(resolve({ hostVars: { loose: 'abc' } }).loose).toBe('abc')
    expect(resolve({}).port).toBe(9090)
  })

  it('refuses an enum without values', () => {
    const bad = defineRecipe({ name: 'bad', options: { x: { type: 'enum' } }, resources: () => [] })
    expect(() => resolveOptions(bad, { env: {} }, 'h')).toThrow(/recipe 'bad': option 'x' has type 'enum' but no values/)
  })
})

describe('--set values that skip the YAML parser', () => {
  it('are exactly the values YAML reads as the same string (property: any word of the alphabet)', () => {
    const alphabet = fc.constantFrom(...'aAzZ_/.-09ytnfoTFNxe+:#*&!'.split(''))
    const words = fc.oneof(fc.string({ unit: alphabet, minLength: 1, maxLength: 12 }), fc.constantFrom('true', 'False', 'NULL', 'null', 'yes', 'no', 'on', '.inf', '0x1F', '1e3', '/srv/x', 'a:b', 'a #b', '~'))
    fc.assert(
      fc.property(words, (w) => {
        if (plainWord(w)) expect(parseYaml(w)).toBe(w)
      }),
      { numRuns: 3000 },
    )
    // And the common ones do skip it.
    expect(['/srv/invokeai', 'h01', 'ddim', 'v1.0', 'yes', 'a-b_c.d'].every(plainWord)).toBe(true)
    expect(['true', 'NULL', '12', '0644', '.inf', 'a:b', '~', '*x'].some(plainWord)).toBe(false)
  })
})
