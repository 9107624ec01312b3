import { execFileSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { command, converge, defineRecipe } from '../../lib/index.ts'
import { ROOT, startCli } from '../helpers/cli.ts'
import { sshdForTests } from '../helpers/sshd-per-file.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

/** A sleep no other test runs, so the process table says whether this one is still running. */
const marker = (): string => `${(Math.floor(Math.random() * 9e5) + 1e5) / 1e5 + 40}`
const running = (secs: string): boolean => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').some((l) => l.trim() === `sleep ${secs}`)
const waitFor = async (cond: () => boolean, ms = 10_000): Promise<boolean> => {
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 25))) if (cond()) return true
  return cond()
}

function recipeFile(dir: string, argv: string[], creates: string): string {
  const p = join(dir, 'recipe.ts')
  writeFileSync(p, `import { command, defineRecipe } from ${JSON.stringify(`${ROOT}lib/index.ts`)}
export default defineRecipe({ name: 'slow', resources: () => [command({ id: 'slow', argv: ${JSON.stringify(argv)}, creates: ${JSON.stringify(creates)} })] })
`)
  return p
}

const ssh = sshdForTests()

describe('a command never outlives the run that started it', () => {
  it('a background child does not keep the run waiting, and does not survive it', async () => {
    const dir = tempDir()
    const secs = marker()
    const recipe = defineRecipe({ name: 'bg', resources: () => [command({ argv: ['sh', '-c', `sleep ${secs} & touch x`], cwd: dir, creates: `${dir}/x` })] })
    const r = await converge({ recipe, hosts: [{ name: 'local', transport: localHost(tempDir()) }] })
    expect(r.ok).toBe(true)
    expect(await waitFor(() => !running(secs), 2000)).toBe(true)
  })

  it.each(['local', 'ssh'])('a timeout ends the command and what it started in the background (%s)', async (via) => {
    const dir = tempDir()
    const secs = marker()
    const recipe = defineRecipe({ name: 'to', resources: () => [command({ argv: ['sh', '-c', `sleep ${secs} & sleep ${secs}`], creates: `${dir}/never`, timeout: 1 })] })
    const host = via === 'ssh' ? { name: 'box', ssh: { name: 'box', address: '127.0.0.1', port: ssh.sshd.port, user: 'root' } } : { name: 'local', transport: localHost(tempDir()) }
    const r = await converge({ recipe, hosts: [host], ssh: { home: ssh.home }, lockPath: `${dir}/lock` })
    expect(r.hosts[0]!.resources[0]!.error!.message).toMatch(/timed out after 1s/)
    expect(await waitFor(() => !running(secs), 2000)).toBe(true)
  })

  it.each(['local', 'ssh'])('the controller killed mid-command (%s): the command goes with it, and the re-run converges', async (via) => {
    const dir = tempDir()
    const home = via === 'ssh' ? ssh.home : tempDir()
    chmodWorld(dir)
    const secs = marker()
    const recipe = recipeFile(dir, ['sh', '-c', `touch ${dir}/started; sleep ${secs}; touch ${dir}/finished`], `${dir}/finished`)
    const target = via === 'ssh' ? ['--inventory', inventory(dir), '--host', 'box'] : ['--host', 'local']
    const first = startCli(['--recipe', recipe, ...target, '--lock-path', `${dir}/lock`], { cwd: dir, home })
    expect(await waitFor(() => existsSync(`${dir}/started`) && running(secs), 20_000)).toBe(true)
    first.child.kill('SIGKILL')
    await first.done
    expect(await waitFor(() => !running(secs), 5000)).toBe(true)
    expect(existsSync(`${dir}/finished`)).toBe(false)
    // The re-run takes over the dead run's lock and runs the step again, alone. (A shorter sleep:
    // the recipe is rewritten with the same guard.)
    recipeFile(dir, ['sh', '-c', `touch ${dir}/finished`], `${dir}/finished`)
    const again = await startCli(['--recipe', recipe, ...target, '--lock-path', `${dir}/lock`], { cwd: dir, home }).done
    expect(again.stdout).toMatch(/converged/)
    expect(again.code).toBe(0)
    expect(existsSync(`${dir}/finished`)).toBe(true)
  }, 60_000)
})

function inventory(dir: string): string {
  const p = join(dir, 'hosts.yaml')
  writeFileSync(p, `hosts:\n  box:\n    address: 127.0.0.1\n    port: ${ssh.sshd.port}\n    user: root\n`)
  return p
}

function chmodWorld(dir: string): void {
  execFileSync('chmod', ['0777', dir])
}
