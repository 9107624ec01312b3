import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { command, converge, defineRecipe, file } from '../../lib/index.ts'
import { cli } from '../helpers/cli.ts'
import { main } from '../../lib/cli/main.ts'
import { TEST_PASSWORD, TEST_USER } from '../helpers/sshd.ts'
import { useSudoUserSshd } from '../helpers/sudo-sshd.ts'
import { tempDir } from '../helpers/tmp.ts'

const ctl = useSudoUserSshd('sc-shared-')
const { uid, target, lock } = ctl

describe('become (sudo) over SSH as a non-root user', () => {
  it('writes a root-only file with the password from an env var, then a no-op run', async () => {
    const dir = tempDir() // 0700, owned by root: the test user cannot even look inside
    const mine = mkdtempSync(join(ctl.shared, 'own-'))
    chownSync(mine, uid(), uid())
    const recipe = defineRecipe({
      name: 'priv',
      resources: () => [
        file({ path: `${dir}/etc/app.conf`, content: 'secure=1\n', mode: '0600', owner: 'root' }),
        command({ id: 'as-user', become: false, argv: ['sh', '-c', `id -un > ${mine}/who`], creates: `${mine}/who` }),
      ],
    })
    const env = { SC_SUDO_PW: TEST_PASSWORD }
    const l = lock()
    const r = await converge({ recipe, hosts: [target({ default: true, passwordEnv: 'SC_SUDO_PW' })], env, ssh: { home: ctl.home }, lockPath: l })
    expect(r.hosts[0]!.error).toBeUndefined()
    expect(r.summary).toMatchObject({ changed: 2, failed: 0 })
    expect(readFileSync(`${dir}/etc/app.conf`, 'utf8')).toBe('secure=1\n')
    expect(statSync(`${dir}/etc/app.conf`).uid).toBe(0)
    expect(readFileSync(`${mine}/who`, 'utf8')).toBe(`${TEST_USER}\n`)
    const again = await converge({ recipe, hosts: [target({ default: true, passwordEnv: 'SC_SUDO_PW' })], env, ssh: { home: ctl.home }, lockPath: l })
    expect(again.summary).toMatchObject({ changed: 0, unchanged: 2 })
    expect(again.hosts[0]!.roundTrips).toBe(3)
    expect(JSON.stringify([r, again])).not.toContain(TEST_PASSWORD)
  })

  it('says clearly that sudo needs a password when none is configured', async () => {
    const dir = tempDir()
    const recipe = defineRecipe({ name: 'p', resources: () => [file({ path: `${dir}/x`, content: 'x' })] })
    const r = await converge({ recipe, hosts: [target({ default: true })], ssh: { home: ctl.home }, lockPath: lock() })
    expect(r.hosts[0]!.error).toEqual({
      code: 'E_BECOME',
      message: 'host lab: sudo asks for a password and none is configured: set becomePasswordEnv in the inventory to the name of an environment variable that holds it',
    })
  })

  it('says which source gave a wrong password', async () => {
    const dir = tempDir()
    const recipe = defineRecipe({ name: 'p', resources: () => [file({ path: `${dir}/x`, content: 'x' })] })
    const r = await converge({ recipe, hosts: [target({ default: true, passwordEnv: 'BAD_PW' })], env: { BAD_PW: 'nope-not-it' }, ssh: { home: ctl.home }, lockPath: lock() })
    expect(r.hosts[0]!.error).toMatchObject({ code: 'E_BECOME', message: 'host lab: sudo rejected the password from the environment variable BAD_PW' })
  })

  it('never prints the sudo password: CLI with --verbose, --json and a failing command', async () => {
    const dir = tempDir()
    const cwd = tempDir()
    writeFileSync(`${cwd}/hosts.yaml`, `hosts:\n  lab:\n    address: 127.0.0.1\n    port: ${ctl.sshd.port}\n    user: ${TEST_USER}\n    become: true\n    becomePasswordEnv: SC_SUDO_PW\n`)
    writeFileSync(`${cwd}/recipe.ts`, `import { command, defineRecipe, file } from ${JSON.stringify(join(process.cwd(), 'lib/index.ts'))}
export default defineRecipe({ name: 'r', resources: () => [
  file({ path: '${dir}/x', content: 'x' }),
  command({ id: 'fails', argv: ['sh', '-c', 'cat /proc/self/cmdline; env; exit 4'], creates: '${dir}/never' }),
] })\n`)
    mkdirSync(join(cwd, 'h'))
    const env = { SC_SUDO_PW: TEST_PASSWORD }
    const runs = [
      await cli(['--recipe', 'recipe.ts', '--host', 'lab', '--verbose', '--lock-path', lock()], { cwd, home: ctl.home, env }),
      await cli(['--recipe', 'recipe.ts', '--host', 'lab', '--json', '--lock-path', lock()], { cwd, home: ctl.home, env }),
    ]
    for (const r of runs) {
      expect(r.code).toBe(1)
      expect(r.stdout + r.stderr).not.toContain(TEST_PASSWORD)
    }
    expect(runs[0]!.stdout).toMatch(/fails/)
    expect(readFileSync(`${dir}/x`, 'utf8')).toBe('x')
  })

  it('asks for the password on a terminal when no variable holds it', async () => {
    const dir = tempDir()
    const cwd = tempDir()
    writeFileSync(`${cwd}/hosts.yaml`, `hosts:\n  lab:\n    address: 127.0.0.1\n    port: ${ctl.sshd.port}\n    user: ${TEST_USER}\n    become: true\n`)
    writeFileSync(`${cwd}/recipe.ts`, `import { file, defineRecipe } from ${JSON.stringify(join(process.cwd(), 'lib/index.ts'))}\nexport default defineRecipe({ name: 'r', resources: () => [file({ path: '${dir}/x', content: 'x', owner: 'root' })] })\n`)
    const questions: string[] = []
    let out = ''
    const code = await main(['--recipe', 'recipe.ts', '--host', 'lab', '--lock-path', lock(), '--verbose'], {
      stdout: (s) => (out += s),
      stderr: (s) => (out += s),
      color: false,
      cwd,
      env: { ...process.env, HOME: ctl.home },
      prompt: async (q) => (questions.push(q), TEST_PASSWORD),
    })
    expect(out).not.toContain(TEST_PASSWORD)
    expect(code).toBe(0)
    expect(questions).toEqual([`sudo password for ${TEST_USER} on lab (empty if none): `])
    expect(statSync(`${dir}/x`).uid).toBe(0)
  })

  it('with sudo that needs no password (NOPASSWD), nothing is asked and nothing is sent', async () => {
    const dir = tempDir()
    const cwd = tempDir()
    // A second rule for this run's test user, removed again below (and by removeTestUser).
    const rule = `/etc/sudoers.d/statecraft-test-${TEST_USER}-nopasswd`
    writeFileSync(rule, `${TEST_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n`, { mode: 0o440 })
    try {
      writeFileSync(`${cwd}/hosts.yaml`, `hosts:\n  lab:\n    address: 127.0.0.1\n    port: ${ctl.sshd.port}\n    user: ${TEST_USER}\n    become: true\n`)
      writeFileSync(`${cwd}/recipe.ts`, `import { file, defineRecipe } from ${JSON.stringify(join(process.cwd(), 'lib/index.ts'))}\nexport default defineRecipe({ name: 'r', resources: () => [file({ path: '${dir}/x', content: 'x', owner: 'root' })] })\n`)
      const questions: string[] = []
      let out = ''
      const code = await main(['--recipe', 'recipe.ts', '--host', 'lab', '--lock-path', lock()], {
        stdout: (s) => (out += s),
        stderr: (s) => (out += s),
        color: false,
        cwd,
        env: { ...process.env, HOME: ctl.home },
        prompt: async (q) => (questions.push(q), 'not-needed'),
      })
      expect(out).toMatch(/converged/)
      expect(code).toBe(0)
      expect(questions).toEqual([])
      expect(statSync(`${dir}/x`).uid).toBe(0)
    } finally {
      rmSync(rule, { force: true })
    }
  })
})
