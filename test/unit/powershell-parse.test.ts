import Parser from 'tree-sitter'
import PowerShell from 'tree-sitter-powershell'
import { describe, expect, it } from 'vitest'
import type { Facts } from '../../lib/core/types.ts'
import { PS_FACTS_SCRIPT, psAcquireScript, psBatchScript, psReleaseScript, psTakeoverScript } from '../../lib/shell/powershell/scripts.ts'
import { commandType } from '../../lib/resources/command.ts'
import { directoryType } from '../../lib/resources/directory.ts'
import { fileType } from '../../lib/resources/file.ts'
import { lineType } from '../../lib/resources/line.ts'
import { symlinkType } from '../../lib/resources/symlink.ts'
import { gitType } from '../../lib/resources/git.ts'
import { downloadType } from '../../lib/resources/download.ts'
import { PS_PRELUDE, psStdin, psStep } from '../../lib/shell/powershell/quote.ts'
import { HOSTILE } from '../helpers/hostile.ts'

const parser = new Parser()
parser.setLanguage(PowerShell as never)

/** Parses with a real PowerShell grammar; returns the first error node's text, or '' if clean. */
function syntaxError(script: string): string {
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

const win: Facts = { os: 'windows', arch: 'x64', appleSilicon: false, kernel: 'Windows_NT', user: 'ana', uid: null, home: 'C:\\Users\\ana', hostname: 'GAMING-PC', dialect: 'powershell', bootId: '20261126060000' }

describe('generated PowerShell parses with tree-sitter-powershell', () => {
  it('the grammar does flag a broken script (the check can fail)', () => {
    expect(syntaxError('if ($x { Write-Output "a" ')).not.toBe('')
  })

  it('facts, lock, takeover, release and the stdin bootstrap', () => {
    for (const s of [`${PS_PRELUDE}\n${PS_FACTS_SCRIPT}\n${psAcquireScript('~/.statecraft/run.lock', "p|it's")}`, psTakeoverScript('C:\\l', 'a', 'b'), psReleaseScript('~/x', "it's"), psStdin('Write-Output 1')]) {
      expect(syntaxError(s)).toBe('')
    }
  })

  it('every resource probe and apply script, with hostile values', () => {
    const snippets: string[] = []
    const steps: string[] = []
    for (const h of HOSTILE.filter((x) => x !== '')) {
      const p = `C:\\data\\${h.replaceAll('\\', '_').replaceAll('/', '_')}`
      const cases = [
        [fileType, { path: p, content: `${h}\n` }, { kind: 'file', contentHex: '00' }],
        [fileType, { path: p, state: 'absent' }, { kind: 'file' }],
        [directoryType, { path: p }, { kind: 'absent' }],
        [directoryType, { path: p, state: 'absent', force: true }, { kind: 'directory' }],
        [symlinkType, { path: p, target: h, force: true }, { kind: 'link', target: 'x' }],
        [symlinkType, { path: p, state: 'absent' }, { kind: 'link', target: 'x' }],
        [lineType, { path: p, line: h.replaceAll('\n', ' '), match: '^x' }, { kind: 'file', content: 'x=1\r\n' }],
        [commandType, { argv: ['git', h, '--', h], creates: p, unless: ['where.exe', h], cwd: 'C:\\src', env: { V: h } }, {}],
        [gitType, { repo: `https://x/${h}`, dest: p, ref: 'v2.0.2' }, { exists: 'repo', head: 'a', dirty: false, origin: 'o', target: 'b'.repeat(40), refKind: 'tag' }],
        [gitType, { repo: h, dest: p, ref: 'a'.repeat(40) }, { exists: 'no' }],
        [downloadType, { url: `https://hub.example/m/resolve/main/${encodeURIComponent(h)}`, dest: p, sha256: 'a'.repeat(64), size: 10, token: 'hf_x' }, { stampOk: false, exists: false, head: { status: 200 } }],
        [downloadType, { url: 'https://hub.example/x', dest: p, sha256: 'a'.repeat(64) }, { stampOk: false, exists: true, hash: 'a'.repeat(64) }],
        [downloadType, { url: 'https://huggingface.co/a/resolve/main/b', dest: p }, { stampOk: false, exists: false, head: { status: 200 } }],
      ] as const
      for (const [type, input, current] of cases) {
        const d = (type as typeof fileType).validate(input as never, win)
        snippets.push((type as typeof fileType).probe(d, win, { verifyArtifacts: true }))
        const changes = (type as typeof fileType).diff(d, current as never)
        for (const st of (type as typeof fileType).apply(d, current as never, changes, win)) steps.push(st.psScript ?? psStep(st))
      }
    }
    expect(syntaxError(`${PS_PRELUDE}\n${psBatchScript(snippets, 'abc123')}`)).toBe('')
    for (const s of steps) expect(syntaxError(`${PS_PRELUDE}\n${s}`)).toBe('')
    expect(steps.length).toBeGreaterThan(50)
  })
})
