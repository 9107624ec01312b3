import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import invokeai from '../../recipes/invokeai.ts'
import { snapshotFile } from '../../lib/engine/snapshot.ts'
import { replayedSnapshot } from '../../scripts/replayed-snapshot.ts'
import { PLACEHOLDER_TOKEN, REPLAYED_GPU, REPLAYS } from '../../scripts/replayed/states.ts'
import { cli, ROOT, tsNodeArgs } from '../helpers/cli.ts'
import { macArmFacts } from '../helpers/mac-facts.ts'
import { tempDir } from '../helpers/tmp.ts'

// The macOS arm64 and Windows 11 snapshots of recipes/invokeai that `npm run snapshots -- invokeai`
// builds from the fixture tables' replayed outputs, planned through the real CLI as CI reviews a
// recipe change: no connection, exit codes as --plan.
const DIR = `${ROOT}recipes/snapshots/invokeai`
const FILES = ['macos-arm64-fresh', 'macos-arm64-converged', 'windows11-fresh', 'windows11-converged']
// Any token will do (the probes are matched with it masked); the reviewer's CI has its own.
const REVIEW = { HF_TOKEN: 'hf_any_token_of_the_reviewer' }
const COMMIT = '67ddba9cfff83c3c3baba970a773defc10783bd1'
const URL = 'https://huggingface.co/CompVis/stable-diffusion-v-1-4-original/resolve/main/sd-v1-4-full-ema.ckpt'
const NO_DIR = 'xcode-select: error: unable to get active developer directory. Use `sudo xcode-select --switch path/to/Xcode.app` to select the active developer directory, or install Xcode and run this command again.'

async function simulate(file: string, extra: string[] = [], env: Record<string, string> = REVIEW) {
  const home = tempDir()
  const r = await cli(['--simulate', file, '--recipe', 'invokeai', ...extra], { cwd: home, home, env })
  // The host line carries the plan's time; the rest of the plan is the same on every run.
  return { ...r, plan: r.stdout.split('\n').slice(1).join('\n') }
}

describe('recipes/invokeai against the shipped macOS arm64 snapshots', () => {
  it('fresh: the whole plan in dependency order (Command Line Tools, arm64 Miniforge, the model store; the rest re-checked after what it needs), exit 2', async () => {
    const r = await simulate(`${DIR}/macos-arm64-fresh.json`)
    expect(r.stderr).toMatch(/^statecraft: studio-mac: planned from a snapshot of \S+, built from the replayed outputs of the fixture tables \(scripts\/replayed-snapshot\.ts\): a fresh host; nothing is contacted\n$/)
    expect(r.stdout).toMatch(/^studio-mac: changes pending \(recipe invokeai, \d+ ms, 0 round trips\)\n/)
    expect(r.plan).toBe(`  ~ prereq/xcode (will change)
      install Command Line Tools for Xcode-15.3 with softwareupdate (xcode-select -p: ${NO_DIR})
  ~ prereq/conda (will change)
      install Miniforge3-25.3.1-0-MacOSX-arm64.sh (sha256 from statecraft's pinned table) at /Users/ana/miniforge3
  ? prereq/rustup (pending)
      re-checked after prereq/xcode
  ? invokeai (pending)
      re-checked after prereq/xcode
  ? models (pending)
      re-checked after invokeai
  ~ directory:/Users/ana/Library/Application Support/statecraft/models (will change)
      create directory /Users/ana/Library/Application Support/statecraft/models
  ~ download:/Users/ana/Library/Application Support/statecraft/models/sd-v1-4-full-ema.ckpt (will change)
      download https://huggingface.co/CompVis/stable-diffusion-v-1-4-original/resolve/main/sd-v1-4-full-ema.ckpt to /Users/ana/Library/Application Support/statecraft/models/sd-v1-4-full-ema.ckpt (7.70 GB), sha256 from the recipe
  ? checkpoint (pending)
      re-checked after models
  ? model-sha256 (pending)
      re-checked after checkpoint
  ? env (pending)
      re-checked after invokeai
  ? preload (pending)
      re-checked after env
  ? service (pending)
      re-checked after model-sha256
  ? health (pending)
      re-checked after service
  4 to change, 1 unchanged, 9 pending, 0 failed, 0 skipped
Plan: changes pending — 1 host (0 failed), 4 to change, 1 unchanged, 9 pending, 0 failed, 0 skipped
`)
    expect(r.code).toBe(2)
  })

  it('converged: 0 to change, exit 0', async () => {
    const r = await simulate(`${DIR}/macos-arm64-converged.json`)
    expect(r.plan).toBe('  0 to change, 14 unchanged, 0 pending, 0 failed, 0 skipped\nPlan: nothing to do — 1 host (0 failed), 0 to change, 14 unchanged, 0 pending, 0 failed, 0 skipped\n')
    expect(r.code).toBe(0)
  })

  it('a Mac part-way (built by the same script): the clone there, the env built for osx-arm64; then the env there, the LaunchAgent written and loaded', async () => {
    const dir = tempDir()
    const facts = { ...macArmFacts, gpu: REPLAYED_GPU.darwin }
    const write = (name: string, converged: string[]): string => {
      const snap = replayedSnapshot(invokeai, 'studio-mac', facts, { fs: REPLAYS.invokeai!.converged(facts), converged, env: { HF_TOKEN: PLACEHOLDER_TOKEN } })
      writeFileSync(`${dir}/${name}.json`, JSON.stringify(snapshotFile(snap, { statecraft: '0.1.0', recipe: 'invokeai', origin: 'test' })))
      return `${dir}/${name}.json`
    }
    const before = ['prereq/xcode', 'prereq/conda', 'prereq/rustup', 'invokeai', 'models', 'directory:/Users/ana/Library/Application Support/statecraft/models', 'download:/Users/ana/Library/Application Support/statecraft/models/sd-v1-4-full-ema.ckpt', 'checkpoint', 'model-sha256']
    const cloned = await simulate(write('cloned', before))
    expect(cloned.plan).toContain(`  ~ env (will change)
      create conda env invokeai with /Users/ana/miniforge3/bin/conda (CONDA_SUBDIR=osx-arm64) from /Users/ana/invokeai/environment-mac.yml (sha256 `)
    expect(cloned.plan).toContain('  ~ preload (will change)\n')
    expect(cloned.plan).toContain('  ? service (pending)\n      re-checked after preload\n  ? health (pending)\n      re-checked after service\n')
    expect(cloned.code).toBe(2)

    const built = await simulate(write('built', [...before, 'env']))
    expect(built.plan).toContain(`  ~ service (will change)
      create /Users/ana/Library/LaunchAgents/invokeai.plist
      load gui/501/invokeai (launchctl bootstrap; not loaded)
  ? health (pending)
      re-checked after service
  1 to change, 12 unchanged, 1 pending`)
    expect(built.code).toBe(2)
  })
})

describe('recipes/invokeai against the shipped Windows 11 snapshots', () => {
  it('fresh: git by winget, the Miniforge .exe, rustup with 1.72.1, the model store; the rest re-checked, exit 2', async () => {
    const r = await simulate(`${DIR}/windows11-fresh.json`)
    expect(r.stdout).toMatch(/^gaming-pc: changes pending \(recipe invokeai, \d+ ms, 0 round trips\)\n/)
    expect(r.plan).toBe(`  ~ prereq/git (will change)
      install Git.Git 2.43.0 (winget)
  ~ prereq/conda (will change)
      install Miniforge3-25.3.0-1-Windows-x86_64.exe (sha256 from statecraft's pinned table) at C:\\Users\\ana\\miniforge3
  ~ prereq/rustup (will change)
      install rustup (rustup-init-1.28.2-x86_64.exe, sha256 88d8258dcf6a…) with the stable toolchain, profile minimal
      install the 1.72.1 toolchain beside stable (rustup toolchain install 1.72.1)
  ? invokeai (pending)
      re-checked after prereq/git
  ? models (pending)
      re-checked after invokeai
  ~ directory:C:\\Users\\ana\\AppData\\Local\\statecraft\\models (will change)
      create directory C:\\Users\\ana\\AppData\\Local\\statecraft\\models
  ~ download:C:\\Users\\ana\\AppData\\Local\\statecraft\\models\\sd-v1-4-full-ema.ckpt (will change)
      download https://huggingface.co/CompVis/stable-diffusion-v-1-4-original/resolve/main/sd-v1-4-full-ema.ckpt to C:\\Users\\ana\\AppData\\Local\\statecraft\\models\\sd-v1-4-full-ema.ckpt (7.70 GB), sha256 from the recipe
  ? checkpoint (pending)
      re-checked after models
  ? model-sha256 (pending)
      re-checked after checkpoint
  ? env (pending)
      re-checked after invokeai
  ? preload (pending)
      re-checked after env
  ? service (pending)
      re-checked after model-sha256
  ? health (pending)
      re-checked after service
  5 to change, 1 unchanged, 8 pending, 0 failed, 0 skipped
Plan: changes pending — 1 host (0 failed), 5 to change, 1 unchanged, 8 pending, 0 failed, 0 skipped
`)
    expect(r.code).toBe(2)
  })

  it('converged: 0 to change, exit 0 (JSON: no connection, no round trip)', async () => {
    const r = await simulate(`${DIR}/windows11-converged.json`, ['--json'])
    const host = (JSON.parse(r.stdout) as { hosts: { connections: number; roundTrips: number; summary: object; resources: { id: string; status: string }[] }[] }).hosts[0]!
    expect([host.connections, host.roundTrips]).toEqual([0, 0])
    expect(host.summary).toMatchObject({ changed: 0, unchanged: 14, pending: 0, failed: 0 })
    expect(host.resources.map((x) => x.id)).toEqual(['prereq/git', 'prereq/conda', 'prereq/rustup', 'preflight', 'invokeai', 'models', 'directory:C:\\Users\\ana\\AppData\\Local\\statecraft\\models', 'download:C:\\Users\\ana\\AppData\\Local\\statecraft\\models\\sd-v1-4-full-ema.ckpt', 'checkpoint', 'model-sha256', 'env', 'preload', 'service', 'health'])
    expect(r.code).toBe(0)
  })
})

describe('what a simulation cannot answer', () => {
  it('a resource whose probe the snapshot lacks is "unknown: not in snapshot", exit 1 (macOS fresh without env, Windows converged without service)', async () => {
    const dir = tempDir()
    for (const [file, gone, host] of [['macos-arm64-fresh', 'env', 'studio-mac'], ['windows11-converged', 'service', 'gaming-pc']] as const) {
      const snap = JSON.parse(readFileSync(`${DIR}/${file}.json`, 'utf8')) as { probes: Record<string, unknown> }
      delete snap.probes[gone]
      writeFileSync(`${dir}/${file}.json`, JSON.stringify(snap))
      const r = await simulate(`${dir}/${file}.json`)
      expect(r.stdout).toContain(`  ? ${gone} (pending)\n      unknown: not in snapshot\n`)
      expect(r.stdout).toContain(`host ${host}: 1 resource(s) the snapshot cannot answer for: ${gone}; their plan is unknown`)
      expect([file, r.code]).toEqual([file, 1])
    }
  })

  it('without HF_TOKEN the preflight and the checkpoint\'s download ask the hub another way (no Authorization): both unknown, exit 1', async () => {
    const home = tempDir()
    const r = await cli(['--simulate', `${DIR}/macos-arm64-converged.json`, '--json'], { cwd: home, home, env: { HF_TOKEN: '' } })
    const host = (JSON.parse(r.stdout) as { hosts: { resources: { id: string; changes: string[] }[] }[] }).hosts[0]!
    expect(host.resources.filter((x) => x.changes.some((c) => c.startsWith('unknown'))).map((x) => [x.id, x.changes[0]])).toEqual([
      ['preflight', 'unknown: not in snapshot (its probe changed since the recording)'],
      ['download:/Users/ana/Library/Application Support/statecraft/models/sd-v1-4-full-ema.ckpt', 'unknown: not in snapshot (its probe changed since the recording)'],
    ])
    expect(r.code).toBe(1)
  })
})

describe('the shipped replayed snapshots are what the script builds today', () => {
  it('npm run snapshots -- invokeai into a temp dir gives the four shipped files (all but the recorded time); run over the shipped ones it changes nothing', () => {
    const out = tempDir()
    const run = (recipe: string, dir: string, ...flags: string[]) => spawnSync(process.execPath, [...tsNodeArgs(), `${ROOT}scripts/snapshots.ts`, recipe, '--out', dir, ...flags], { encoding: 'utf8', env: { ...process.env, HOME: tempDir() } })
    const fresh = run('invokeai', out)
    expect(fresh.status, fresh.stderr).toBe(0)
    expect(fresh.stdout).toContain("debian12-*: recipe invokeai's Debian 12 snapshots are recorded from a lab host")
    const body = (path: string): unknown => {
      const { recorded, ...rest } = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
      expect(recorded).toMatch(/^\d{4}-\d\d-\d\dT/)
      return rest
    }
    for (const f of FILES) expect([f, body(`${out}/${f}.json`)]).toEqual([f, body(`${DIR}/${f}.json`)])
    expect(JSON.parse(readFileSync(`${out}/macos-arm64-fresh.json`, 'utf8'))).toMatchObject({ recipe: 'invokeai', host: 'studio-mac', origin: expect.stringMatching(/^built from the replayed outputs of the fixture tables/), facts: { os: 'darwin', arch: 'arm64', gpu: { vendor: 'apple' } } })

    // Over copies of the shipped files: each is left byte for byte, recorded time included.
    const copy = tempDir()
    for (const f of FILES) writeFileSync(`${copy}/${f}.json`, readFileSync(`${DIR}/${f}.json`))
    const again = run('invokeai', copy)
    expect(again.stdout.match(/^unchanged /gm)).toHaveLength(4)
    for (const f of FILES) expect(readFileSync(`${copy}/${f}.json`, 'utf8')).toBe(readFileSync(`${DIR}/${f}.json`, 'utf8'))

    // The demo recipe's macOS and Windows files too (its Debian pair is recorded on this machine).
    const demo = tempDir()
    const d = run('demo', demo, '--replayed-only')
    expect(d.status, d.stderr).toBe(0)
    for (const f of FILES) expect([f, body(`${demo}/${f}.json`)]).toEqual([f, body(`${ROOT}recipes/snapshots/demo/${f}.json`)])
  })

  it('the secret stays out: the placeholder token is in no shipped file, and a probe that printed a secret is not shipped masked', () => {
    for (const f of FILES) {
      const text = readFileSync(`${DIR}/${f}.json`, 'utf8')
      expect(text).not.toContain(PLACEHOLDER_TOKEN)
      expect(text).not.toContain(Buffer.from(PLACEHOLDER_TOKEN).toString('hex'))
      expect(text).not.toContain('"masked"')
      // The checkout the converged ones describe is the recipe's pinned fork commit.
      if (f.endsWith('converged')) expect(text).toContain(`"head": "${COMMIT}"`)
    }
  })
})
