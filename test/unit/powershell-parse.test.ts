import { describe, expect, it } from 'vitest'
import { PS_BOOT_ID_SCRIPT, PS_FACTS_SCRIPT, PS_REBOOT_SCRIPT, psAcquireScript, psMarkRebootScript, psFactsScript, psReleaseScript, psTakeoverScript } from '../../lib/shell/powershell/scripts.ts'
import { builtinTypes, macOnlyTypes } from '../../lib/resources/all.ts'
import { PS_PRELUDE, psStdin } from '../../lib/shell/powershell/quote.ts'
import { HOSTILE } from '../helpers/hostile.ts'
import { examplesOf, lintPowerShell, psSyntaxError as syntaxError } from '../helpers/lint.ts'

describe('generated PowerShell parses with tree-sitter-powershell', () => {
  it('the grammar does flag a broken script (the check can fail)', () => {
    expect(syntaxError('if ($x { Write-Output "a" ')).not.toBe('')
  })

  it('facts, lock, takeover, release, the stdin bootstrap, the boot id query and the restart', () => {
    for (const s of [`${PS_PRELUDE}\n${PS_FACTS_SCRIPT}\n${psAcquireScript('~/.statecraft/run.lock', "p|it's")}`, psTakeoverScript('C:\\l', 'a', 'b'), psReleaseScript('~/x', "it's"), psStdin('Write-Output 1'), PS_BOOT_ID_SCRIPT, PS_REBOOT_SCRIPT, psMarkRebootScript('~/.statecraft/run.lock', "b|it's 3010")]) {
      expect(syntaxError(s)).toBe('')
    }
  })

  it("facts with the GPU part (a recipe that declares facts: ['gpu'])", () => {
    const script = psFactsScript(['gpu'])
    expect(script).toContain('Win32_VideoController')
    expect(syntaxError(`${PS_PRELUDE}\n${script}\n${psAcquireScript('~/.statecraft/run.lock', 'p')}`)).toBe('')
    expect(syntaxError(`${PS_PRELUDE}\n${script.replace("-join \"`n\")", '-join "`n"')}`)).not.toBe('')
  })

  it('every built-in resource type (lib/resources/all.ts): probe and apply scripts, with hostile values', () => {
    const values = HOSTILE.filter((x) => x !== '')
    const types = builtinTypes.filter((t) => !macOnlyTypes.has(t.type)).map((type) => ({ type, samples: examplesOf(type, values, (h) => `C:\\data\\${h.replaceAll('\\', '_').replaceAll('/', '_')}`) }))
    const r = lintPowerShell(types)
    expect(r.probe).toBe('')
    expect(r.steps).toEqual([])
    expect(r.stepCount).toBeGreaterThan(50)
  })
})
