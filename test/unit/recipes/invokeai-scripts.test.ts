import { describe, expect, it } from 'vitest'
import invokeai from '../../../recipes/invokeai.ts'
import { preflightType } from '../../../recipes/invokeai/preflight.ts'
import { removalType } from '../../../recipes/invokeai/absent.ts'
import { HOSTILE } from '../../helpers/hostile.ts'
import { examplesOf, lintPosix, lintPowerShell, psSyntaxError, shellcheck } from '../../helpers/lint.ts'
import { linuxFacts, macFacts, windowsFacts } from '../../helpers/facts.ts'
import { composeResources } from '../../../lib/core/compose.ts'
import { resolveOptions } from '../../../lib/core/recipe.ts'
import type { Facts } from '../../../lib/core/types.ts'

/** The sh -c scripts the recipe's own commands run (firewall, removal), each linted on its own. */
function shScripts(facts: Facts, set: Record<string, unknown>): string[] {
  const options = resolveOptions(invokeai, { set, env: { HF_TOKEN: 'hf_x' } }, 'h')
  return composeResources(invokeai, { facts: { ...facts, gpu: { vendor: 'none', devices: [] } }, options, host: { name: 'h', vars: {} } })
    .filter((r) => r.kind.type === 'command')
    .flatMap((r) => [r.desired.argv as string[], (r.desired.unless as string[] | undefined) ?? []])
    .filter((argv) => argv[0] === 'sh' && argv[1] === '-c')
    .map((argv) => argv[2] as string)
}

describe('recipes/invokeai: generated shell', () => {
  const values = HOSTILE.slice(0, 8)
  it('the preflight probe passes shellcheck with hostile paths', () => {
    const r = lintPosix([{ type: preflightType, samples: examplesOf(preflightType, values, (v) => `/tmp/${v.replaceAll('/', '_')}`) }])
    expect(r.out).toBe('')
    expect(r.snippets).toBeGreaterThan(0)
  })

  it('the preflight probe parses as PowerShell with hostile paths', () => {
    const r = lintPowerShell([{ type: preflightType, samples: examplesOf(preflightType, values, (v) => `C:\\data\\${v.replaceAll('\\', '_').replaceAll('/', '_')}`) }])
    expect(r.probe).toBe('')
  })

  it('the firewall scripts pass shellcheck (Linux, macOS)', () => {
    const scripts = [...shScripts(linuxFacts, { bind: '0.0.0.0' }), ...shScripts(macFacts, { bind: '0.0.0.0' })]
    expect(scripts.length).toBe(5)
    for (const s of scripts) expect(shellcheck(s).out, s).toBe('')
  })

  it('the removal probe and its steps pass shellcheck with hostile paths', () => {
    const samples = examplesOf(removalType, values, (v) => `/tmp/${v.replaceAll('/', '_')}`)
    expect(lintPosix([{ type: removalType, samples }]).out).toBe('')
    for (const s of samples) {
      const d = removalType.validate(s.desired, linuxFacts)
      for (const st of removalType.apply(d, s.current, removalType.diff(d, s.current), linuxFacts)) if (st.argv[0] === 'sh') expect(shellcheck(st.argv[2] as string).out).toBe('')
    }
  })

  it('the Windows firewall rule and its guard parse as PowerShell, the program path quoted', () => {
    const options = resolveOptions(invokeai, { set: { bind: '0.0.0.0', condaPrefix: "C:\\it's conda" }, env: { HF_TOKEN: 'hf_x' } }, 'h')
    const fw = composeResources(invokeai, { facts: { ...windowsFacts, gpu: { vendor: 'none', devices: [] } }, options, host: { name: 'h', vars: {} } }).find((r) => r.id === 'firewall')
    const scripts = [(fw?.desired.argv as string[])[4] as string, (fw?.desired.unless as string[])[4] as string]
    for (const sc of scripts) expect(psSyntaxError(sc), sc).toBe('')
    expect(scripts[0]).toContain("-Program 'C:\\it''s conda\\envs\\invokeai\\python.exe'")
  })

  it('state absent on Windows is refused with what to remove by hand', () => {
    const options = resolveOptions(invokeai, { set: { state: 'absent' }, env: {} }, 'h')
    expect(() => composeResources(invokeai, { facts: { ...windowsFacts, gpu: { vendor: 'none', devices: [] } }, options, host: { name: 'h', vars: {} } })).toThrow(/state absent is not implemented for Windows hosts yet/)
  })
})
