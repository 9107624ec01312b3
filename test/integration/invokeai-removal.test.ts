import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { converge, defineRecipe } from '../../lib/index.ts'
import { removalResource } from '../../recipes/invokeai/absent.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

/** A conda that does what `conda env remove -n NAME --yes` does to its prefix, and nothing else. */
function fakeConda(prefix: string): string {
  mkdirSync(`${prefix}/bin`, { recursive: true })
  const p = `${prefix}/bin/conda`
  writeFileSync(p, `#!/bin/sh\n[ "$1 $2 $3" = "env remove -n" ] && [ "$5" = --yes ] || { echo "unexpected: $*" >&2; exit 2; }\nrm -rf -- "${prefix}/envs/$4"\necho "Remove all packages in environment ${prefix}/envs/$4:"\n`)
  chmodSync(p, 0o755)
  return p
}

describe('invokeai state absent: the removal, for real on this machine', () => {
  it('says how much it frees, removes the env and the checkout but keeps models/, then changes nothing', async () => {
    const dir = tempDir()
    const prefix = `${dir}/miniforge3`
    const conda = fakeConda(prefix)
    mkdirSync(`${prefix}/envs/invokeai/lib`, { recursive: true })
    writeFileSync(`${prefix}/envs/invokeai/lib/big`, Buffer.alloc(3 * 1024 * 1024))
    const root = `${dir}/invokeai`
    mkdirSync(`${root}/models/ldm/stable-diffusion-v1`, { recursive: true })
    mkdirSync(`${root}/scripts`)
    writeFileSync(`${root}/scripts/invoke.py`, Buffer.alloc(2 * 1024 * 1024))
    writeFileSync(`${root}/models/ldm/stable-diffusion-v1/model.ckpt`, 'weights')
    // HOME (and so the run lock) in the temp dir: never the real one, never shared with another test.
    const hosts = [{ name: 'local', transport: localHost(dir) }]
    const recipe = defineRecipe({ name: 'rm', resources: () => [removalResource({ id: 'removal', envDir: `${prefix}/envs/invokeai`, conda, envName: 'invokeai', root, removeModels: false })] })
    const plan = await converge({ recipe, hosts, mode: 'plan' })
    expect(plan.hosts[0]!.resources[0]!.changes).toEqual([
      `remove conda env invokeai (${prefix}/envs/invokeai): frees 3 MB`,
      `remove ${root}, keeping models/ (its link to the model store): frees 2 MB`,
    ])
    const apply = await converge({ recipe, hosts })
    expect(apply.ok).toBe(true)
    expect(existsSync(`${prefix}/envs/invokeai`)).toBe(false)
    expect(readdirSync(root)).toEqual(['models'])
    expect(existsSync(`${root}/models/ldm/stable-diffusion-v1/model.ckpt`)).toBe(true)
    const again = await converge({ recipe, hosts, mode: 'plan' })
    expect(again.summary).toMatchObject({ changed: 0, pending: 0 })
    const all = defineRecipe({ name: 'rm', resources: () => [removalResource({ id: 'removal', envDir: `${prefix}/envs/invokeai`, conda, envName: 'invokeai', root, removeModels: true })] })
    const gone = await converge({ recipe: all, hosts })
    expect(gone.hosts[0]!.resources[0]!.changes).toEqual([expect.stringMatching(new RegExp(`^remove ${root}, models/ included \\(the model store is kept\\): frees 1 MB$`))])
    expect(existsSync(root)).toBe(false)
  })
})
