import { lstatSync, readFileSync, readlinkSync, statSync, existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { command, converge, defineRecipe, directory, file, line, symlink } from '../../lib/index.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'
import { expectHostileConverged, hostileRecipe } from '../helpers/hostile.ts'

const recipe = defineRecipe<{ dir: string }>({
  name: 'workstation-like',
  options: { dir: { required: true } },
  resources: ({ options: { dir } }) => [
    directory({ path: `${dir}/models/ldm/stable-diffusion-v1`, mode: '0755' }),
    file({ path: `${dir}/configs/invokeai.init`, content: '--web\n--host=127.0.0.1\n', mode: '0640' }),
    directory({ path: `${dir}/configs`, mode: '0750' }),
    line({ path: `${dir}/profile`, match: '^export PYTORCH_ENABLE_MPS_FALLBACK=', line: 'export PYTORCH_ENABLE_MPS_FALLBACK=1' }),
    symlink({ path: `${dir}/current`, target: 'configs' }),
    command({ id: 'build', argv: ['sh', '-c', 'echo built > build.txt'], cwd: dir, creates: `${dir}/build.txt` }),
  ],
})

async function run(home: string, dir: string, mode: 'plan' | 'apply' = 'apply') {
  return converge({ recipe, hosts: [{ name: 'local', transport: localHost(home) }], mode, set: { dir } })
}

describe('a recipe on the local machine', () => {
  it('converges, then a second run changes nothing in the same round trips as any no-op', async () => {
    const home = tempDir()
    const dir = `${tempDir()}/ws`
    const first = await run(home, dir)
    expect(first.ok).toBe(true)
    expect(first.summary).toMatchObject({ changed: 6, unchanged: 0, failed: 0 })
    expect(readFileSync(`${dir}/configs/invokeai.init`, 'utf8')).toBe('--web\n--host=127.0.0.1\n')
    expect(statSync(`${dir}/configs/invokeai.init`).mode & 0o7777).toBe(0o640)
    expect(statSync(`${dir}/configs`).mode & 0o7777).toBe(0o750)
    expect(readlinkSync(`${dir}/current`)).toBe('configs')
    expect(readFileSync(`${dir}/build.txt`, 'utf8')).toBe('built\n')

    const second = await run(home, dir)
    const third = await run(home, dir)
    expect(second.summary).toMatchObject({ changed: 0, unchanged: 6, pending: 0, failed: 0 })
    expect(second.hosts[0]!.roundTrips).toBeLessThanOrEqual(3)
    expect(second.hosts[0]!.roundTrips).toBe(third.hosts[0]!.roundTrips)
    expect(second.hosts[0]!.connections).toBe(1)
    // the lock was released
    expect(existsSync(`${home}/.statecraft/run.lock`) || lstatExists(`${home}/.statecraft/run.lock`)).toBe(false)
  })

  it('plans without touching anything, and lists what apply then does', async () => {
    const home = tempDir()
    const dir = `${tempDir()}/ws`
    const plan = await run(home, dir, 'plan')
    expect(plan.mode).toBe('plan')
    expect(plan.summary.changed).toBe(6)
    expect(existsSync(dir)).toBe(false)
    const applied = await run(home, dir)
    const changes = (r: typeof plan) => r.hosts[0]!.resources.map((x) => [x.id, x.changes])
    expect(changes(applied)).toEqual(changes(plan))
  })

  it('a no-op over 60 resources still costs the same round trips', async () => {
    const home = tempDir()
    const dir = tempDir()
    const many = defineRecipe({
      name: 'many',
      resources: () => Array.from({ length: 60 }, (_, i) => file({ path: `${dir}/f${i}`, content: `${i}\n` })),
    })
    await converge({ recipe: many, hosts: [{ name: 'local', transport: localHost(home) }] })
    const again = await converge({ recipe: many, hosts: [{ name: 'local', transport: localHost(home) }] })
    expect(again.summary.unchanged).toBe(60)
    expect(again.hosts[0]!.roundTrips).toBe(3)
  })

  it('round-trips hostile values in paths, contents, lines and env exactly', async () => {
    const home = tempDir()
    const dir = tempDir()
    const hostile = hostileRecipe(dir)
    const r = await converge({ recipe: hostile, hosts: [{ name: 'local', transport: localHost(home) }] })
    expect(r.hosts[0]!.error).toBeUndefined()
    expect(r.ok).toBe(true)
    expectHostileConverged(dir)
    const again = await converge({ recipe: hostile, hosts: [{ name: 'local', transport: localHost(home) }] })
    expect(again.summary.changed).toBe(0)
  })
})

function lstatExists(p: string): boolean {
  try {
    lstatSync(p)
    return true
  } catch {
    return false
  }
}

describe('a path is one path however it is written', () => {
  it('refuses three spellings of one file with different contents, naming both ids and the path, and writes nothing', async () => {
    const dir = tempDir()
    const resources = [
      file({ id: 'plain', path: `${dir}/same.txt`, content: 'a' }),
      file({ id: 'dotdot', path: `${dir}/a/../same.txt`, content: 'b' }),
      file({ id: 'slashes', path: `${dir}//same.txt`, content: 'c' }),
    ]
    for (const mode of ['plan', 'apply'] as const) {
      const r = await converge({ recipe: defineRecipe({ name: 'spellings', resources: () => resources }), hosts: [{ name: 'local', transport: localHost(tempDir()) }], mode })
      expect(r.ok).toBe(false)
      expect(r.hosts[0]?.error).toMatchObject({ code: 'E_VALIDATION', message: expect.stringContaining(`resources 'plain' and 'dotdot' are one file: both manage ${dir}/same.txt`) })
    }
    expect(existsSync(`${dir}/same.txt`)).toBe(false)
  })

  it('one spelling converges, ids and the report use the normalised path, and the next run changes nothing', async () => {
    const dir = tempDir()
    const recipe = defineRecipe({ name: 'spelled', resources: () => [directory({ path: `${dir}//d/./` }), file({ path: `${dir}/d/x/../same.txt`, content: 'a' })] })
    const run = () => converge({ recipe, hosts: [{ name: 'local', transport: localHost(tempDir()) }], mode: 'apply' })
    const first = await run()
    expect(first.ok).toBe(true)
    expect(first.hosts[0]?.resources.map((r) => r.id)).toEqual([`directory:${dir}/d`, `file:${dir}/d/same.txt`])
    expect(readFileSync(`${dir}/d/same.txt`, 'utf8')).toBe('a')
    expect((await run()).summary).toMatchObject({ changed: 0, failed: 0 })
  })

  it("a path that climbs out of a directory with '..' is not under it", async () => {
    const dir = tempDir()
    const recipe = defineRecipe({ name: 'escape', resources: () => [directory({ path: `${dir}/gone`, state: 'absent' }), file({ path: `${dir}/gone/../kept.txt`, content: 'k' })] })
    const r = await converge({ recipe, hosts: [{ name: 'local', transport: localHost(tempDir()) }], mode: 'apply' })
    expect(r.ok, JSON.stringify(r.hosts[0]?.error)).toBe(true)
    expect(readFileSync(`${dir}/kept.txt`, 'utf8')).toBe('k')
  })
})
