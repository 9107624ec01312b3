import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { acquireScript, batchScript, FACTS_SCRIPT, releaseScript, takeoverScript } from '../../lib/shell/posix/scripts.ts'
import { commandType } from '../../lib/resources/command.ts'
import { directoryType } from '../../lib/resources/directory.ts'
import { fileType } from '../../lib/resources/file.ts'
import { lineType } from '../../lib/resources/line.ts'
import { symlinkType } from '../../lib/resources/symlink.ts'
import { gitType } from '../../lib/resources/git.ts'
import { downloadType } from '../../lib/resources/download.ts'
import { DOWNLOAD_SCRIPT, STAMP_SCRIPT } from '../../lib/resources/download-script.ts'
import { linuxFacts } from '../helpers/facts.ts'
import { HOSTILE } from '../helpers/hostile.ts'

function shellcheck(script: string): { code: number | null; out: string } {
  // SC2086/SC2046: the word splitting in sc_stat is deliberate (ls fields, with set -f). Info-level
  // notes (literal $ in single quotes) are what quoting hostile values is meant to produce.
  const r = spawnSync('shellcheck', ['-s', 'sh', '--severity=warning', '-e', 'SC2086,SC2046', '-'], { input: script })
  if (r.error) throw new Error(`shellcheck is not installed (apt-get install shellcheck): ${r.error.message}`)
  return { code: r.status, out: r.stdout.toString() }
}

describe('generated POSIX scripts pass shellcheck', () => {
  it('the download and stamp helper scripts', () => {
    for (const s of [DOWNLOAD_SCRIPT, STAMP_SCRIPT]) {
      const r = shellcheck(`#!/bin/sh\n${s}`)
      expect(r.out).toBe('')
    }
  })

  it('facts + lock, takeover, release', () => {
    const r = shellcheck(`${FACTS_SCRIPT}\n${acquireScript('~/.statecraft/run.lock', 'p|x')}\n${takeoverScript('/l', 'a', 'b')}\n${releaseScript('/l', 'a')}`)
    expect(r.out).toBe('')
    expect(r.code).toBe(0)
  })

  it('a batched probe of every resource type with hostile paths', () => {
    const snippets: string[] = []
    for (const h of HOSTILE.filter((x) => x !== '' && !x.includes('\n'))) {
      const p = `/tmp/${h.replaceAll('/', '_')}`
      snippets.push(
        fileType.probe(fileType.validate({ path: p, content: 'x' }, linuxFacts), linuxFacts),
        directoryType.probe(directoryType.validate({ path: p }, linuxFacts), linuxFacts),
        symlinkType.probe(symlinkType.validate({ path: p, target: h }, linuxFacts), linuxFacts),
        lineType.probe(lineType.validate({ path: p, line: h }, linuxFacts), linuxFacts),
        commandType.probe(commandType.validate({ argv: [h], creates: p, unless: ['test', '-e', h], cwd: '/', env: { V: h } }, linuxFacts), linuxFacts),
        gitType.probe(gitType.validate({ repo: h, dest: p, ref: 'main' }, linuxFacts), linuxFacts),
        downloadType.probe(downloadType.validate({ url: 'https://hub.example/m/resolve/main/x.ckpt', dest: p, sha256: 'a'.repeat(64), token: 'hf_x' }, linuxFacts), linuxFacts, { verifyArtifacts: true }),
        gitType.probe(gitType.validate({ repo: h, dest: p, ref: 'a'.repeat(40) }, linuxFacts), linuxFacts),
      )
    }
    const r = shellcheck(batchScript(snippets, 'abc123'))
    expect(r.out).toBe('')
    expect(r.code).toBe(0)
  })
})
