import { readFileSync, statSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { command, converge, defineRecipe, directory, file, line, symlink } from '../../lib/index.ts'
import { sshdForTests } from '../helpers/sshd-per-file.ts'
import { tempDir } from '../helpers/tmp.ts'
import { expectHostileConverged, hostileRecipe } from '../helpers/hostile.ts'

const ssh = sshdForTests()

const host = (name = 'box', user = 'root') => ({ name, ssh: { name, address: '127.0.0.1', port: ssh.sshd.port, user } })

const recipe = (dir: string) =>
  defineRecipe({
    name: 'over-ssh',
    resources: () => [
      directory({ path: `${dir}/models/ldm`, mode: '0755' }),
      file({ path: `${dir}/configs/invokeai.init`, content: '--web\n', mode: '0640' }),
      line({ path: `${dir}/profile`, match: '^export A=', line: 'export A=1' }),
      symlink({ path: `${dir}/current`, target: 'configs' }),
      command({ id: 'build', argv: ['sh', '-c', 'echo built > build.txt'], cwd: dir, creates: `${dir}/build.txt` }),
    ],
  })

describe('converging over SSH (real sshd on 127.0.0.1)', () => {
  it('converges like the local run, and a second run changes nothing in 3 round trips on 1 connection', async () => {
    const dir = tempDir()
    const first = await converge({ recipe: recipe(dir), hosts: [host()], ssh: { home: ssh.home }, lockPath: `${ssh.home}/run.lock` })
    expect(first.hosts[0]!.error).toBeUndefined()
    expect(first.summary, JSON.stringify(first.hosts[0]!.resources.filter((r) => r.status !== "changed"))).toMatchObject({ changed: 5, failed: 0 })
    expect(first.hosts[0]!.connections).toBe(1)
    expect(readFileSync(`${dir}/configs/invokeai.init`, 'utf8')).toBe('--web\n')
    expect(statSync(`${dir}/configs/invokeai.init`).mode & 0o777).toBe(0o640)
    const second = await converge({ recipe: recipe(dir), hosts: [host()], ssh: { home: ssh.home }, lockPath: `${ssh.home}/run.lock` })
    expect(second.summary).toMatchObject({ changed: 0, unchanged: 5 })
    expect(second.hosts[0]).toMatchObject({ roundTrips: 3, connections: 1 })
  })

  it('round-trips hostile values in paths, contents, lines and env exactly', async () => {
    const dir = tempDir()
    const hostile = hostileRecipe(dir)
    const r = await converge({ recipe: hostile, hosts: [host()], ssh: { home: ssh.home }, lockPath: `${ssh.home}/run.lock` })
    expect(r.hosts[0]!.error).toBeUndefined()
    expectHostileConverged(dir)
    expect((await converge({ recipe: hostile, hosts: [host()], ssh: { home: ssh.home }, lockPath: `${ssh.home}/run.lock` })).summary.changed).toBe(0)
  })
})
