import { describe, expect, it } from 'vitest'
import { acquireScript, BOOT_ID_SCRIPT, FACTS_SCRIPT, factsScript, markRebootScript, REBOOT_SCRIPT, releaseScript, takeoverScript } from '../../lib/shell/posix/scripts.ts'
import { builtinTypes, macOnlyTypes } from '../../lib/resources/all.ts'
import { macFacts } from '../helpers/facts.ts'
import { DOWNLOAD_SCRIPT, STAMP_SCRIPT } from '../../lib/resources/download/script.ts'
import { FETCH_SCRIPT } from '../../lib/resources/installer.ts'
import { WRITE_SCRIPT } from '../../lib/shell/posix/write.ts'
import { applyBatchScript, type BatchMember } from '../../lib/shell/posix/apply-batch.ts'
import { watched } from '../../lib/shell/posix/watch.ts'
import { ASKPASS_SCRIPT } from '../../lib/shell/posix/askpass.ts'
import { HOSTILE } from '../helpers/hostile.ts'
import { examplesOf, lintPosix, shellcheck } from '../helpers/lint.ts'

describe('generated POSIX scripts pass shellcheck', () => {
  it('the download, stamp, atomic-write, installer-fetch, command-watcher and askpass scripts', () => {
    const watcher = /^sh -c '(.*)'$/s.exec(watched('true').command)?.[1]?.replaceAll(`'\\''`, "'")
    expect(watcher).toContain('eval "$sc_cmd"')
    for (const s of [DOWNLOAD_SCRIPT, STAMP_SCRIPT, WRITE_SCRIPT, FETCH_SCRIPT, watcher as string, ASKPASS_SCRIPT]) {
      const r = shellcheck(`#!/bin/sh\n${s}`)
      expect(r.out).toBe('')
    }
  })

  it('facts + lock, takeover, release', () => {
    const r = shellcheck(`${FACTS_SCRIPT}\n${acquireScript('~/.statecraft/run.lock', 'p|x')}\n${takeoverScript('/l', 'a', 'b')}\n${releaseScript('/l', 'a')}`)
    expect(r.out).toBe('')
    expect(r.code).toBe(0)
  })

  it('the boot id query, the restart (--reboot) and the pending-restart mark', () => {
    const r = shellcheck(`#!/bin/sh\n${BOOT_ID_SCRIPT}\n${REBOOT_SCRIPT}\n${markRebootScript('~/.statecraft/run.lock', "b|sh -c 'exit 194' exited 194")}`)
    expect(r.out).toBe('')
    expect(r.code).toBe(0)
  })

  it("facts with the GPU part (a recipe that declares facts: ['gpu']) + lock", () => {
    const script = factsScript(['gpu'])
    expect(script).toContain('nvidia-smi --version')
    const r = shellcheck(`${script}\n${acquireScript('~/.statecraft/run.lock', 'p|x')}`)
    expect(r.out).toBe('')
    expect(r.code).toBe(0)
  })

  it('a batched apply: merged quick steps, chained ones, new and replaced files, hostile paths and bytes', () => {
    const paths = HOSTILE.filter((h) => h !== '').map((h, i) => `/srv/${i}/${h}`)
    const members: BatchMember[] = paths.flatMap((p, i): BatchMember[] => [
      { kind: 'quick', steps: [{ argv: ['mkdir', '-p', '--', p], quick: true }, { argv: ['chmod', '--', '0750', p], quick: true }] },
      { kind: 'quick', steps: [{ argv: ['ln', '-sfn', '--', p, `${p}.link`], quick: true }] },
      { kind: 'write', write: { path: `${p}/f`, bytes: Buffer.from(`${HOSTILE[i]}%s\0`), mode: i % 2 ? '0755' : '0640', ...(i % 3 ? {} : { owner: 'ana' }), ...(i % 2 ? { fresh: true } : {}) } },
    ])
    const r = shellcheck(applyBatchScript(members, 'n0nce').script)
    expect(r.out).toBe('')
    expect(r.code).toBe(0)
  })

  it('shellcheck does flag a broken script (the check can fail)', () => {
    expect(shellcheck('#!/bin/sh\nif [ -f "$x" ]; then echo\n').code).not.toBe(0)
  })

  it('a batched probe of every built-in resource type (lib/resources/all.ts) with hostile paths', () => {
    const values = HOSTILE.filter((x) => x !== '' && !x.includes('\n'))
    const types = builtinTypes.map((type) => ({ type, samples: examplesOf(type, values, (h) => `/tmp/${h.replaceAll('/', '_')}`) }))
    const r = lintPosix(types.filter((t) => !macOnlyTypes.has(t.type.type)))
    expect(r.out).toBe('')
    expect(r.code).toBe(0)
    // macOS-only types (refused on Linux): the same batch, with macOS facts.
    const mac = lintPosix(types.filter((t) => macOnlyTypes.has(t.type.type)), macFacts)
    expect(mac.out).toBe('')
    expect(mac.code).toBe(0)
    expect(r.snippets + mac.snippets).toBeGreaterThanOrEqual(builtinTypes.length * values.length)
    // One shellcheck over ~430 snippets: about 20 s on an idle 2-core machine, twice that when it is shared.
  }, 120_000)
})
