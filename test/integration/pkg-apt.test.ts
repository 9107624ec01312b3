import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { converge, defineRecipe, pkg } from '../../lib/index.ts'
import type { PkgOptions } from '../../lib/index.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

/**
 * pkg with real apt, hermetically: a local repository made here (two versions of a dummy package
 * built with dpkg-deb, indexed with apt-ftparchive) read through a sources list, list and cache
 * directories of this test's own, passed to every apt call by pkg's `aptOptions`. The machine's
 * own sources, lists and caches are never read or written; only the dummy package passes
 * through its dpkg database, and it is purged afterwards, whatever happened.
 */

const PKG = 'statecraft-dummy'
let root = ''
let aptOptions: Record<string, string> = {}

function sh(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: ['ignore', 'pipe', 'pipe'] })
}

function installed(): string | undefined {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Status}\t${Version}', PKG], { encoding: 'utf8' })
  const [status, version] = r.stdout.split('\t')
  return r.status === 0 && status === 'install ok installed' ? version : undefined
}

function build(version: string): void {
  const dir = join(root, 'build', version)
  mkdirSync(join(dir, 'DEBIAN'), { recursive: true })
  mkdirSync(join(dir, 'usr/share/doc', PKG), { recursive: true })
  writeFileSync(join(dir, 'usr/share/doc', PKG, 'VERSION'), `${version}\n`)
  writeFileSync(
    join(dir, 'DEBIAN/control'),
    `Package: ${PKG}\nVersion: ${version}\nArchitecture: all\nMaintainer: statecraft tests <tests@example.invalid>\nDescription: a package the statecraft tests install and remove\n`,
  )
  sh('dpkg-deb', ['--root-owner-group', '--build', dir, join(root, 'repo', `${PKG}_${version}_all.deb`)])
}

function cleanUp(): void {
  if (installed() !== undefined || spawnSync('dpkg-query', ['-W', PKG]).status === 0) spawnSync('dpkg', ['--purge', PKG], { stdio: 'ignore' })
  if (root) rmSync(root, { recursive: true, force: true })
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('the apt integration test installs a package: run it as root')
  if (spawnSync('sh', ['-c', 'command -v apt-ftparchive']).status !== 0) {
    // apt-utils is in .ci/run's list; a machine set up before that gets it here.
    sh('apt-get', ['update', '-qq'])
    sh('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'apt-utils'])
  }
  root = realpathSync(mkdtempSync(join(tmpdir(), 'sc-apt-')))
  try {
    for (const d of ['repo', 'lists/partial', 'cache/archives/partial']) mkdirSync(join(root, d), { recursive: true })
    build('1.0')
    build('2.0')
    writeFileSync(join(root, 'repo/Packages'), sh('apt-ftparchive', ['packages', '.'], join(root, 'repo')))
    writeFileSync(join(root, 'sources.list'), `deb [trusted=yes] file:${root}/repo ./\n`)
    aptOptions = {
      'Dir::Etc::sourcelist': join(root, 'sources.list'),
      'Dir::Etc::sourceparts': '-',
      'Dir::State::Lists': join(root, 'lists'),
      'Dir::Cache': join(root, 'cache'),
      // Other test runs may hold the dpkg lock for a moment: wait for it instead of failing.
      'DPkg::Lock::Timeout': '300',
      'APT::Sandbox::User': 'root',
    }
    sh('apt-get', [...Object.entries(aptOptions).flatMap(([k, v]) => ['-o', `${k}=${v}`]), 'update', '-qq'])
    // A dummy left by an earlier, killed run would make the first step a no-op.
    if (installed() !== undefined) spawnSync('dpkg', ['--purge', PKG], { stdio: 'ignore' })
  } catch (e) {
    cleanUp()
    throw e
  }
}, 600_000)

afterAll(() => {
  cleanUp()
  expect(installed()).toBeUndefined()
}, 120_000)

async function run(desired: Partial<PkgOptions>, mode: 'plan' | 'apply' = 'apply') {
  const recipe = defineRecipe({ name: 'pkg-apt', resources: () => [pkg({ name: PKG, aptOptions, ...desired })] })
  const r = await converge({ recipe, hosts: [{ name: 'local', transport: localHost(tempDir()) }], mode })
  return { r, res: r.hosts[0]?.resources[0] }
}

/** The second run of each step: nothing to change, in the round trips of any no-op. */
async function expectNoOp(desired: Partial<PkgOptions>): Promise<void> {
  const { r } = await run(desired)
  expect(r.ok).toBe(true)
  expect(r.summary).toMatchObject({ changed: 0, unchanged: 1, failed: 0 })
  expect(r.hosts[0]?.roundTrips).toBe(3)
}

describe('pkg with real apt (a local repository of the test)', () => {
  it("version '<2' installs 1.0, as the plan said; again changes nothing", async () => {
    const plan = await run({ version: '<2' }, 'plan')
    expect(plan.res?.changes).toEqual([`install ${PKG} 1.0 (apt)`])
    expect(installed()).toBeUndefined()
    const { r, res } = await run({ version: '<2' })
    expect(r.ok).toBe(true)
    expect(res?.changes).toEqual([`install ${PKG} 1.0 (apt)`])
    expect(installed()).toBe('1.0')
    await expectNoOp({ version: '<2' })
  }, 300_000)

  it("'>=2' upgrades to 2.0; again changes nothing", async () => {
    const { r, res } = await run({ version: '>=2' })
    expect(r.ok).toBe(true)
    expect(res?.changes).toEqual([`upgrade ${PKG} 1.0 → 2.0 to satisfy >=2 (apt)`])
    expect(installed()).toBe('2.0')
    await expectNoOp({ version: '>=2' })
  }, 300_000)

  it("'>=3' is refused in the plan and in apply, naming 2.0 and 1.0; nothing changes", async () => {
    for (const mode of ['plan', 'apply'] as const) {
      const { r, res } = await run({ version: '>=3' }, mode)
      expect(r.ok).toBe(false)
      expect(res?.changes).toEqual([`upgrade ${PKG} 2.0 to satisfy >=3 (apt): no version satisfies it (available: 2.0, 1.0)`])
      expect(res?.error).toMatchObject({ code: 'E_CONFLICT', message: expect.stringContaining('no version apt offers satisfies >=3 (available: 2.0, 1.0)') })
    }
    expect(installed()).toBe('2.0')
  }, 300_000)

  it("state 'absent' removes it; again changes nothing", async () => {
    const { r, res } = await run({ state: 'absent' })
    expect(r.ok).toBe(true)
    expect(res?.changes).toEqual([`remove ${PKG} (apt)`])
    expect(installed()).toBeUndefined()
    await expectNoOp({ state: 'absent' })
  }, 300_000)
})
