import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { command, condaEnv, condaRun, converge, defineRecipe, git, type CondaEnvOptions, type Resource } from '../../lib/index.ts'
import { sha256Of } from '../../lib/resources/conda-env/yml.ts'
import { condaCalls, installCondaStandIn } from '../helpers/conda-stand-in.ts'
import { makeRepo } from '../helpers/git.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

/**
 * The condaEnv resource run for real (local transport, real sh, temp HOME) against the conda
 * stand-in (test/helpers/conda-stand-in.ts) installed where the conda resource puts Miniforge,
 * ~/miniforge3, driven by copies of InvokeAI 2.0's own environment files.
 */
const SUBDIR = process.arch === 'arm64' ? 'linux-aarch64' : 'linux-64'
const FIXTURES = new URL('../fixtures/invokeai-2.0/', import.meta.url)

function host(yml = 'environment.yml') {
  const home = tempDir()
  const root = `${home}/miniforge3`
  installCondaStandIn(root)
  const repo = `${home}/invokeai`
  mkdirSync(repo)
  copyFileSync(new URL(yml, FIXTURES), `${repo}/${yml}`)
  return { home, root, repo, file: `${repo}/${yml}`, env: `${root}/envs/invokeai` }
}

function run(home: string, resources: (facts: Parameters<typeof condaRun>[2]) => Resource[], mode: 'plan' | 'apply' = 'apply') {
  return converge({ recipe: defineRecipe({ name: 'env', resources: (ctx) => resources(ctx.facts) }), hosts: [{ name: 'local', transport: localHost(home) }], mode })
}
const only = (opts: CondaEnvOptions) => () => [condaEnv({ id: 'env', ...opts })]

describe('condaEnv with a conda stand-in (real sh, temp HOME, the real InvokeAI 2.0 ymls)', () => {
  it('creates the env from environment.yml with CONDA_SUBDIR and PIP_EXISTS_ACTION in the repo, records the hash; the next run changes nothing', async () => {
    const h = host()
    const sha = sha256Of(readFileSync(h.file))
    const plan = await run(h.home, only({ name: 'invokeai', file: '~/invokeai/environment.yml' }), 'plan')
    expect(plan.hosts[0]!.resources[0]!.changes).toEqual([`create conda env invokeai with ${h.root}/bin/conda (CONDA_SUBDIR=${SUBDIR}) from ${h.file} (sha256 ${sha}): missing`])
    expect(condaCalls(h.root)).toEqual([])
    const r = await run(h.home, only({ name: 'invokeai', file: '~/invokeai/environment.yml' }))
    expect(r.hosts[0]!.resources[0]!.error).toBeUndefined()
    expect(r.summary).toMatchObject({ changed: 1, failed: 0 })
    expect(condaCalls(h.root)).toEqual([`create ${h.env} CONDA_SUBDIR=${SUBDIR} PIP_EXISTS_ACTION=w cwd=${h.repo} file=${h.file}`])
    expect(JSON.parse(readFileSync(`${h.env}/conda-meta/statecraft-env.json`, 'utf8'))).toEqual({ sha256: sha, file: h.file, subdir: SUBDIR, variables: {} })
    // pip's checkouts, where conda runs it: beside the yml.
    for (const d of ['clip', 'taming-transformers', 'k-diffusion', 'gfpgan']) expect(existsSync(`${h.repo}/src/${d}`)).toBe(true)
    const again = await run(h.home, only({ name: 'invokeai', file: '~/invokeai/environment.yml' }))
    expect(again.summary).toMatchObject({ changed: 0, unchanged: 1, failed: 0 })
    expect(condaCalls(h.root)).toHaveLength(1)
  })

  it('a changed yml plans update naming the old and new hash; the stale src/ checkouts are removed first, so pip does not stop', async () => {
    const h = host()
    const opts = { name: 'invokeai', file: '~/invokeai/environment.yml' }
    expect((await run(h.home, only(opts))).summary).toMatchObject({ changed: 1 })
    const old = sha256Of(readFileSync(h.file))
    appendFileSync(h.file, '    - requests==2.28.1\n')
    const sha = sha256Of(readFileSync(h.file))
    const plan = await run(h.home, only(opts), 'plan')
    expect(plan.hosts[0]!.resources[0]!.changes).toEqual([`update conda env invokeai with ${h.root}/bin/conda (CONDA_SUBDIR=${SUBDIR}) from ${h.file} (sha256 ${sha}) with --prune: yml changed, was ${old}`])
    const r = await run(h.home, only(opts))
    expect(r.hosts[0]!.resources[0]!.error).toBeUndefined()
    expect(condaCalls(h.root).at(-1)).toBe(`update ${h.env} CONDA_SUBDIR=${SUBDIR} PIP_EXISTS_ACTION=w cwd=${h.repo} file=${h.file} --prune`)
    expect(JSON.parse(readFileSync(`${h.env}/conda-meta/statecraft-env.json`, 'utf8')).sha256).toBe(sha)
    expect((await run(h.home, only(opts))).summary).toMatchObject({ changed: 0, unchanged: 1 })
  })

  it("onDrift 'recreate': conda removes the env, then creates it again", async () => {
    const h = host()
    const opts: CondaEnvOptions = { name: 'invokeai', file: '~/invokeai/environment.yml', onDrift: 'recreate' }
    await run(h.home, only(opts))
    writeFileSync(`${h.env}/marker`, 'from the first build')
    appendFileSync(h.file, '    - requests==2.28.1\n')
    const r = await run(h.home, only(opts))
    expect(r.hosts[0]!.resources[0]!.error).toBeUndefined()
    expect(condaCalls(h.root).slice(1).map((l) => l.split(' ')[0])).toEqual(['remove', 'create'])
    expect(existsSync(`${h.env}/marker`)).toBe(false)
  })

  it('a broken yml fails naming the host path and its line, and no conda build runs', async () => {
    const h = host()
    writeFileSync(h.file, 'name: invokeai\ndependencies:\n  - python>=3.9\n  - pip:\n    - flask==2.1.3\n   - eventlet\n')
    const r = await run(h.home, only({ name: 'invokeai', file: '~/invokeai/environment.yml' }))
    expect(r.ok).toBe(false)
    expect(r.hosts[0]!.resources[0]!.error!.message).toMatch(new RegExp(`^conda env invokeai: ${h.file} line 6: .+\\. Nothing was run; fix the file$`))
    expect(condaCalls(h.root)).toEqual([])
    expect(existsSync(h.env)).toBe(false)
  })

  it('a failed pip build records nothing; the next run updates the env it left, after removing the checkouts pip left', async () => {
    const h = host()
    const opts = { name: 'invokeai', file: '~/invokeai/environment.yml' }
    writeFileSync(`${h.root}/fail-pip`, '')
    const failed = await run(h.home, only(opts))
    expect(failed.hosts[0]!.resources[0]!.error!.message).toContain('CondaEnvException: Pip failed')
    expect(existsSync(`${h.env}/conda-meta/statecraft-env.json`)).toBe(false)
    expect(existsSync(`${h.repo}/src/clip`)).toBe(true)
    rmSync(`${h.root}/fail-pip`)
    const plan = await run(h.home, only(opts), 'plan')
    expect(plan.hosts[0]!.resources[0]!.changes[0]).toMatch(/^update conda env invokeai .* with --prune: no record of the yml it was built from$/)
    const r = await run(h.home, only(opts))
    expect(r.hosts[0]!.resources[0]!.error).toBeUndefined()
    expect(condaCalls(h.root).map((l) => l.split(' ')[0])).toEqual(['create', 'update'])
  })

  it('environment-mac.yml: its variables reach a notified command run inside with condaRun, in the repo', async () => {
    const h = host('environment-mac.yml')
    const resources = (facts: Parameters<typeof condaRun>[2]): Resource[] => {
      const env = condaEnv({ id: 'env', name: 'invokeai', file: '~/invokeai/environment-mac.yml', variables: { PYTORCH_ENABLE_MPS_FALLBACK: '1' }, notify: ['preload'] })
      const argv = ['sh', '-c', 'echo "$PYTORCH_ENABLE_MPS_FALLBACK $PYTHONUNBUFFERED $CONDA_PREFIX $(pwd)" >> preload.out']
      return [env, command({ id: 'preload', ...condaRun(env, argv, facts, { cwd: '~/invokeai' }), onlyIfNotified: true })]
    }
    const r = await run(h.home, resources)
    expect(r.ok, JSON.stringify(r.hosts[0]!.resources.map((x) => x.error))).toBe(true)
    expect(readFileSync(`${h.repo}/preload.out`, 'utf8')).toBe(`1 1 ${h.env} ${h.repo}\n`)
    // Converged: no rebuild, so the handler does not run again.
    const again = await run(h.home, resources)
    expect(again.summary).toMatchObject({ changed: 0 })
    expect(readFileSync(`${h.repo}/preload.out`, 'utf8').split('\n')).toHaveLength(2)
  })

  it('without the variables declared, the mac yml is refused before any build', async () => {
    const h = host('environment-mac.yml')
    const r = await run(h.home, only({ name: 'invokeai', file: '~/invokeai/environment-mac.yml' }))
    expect(r.hosts[0]!.resources[0]!.error!.message).toContain('sets PYTORCH_ENABLE_MPS_FALLBACK=1 for commands run inside')
    expect(condaCalls(h.root)).toEqual([])
  })

  it('a prefix env: created with -p and found again by its conda-meta', async () => {
    const h = host()
    const opts = { prefix: '~/envs/ai', file: '~/invokeai/environment.yml', conda: '~/miniforge3/bin/conda' }
    const r = await run(h.home, only(opts))
    expect(r.hosts[0]!.resources[0]!.error).toBeUndefined()
    expect(existsSync(`${h.home}/envs/ai/conda-meta/statecraft-env.json`)).toBe(true)
    expect((await run(h.home, only(opts))).summary).toMatchObject({ changed: 0, unchanged: 1 })
  })

  it('after the git checkout that brings the yml (listed in after): re-checked after it in a plan; a yml changed upstream is pulled, then the env updated', async () => {
    const h = host()
    rmSync(h.repo, { recursive: true })
    const upstream = makeRepo(tempDir())
    const yml = readFileSync(new URL('environment.yml', FIXTURES), 'utf8')
    upstream.push('main', 'environment.yml', yml)
    const resources = () => [git({ id: 'checkout', repo: upstream.bare, dest: '~/invokeai', ref: 'main' }), condaEnv({ id: 'env', name: 'invokeai', file: '~/invokeai/environment.yml', after: ['checkout'] })]
    const plan = await run(h.home, resources, 'plan')
    expect(plan.hosts[0]!.resources[1]).toMatchObject({ id: 'env', status: 'pending', changes: ['re-checked after checkout'] })
    const r = await run(h.home, resources)
    expect(r.ok, JSON.stringify(r.hosts[0]!.resources.map((x) => x.error))).toBe(true)
    expect(condaCalls(h.root)).toHaveLength(1)
    const old = sha256Of(yml)
    upstream.push('main', 'environment.yml', `${yml}    - requests==2.28.1\n`)
    const r2 = await run(h.home, resources)
    expect(r2.hosts[0]!.resources.map((x) => x.status)).toEqual(['changed', 'changed'])
    expect(r2.hosts[0]!.resources[1]!.changes[0]).toContain(`with --prune: yml changed, was ${old}`)
    expect(condaCalls(h.root).map((l) => l.split(' ')[0])).toEqual(['create', 'update'])
  })

  it('without after, a yml the checkout has yet to bring fails the plan with what to do', async () => {
    const h = host()
    rmSync(h.repo, { recursive: true })
    const upstream = makeRepo(tempDir())
    const r = await run(h.home, () => [git({ id: 'checkout', repo: upstream.bare, dest: '~/invokeai', ref: 'main' }), condaEnv({ id: 'env', name: 'invokeai', file: '~/invokeai/environment.yml' })], 'plan')
    expect(r.hosts[0]!.resources[1]!.error!.message).toBe(`conda env invokeai: ${h.file} is not on the host: when a git resource of this recipe brings it, list that resource in after (then this one is re-checked once it has run); else fix file`)
  })

  it('an env made by hand for another platform (its history links an osx-64 python): removed and created again', async () => {
    const h = host()
    mkdirSync(`${h.env}/conda-meta`, { recursive: true })
    writeFileSync(`${h.env}/conda-meta/history`, '==> 2022-10-10 21:04:13 <==\n# cmd: /usr/local/anaconda3/bin/conda env create -f environment.yml\n# conda version: 22.9.0\n+conda-forge/osx-64::python-3.9.13-h57e37ff_0_cpython\n+conda-forge/noarch::pip-22.2.2-pyhd8ed1ab_0\n')
    const opts = { name: 'invokeai', file: '~/invokeai/environment.yml' }
    const plan = await run(h.home, only(opts), 'plan')
    expect(plan.hosts[0]!.resources[0]!.changes[0]).toMatch(new RegExp(`^recreate conda env invokeai .*: built for osx-64, this host needs ${SUBDIR}; packages of another platform cannot be updated in place$`))
    const r = await run(h.home, only(opts))
    expect(r.hosts[0]!.resources[0]!.error).toBeUndefined()
    expect(condaCalls(h.root).map((l) => l.split(' ')[0])).toEqual(['remove', 'create'])
    expect(readFileSync(`${h.env}/conda-meta/history`, 'utf8')).toContain(`::python-3.9.13`)
    expect((await run(h.home, only(opts))).summary).toMatchObject({ changed: 0, unchanged: 1 })
  })

  it('content from the controller: written to the host, built from; a hand edit on the host is written back without a rebuild', async () => {
    const h = host()
    rmSync(h.repo, { recursive: true })
    const content = readFileSync(new URL('environment.yml', FIXTURES), 'utf8')
    const opts = { name: 'invokeai', file: '~/invokeai/environment.yml', content }
    const r = await run(h.home, only(opts))
    expect(r.hosts[0]!.resources[0]!.error).toBeUndefined()
    expect(r.hosts[0]!.resources[0]!.changes.map((c) => c.split(' ')[0])).toEqual(['write', 'create'])
    expect(readFileSync(h.file, 'utf8')).toBe(content)
    expect((await run(h.home, only(opts))).summary).toMatchObject({ changed: 0, unchanged: 1 })
    appendFileSync(h.file, '# local edit\n')
    const back = await run(h.home, only(opts))
    expect(back.hosts[0]!.resources[0]!.changes).toEqual([expect.stringMatching(/^write .*environment\.yml \(\d+ bytes, sha256 [0-9a-f]{64}; was sha256 [0-9a-f]{64}\)$/)])
    expect(readFileSync(h.file, 'utf8')).toBe(content)
    expect(condaCalls(h.root)).toHaveLength(1)
  })

  it('content with a broken yml: refused before the host is touched (no write, no conda)', async () => {
    const h = host()
    rmSync(h.repo, { recursive: true })
    const r = await run(h.home, only({ name: 'invokeai', file: '~/invokeai/environment.yml', content: 'name: invokeai\ndependencies: [python\n' }))
    expect(r.ok).toBe(false)
    expect(JSON.stringify(r.hosts[0])).toMatch(/conda env invokeai: content line \d+: .*Nothing was run; fix the yml/)
    expect(existsSync(h.repo)).toBe(false)
    expect(condaCalls(h.root)).toEqual([])
  })

  it('conda env list with envs_details and look-alike names: only <envs dir>/invokeai is the env', async () => {
    const h = host()
    for (const other of ['invokeai-old', 'my-invokeai']) mkdirSync(`${h.root}/envs/${other}/conda-meta`, { recursive: true })
    const opts = { name: 'invokeai', file: '~/invokeai/environment.yml' }
    const plan = await run(h.home, only(opts), 'plan')
    expect(plan.hosts[0]!.resources[0]!.changes[0]).toMatch(/^create conda env invokeai .*: missing$/)
    await run(h.home, only(opts))
    expect((await run(h.home, only({ ...opts, name: 'invokeai-old' }), 'plan')).hosts[0]!.resources[0]!.changes[0]).toMatch(/^update conda env invokeai-old .*: no record of the yml it was built from$/)
    expect((await run(h.home, only(opts), 'plan')).summary).toMatchObject({ unchanged: 1 })
  })
})
