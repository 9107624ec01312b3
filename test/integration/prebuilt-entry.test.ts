import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { pathToFileURL } from 'node:url'
import { PROVISION, ROOT, tsNodeArgs } from '../helpers/cli.ts'
import { tempDir } from '../helpers/tmp.ts'

/**
 * provision.ts in a package of stand-ins: a `main` in lib/ (sources) and one in dist/ (the build),
 * each printing which one ran. Times are set explicitly (seconds since the epoch).
 */
function fakePackage(root: string, o: { built: number; source: number }): void {
  const file = (p: string, text: string, at: number): void => {
    mkdirSync(dirname(join(root, p)), { recursive: true })
    writeFileSync(join(root, p), text)
    utimesSync(join(root, p), at, at)
  }
  mkdirSync(root, { recursive: true })
  copyFileSync(PROVISION, join(root, 'provision.ts'))
  utimesSync(join(root, 'provision.ts'), o.source - 10, o.source - 10)
  const main = (which: string): string => `export async function main() { process.stdout.write('${which}\\n'); return 0 }\n`
  file('lib/cli/main.ts', main('sources'), o.source)
  file('lib/cli/prompt.ts', 'export async function readSecret() { return "" }\n', o.source - 10)
  file('dist/lib/cli/main.js', main('dist'), o.built)
  file('dist/lib/cli/prompt.js', 'export async function readSecret() { return "" }\n', o.built)
  file('dist/provision.js', '', o.built)
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n')
}

/** Under tsx: Node refuses to strip types under node_modules, where users run it through tsx. */
const TSX = ['--import', pathToFileURL(`${ROOT}node_modules/tsx/dist/loader.mjs`).href]

function which(root: string, env: Record<string, string> = {}, loader = tsNodeArgs()): string {
  const r = spawnSync(process.execPath, [...loader, join(root, 'provision.ts')], { encoding: 'utf8', env: { ...process.env, ...env } })
  expect(r.status, r.stderr).toBe(0)
  return r.stdout.trim()
}

describe('provision.ts runs the build beside it when the build is fresh', () => {
  it('the build when it is newer than every source; the sources after an edit, or when asked', () => {
    const fresh = tempDir()
    fakePackage(fresh, { built: 2_000_000_000, source: 1_900_000_000 })
    expect(which(fresh)).toBe('dist')
    expect(which(fresh, { STATECRAFT_SOURCES: '1' })).toBe('sources')

    const edited = tempDir()
    fakePackage(edited, { built: 1_900_000_000, source: 2_000_000_000 })
    expect(which(edited)).toBe('sources')
  })

  it('an installed package (under node_modules) runs its build without comparing times', () => {
    const root = join(tempDir(), 'node_modules', 'statecraft')
    fakePackage(root, { built: 1_900_000_000, source: 2_000_000_000 })
    expect(which(root, {}, TSX)).toBe('dist')
  })

  it('without a build, the sources run', () => {
    const root = tempDir()
    fakePackage(root, { built: 1_900_000_000, source: 2_000_000_000 })
    const r = spawnSync('rm', ['-r', join(root, 'dist')])
    expect(r.status).toBe(0)
    expect(which(root)).toBe('sources')
  })
})
