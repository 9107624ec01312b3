import { copyFileSync, mkdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { condaEnv, converge, defineRecipe } from '../../lib/index.ts'
import { sha256Of } from '../../lib/resources/conda-env/yml.ts'
import { condaCalls, installCondaStandIn } from '../helpers/conda-stand-in.ts'
import { sshdForTests } from '../helpers/sshd-per-file.ts'
import { tempDir } from '../helpers/tmp.ts'

const ssh = sshdForTests()
const SUBDIR = process.arch === 'arm64' ? 'linux-aarch64' : 'linux-64'

describe('condaEnv over SSH (real sshd on 127.0.0.1, the conda stand-in on the host)', () => {
  it('the probe reads the yml on the host, the build and the record happen there; the next run changes nothing in one connection', async () => {
    const dir = tempDir()
    const root = `${dir}/miniforge3`
    installCondaStandIn(root)
    mkdirSync(`${dir}/invokeai`)
    const file = `${dir}/invokeai/environment.yml`
    copyFileSync(new URL('../fixtures/invokeai-2.0/environment.yml', import.meta.url), file)
    const recipe = defineRecipe({ name: 'env-over-ssh', resources: () => [condaEnv({ id: 'env', name: 'invokeai', file, conda: root })] })
    const go = (mode: 'plan' | 'apply') =>
      converge({ recipe, mode, hosts: [{ name: 'box', ssh: { name: 'box', address: '127.0.0.1', port: ssh.sshd.port, user: 'root' } }], ssh: { home: ssh.home }, lockPath: `${ssh.home}/run.lock` })
    const sha = sha256Of(readFileSync(file))
    const plan = await go('plan')
    expect(plan.hosts[0]!.resources[0]!.changes).toEqual([`create conda env invokeai with ${root}/bin/conda (CONDA_SUBDIR=${SUBDIR}) from ${file} (sha256 ${sha}): missing`])
    const r = await go('apply')
    expect(r.ok, JSON.stringify(r.hosts[0]!.resources[0]!.error)).toBe(true)
    expect(condaCalls(root)).toEqual([`create ${root}/envs/invokeai CONDA_SUBDIR=${SUBDIR} PIP_EXISTS_ACTION=w cwd=${dir}/invokeai file=${file}`])
    expect(JSON.parse(readFileSync(`${root}/envs/invokeai/conda-meta/statecraft-env.json`, 'utf8')).sha256).toBe(sha)
    const again = await go('apply')
    expect(again.summary).toMatchObject({ changed: 0, unchanged: 1, failed: 0 })
    expect(again.hosts[0]!.connections).toBe(1)
  }, 60_000)
})
