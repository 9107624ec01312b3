import { describe, expect, it } from 'vitest'
import { defineRecipe, parseSetArgs, resolveOptions, secretValues } from '../../lib/core/recipe.ts'

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
