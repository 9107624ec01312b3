import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { converge, defineRecipe, directory, git } from '../../lib/index.ts'
import { execFileSync } from 'node:child_process'
import { git as gitCli, head, makeRepo } from '../helpers/git.ts'
import { ensureTestUser, TEST_USER } from '../helpers/sshd.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

function setup() {
  const root = tempDir()
  const repo = makeRepo(root)
  const home = tempDir()
  const dest = `${root}/InvokeAI`
  const run = (ref: string, mode: 'plan' | 'apply' = 'apply', extra: { force?: boolean; depth?: number } = {}) =>
    converge({
      recipe: defineRecipe({ name: 'g', resources: () => [git({ id: 'repo', repo: repo.bare, dest, ref, ...extra })] }),
      hosts: [{ name: 'local', transport: localHost(home) }],
      mode,
    })
  return { repo, dest, run }
}

describe('git (real repositories)', () => {
  it('clones at an annotated tag, then a no-op run resolves the tag locally in 3 round trips', async () => {
    const { repo, dest, run } = setup()
    const plan = await run('v1.0', 'plan')
    expect(plan.hosts[0]!.resources[0]!.changes).toEqual([`clone ${repo.bare} to ${dest} at v1.0`])
    const r = await run('v1.0')
    expect(r.hosts[0]!.error).toBeUndefined()
    expect(r.ok).toBe(true)
    expect(head(dest)).toBe(repo.commits.c1)
    const again = await run('v1.0')
    expect(again.summary).toMatchObject({ changed: 0, unchanged: 1 })
    expect(again.hosts[0]!.roundTrips).toBe(3)
  })

  it('moves to another tag, says from where, and to a commit id', async () => {
    const { repo, dest, run } = setup()
    await run('v1.0')
    const plan = await run('v2.0', 'plan')
    expect(plan.hosts[0]!.resources[0]!.changes).toEqual([`check out v2.0 (was ${repo.commits.c1!.slice(0, 7)})`])
    expect((await run('v2.0')).ok).toBe(true)
    expect(head(dest)).toBe(repo.commits.c2)
    expect((await run(repo.commits.c3!)).ok).toBe(true)
    expect(head(dest)).toBe(repo.commits.c3)
  })

  it('follows a branch to its remote tip with one ls-remote', async () => {
    const { repo, dest, run } = setup()
    expect((await run('dev', 'apply', { depth: 1 })).ok).toBe(true)
    expect(head(dest)).toBe(repo.commits.c4)
    expect((await run('dev', 'plan')).summary.changed).toBe(0)
    const tip = repo.push('dev', 'dev.txt', 'dev 2\n')
    const plan = await run('dev', 'plan')
    expect(plan.hosts[0]!.resources[0]!.changes).toEqual([`check out dev (was ${repo.commits.c4!.slice(0, 7)})`])
    expect((await run('dev')).ok).toBe(true)
    expect(head(dest)).toBe(tip)
    expect(readFileSync(`${dest}/dev.txt`, 'utf8')).toBe('dev 2\n')
  })

  it('refuses to throw away local changes unless force, and never removes untracked or ignored files', async () => {
    const { repo, dest, run } = setup()
    await run('v1.0')
    writeFileSync(`${dest}/README.md`, 'my edit\n')
    mkdirSync(`${dest}/models/ldm/stable-diffusion-v1`, { recursive: true })
    writeFileSync(`${dest}/models/ldm/stable-diffusion-v1/model.ckpt`, 'weights')
    writeFileSync(`${dest}/notes.txt`, 'untracked')
    const plan = await run('v2.0', 'plan')
    expect(plan.hosts[0]!.resources[0]).toMatchObject({ status: 'failed', error: { code: 'E_CONFLICT' } })
    expect(plan.hosts[0]!.resources[0]!.error!.message).toMatch(/local changes to tracked files would be lost by checking out v2.0; commit or stash them, or set force: true/)
    const refused = await run('v2.0')
    expect(refused.ok).toBe(false)
    expect(readFileSync(`${dest}/README.md`, 'utf8')).toBe('my edit\n')
    const forced = await run('v2.0', 'apply', { force: true })
    expect(forced.hosts[0]!.resources[0]!.changes).toEqual([`check out v2.0 (was ${repo.commits.c1!.slice(0, 7)}), discarding local changes to tracked files`])
    expect(forced.ok).toBe(true)
    expect(head(dest)).toBe(repo.commits.c2)
    expect(readFileSync(`${dest}/README.md`, 'utf8')).toBe('v1\n')
    expect(readFileSync(`${dest}/models/ldm/stable-diffusion-v1/model.ckpt`, 'utf8')).toBe('weights')
    expect(readFileSync(`${dest}/notes.txt`, 'utf8')).toBe('untracked')
  })

  it('gives clear errors for an unknown ref and a non-empty non-repo dest', async () => {
    const { repo, dest, run } = setup()
    await run('v1.0')
    const r = await run('v9.9', 'plan')
    expect(r.hosts[0]!.resources[0]!.changes[0]).toMatch(new RegExp(`^check out v9.9: not found on ${repo.bare}`))
    expect(r.hosts[0]!.resources[0]!.error!.message).toMatch(/v9.9 is neither a branch nor a tag/)
    const other = tempDir()
    writeFileSync(`${other}/file`, 'x')
    const r2 = await converge({
      recipe: defineRecipe({ name: 'g', resources: () => [git({ repo: repo.bare, dest: other, ref: 'main' })] }),
      hosts: [{ name: 'local', transport: localHost(tempDir()) }],
      mode: 'plan',
    })
    expect(r2.hosts[0]!.resources[0]!.error!.message).toMatch(/the directory exists, is not empty and is not a git checkout/)
    expect(existsSync(`${dest}/.git`)).toBe(true)
  })

  it('orders a directory inside the checkout after the clone', async () => {
    const { repo, dest } = setup()
    const recipe = defineRecipe({
      name: 'g',
      resources: () => [directory({ path: `${dest}/models/ldm/stable-diffusion-v1` }), git({ repo: repo.bare, dest, ref: 'v2.0' })],
    })
    const r = await converge({ recipe, hosts: [{ name: 'local', transport: localHost(tempDir()) }] })
    expect(r.ok).toBe(true)
    expect(head(dest)).toBe(repo.commits.c2)
    expect(existsSync(`${dest}/models/ldm/stable-diffusion-v1`)).toBe(true)
  })

  it('works on a checkout owned by another user (safe.directory)', async () => {
    ensureTestUser()
    const { repo, dest, run } = setup()
    await run('v1.0')
    execFileSync('chown', ['-R', `${TEST_USER}:${TEST_USER}`, dest])
    // Plain git refuses it ("dubious ownership"); the resource still reads and moves it.
    expect(() => execFileSync('git', ['-C', dest, 'rev-parse', 'HEAD'], { stdio: 'pipe', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' } })).toThrow(/dubious ownership/)
    const r = await run('v2.0')
    expect(r.hosts[0]!.error).toBeUndefined()
    expect(r.ok).toBe(true)
    expect(gitCli(dest, '-c', `safe.directory=${dest}`, 'rev-parse', 'HEAD')).toBe(repo.commits.c2)
  })
})
