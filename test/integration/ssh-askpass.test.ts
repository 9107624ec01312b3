import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { command, converge, defineRecipe } from '../../lib/index.ts'
import { TEST_PASSWORD, TEST_USER } from '../helpers/sshd.ts'
import { useSudoUserSshd } from '../helpers/sudo-sshd.ts'

/**
 * Steps that call `sudo -A` themselves (Homebrew's install.sh does) over a real sshd, as this
 * run's test user, whose sudo asks for its password. The password is registered with the secrets
 * sweep by the global setup: it must never show on any process's command line meanwhile.
 */
const ctl = useSudoUserSshd('sc-askpass-')
const { uid, target, lock } = ctl

/** A directory the test user owns, with its own TMPDIR inside (where the helper's directory goes). */
function userDir(): { dir: string; tmp: string } {
  const dir = mkdtempSync(join(ctl.shared, 'own-'))
  const tmp = join(dir, 'tmp')
  mkdirSync(tmp)
  for (const d of [dir, tmp]) chownSync(d, uid(), uid())
  return { dir, tmp }
}
const helperDirs = (tmp: string): string[] => readdirSync(tmp).filter((f) => f.startsWith('statecraft-askpass.'))

/** The step: as root through `sudo -A`, and what it saw of the helper, as the login user. */
const sudoStep = (dir: string, tmp: string, askpass: boolean) =>
  command({
    id: 'installer',
    askpass,
    env: { TMPDIR: tmp },
    argv: [
      'sh',
      '-c',
      'cat "$SUDO_ASKPASS" > "$1/helper"; stat -c %a "$SUDO_ASKPASS" "${SUDO_ASKPASS%/*}" > "$1/modes"; sudo -A sh -c \'env; id -u\' > "$1/root"',
      'sh',
      dir,
    ],
    creates: `${dir}/root`,
  })

describe('askpass: the become password for steps that run sudo themselves', () => {
  it('a step running sudo -A gets the password through a 0700 helper that holds no secret; a no-op run asks nothing', async () => {
    const { dir, tmp } = userDir()
    const recipe = defineRecipe({ name: 'askpass', resources: () => [sudoStep(dir, tmp, true)] })
    const env = { SC_SUDO_PW: TEST_PASSWORD }
    const l = lock()
    const logged: string[] = []
    const r = await converge({ recipe, hosts: [target({ default: false, passwordEnv: 'SC_SUDO_PW' })], env, ssh: { home: ctl.home }, lockPath: l, log: (x) => logged.push(x) })
    expect(r.hosts[0]!.error).toBeUndefined()
    expect(r.summary).toMatchObject({ changed: 1, failed: 0 })
    // The log names the step as written, not the wrapper or its environment.
    expect(logged.filter((x) => x.includes('$ sh -c'))).toEqual([expect.stringMatching(/^lab: \$ sh -c 'cat "\$SUDO_ASKPASS"/)])
    expect(logged.join('\n')).not.toContain(TEST_PASSWORD)
    expect(logged.join('\n')).not.toContain('STATECRAFT_ASKPASS')
    const root = readFileSync(`${dir}/root`, 'utf8')
    expect(root.trimEnd().split('\n').pop()).toBe('0')
    // sudo's env_reset: the commands run as root never see the variable.
    expect(root).not.toContain('STATECRAFT_ASKPASS')
    const helper = readFileSync(`${dir}/helper`, 'utf8')
    expect(helper).toBe('#!/bin/sh\nprintf "%s\\n" "$STATECRAFT_ASKPASS"\n')
    expect(readFileSync(`${dir}/modes`, 'utf8')).toBe('700\n700\n')
    // Removed when the step ended.
    expect(helperDirs(tmp)).toEqual([])
    expect(JSON.stringify(r)).not.toContain(TEST_PASSWORD)

    const asked: string[] = []
    const again = await converge({
      recipe,
      hosts: [target({ default: false })],
      ssh: { home: ctl.home },
      lockPath: l,
      askBecomePassword: async (h) => (asked.push(h), TEST_PASSWORD),
    })
    expect(again.summary).toMatchObject({ changed: 0, unchanged: 1 })
    // facts, probe, unlock: nothing asked and no sudo check when no step will run.
    expect(again.hosts[0]!.roundTrips).toBe(3)
    expect(asked).toEqual([])
  })

  it('asks for the password once, on the terminal, when the inventory has none and the step will run', async () => {
    const { dir, tmp } = userDir()
    const recipe = defineRecipe({ name: 'askpass', resources: () => [sudoStep(dir, tmp, true)] })
    const asked: string[] = []
    const r = await converge({ recipe, hosts: [target({ default: false })], ssh: { home: ctl.home }, lockPath: lock(), askBecomePassword: async (h, u) => (asked.push(`${u}@${h}`), TEST_PASSWORD) })
    expect(r.hosts[0]!.error).toBeUndefined()
    expect(r.summary).toMatchObject({ changed: 1 })
    expect(asked).toEqual([`${TEST_USER}@lab`])
    expect(readFileSync(`${dir}/root`, 'utf8').trimEnd().split('\n').pop()).toBe('0')
  })

  it('without a password, the step fails at once with sudo\'s words and what to configure', async () => {
    const { dir, tmp } = userDir()
    const recipe = defineRecipe({ name: 'askpass', resources: () => [sudoStep(dir, tmp, true)] })
    const r = await converge({ recipe, hosts: [target({ default: false })], ssh: { home: ctl.home }, lockPath: lock() })
    const res = r.hosts[0]!.resources[0]!
    expect(res.status).toBe('failed')
    expect(res.error?.message).toMatch(/sudo: no askpass program specified/)
    expect(res.error?.message).toMatch(/statecraft had no sudo password to hand it through SUDO_ASKPASS: give the host become settings with the password \(becomePasswordEnv/)
    expect(readFileSync(`${dir}/root`, 'utf8')).toBe('')
  })

  it('a step that does not ask for askpass gets no helper, even when the run has the password', async () => {
    const { dir, tmp } = userDir()
    const recipe = defineRecipe({ name: 'askpass', resources: () => [sudoStep(dir, tmp, false)] })
    const r = await converge({ recipe, hosts: [target({ default: false, passwordEnv: 'SC_SUDO_PW' })], env: { SC_SUDO_PW: TEST_PASSWORD }, ssh: { home: ctl.home }, lockPath: lock() })
    expect(r.hosts[0]!.resources[0]!.status).toBe('failed')
    expect(r.hosts[0]!.resources[0]!.error?.message).toMatch(/sudo: no askpass program specified/)
    // The run never needed sudo: facts, probe, the step, unlock.
    expect(r.hosts[0]!.roundTrips).toBe(4)
  })

  it('a wrong password is one clear error before the step runs', async () => {
    const { dir, tmp } = userDir()
    const recipe = defineRecipe({ name: 'askpass', resources: () => [sudoStep(dir, tmp, true)] })
    const r = await converge({ recipe, hosts: [target({ default: false, passwordEnv: 'BAD_PW' })], env: { BAD_PW: 'nope-not-it' }, ssh: { home: ctl.home }, lockPath: lock() })
    expect(r.hosts[0]!.error).toEqual({ code: 'E_BECOME', message: 'host lab: sudo rejected the password from the environment variable BAD_PW' })
    expect(existsSync(`${dir}/helper`)).toBe(false)
  })

  it('a step killed at its timeout leaves a helper without the secret, which the next askpass step removes', async () => {
    const { dir, tmp } = userDir()
    // It marks that it started (so its helper was written first: on a busy machine a short
    // timeout can fire before), then waits to be killed.
    const slow = command({ id: 'slow', askpass: true, env: { TMPDIR: tmp }, timeout: 6, argv: ['sh', '-c', 'touch "$0/started"; sleep 60', dir], creates: `${dir}/never` })
    const env = { SC_SUDO_PW: TEST_PASSWORD }
    const hosts = [target({ default: false, passwordEnv: 'SC_SUDO_PW' })]
    const r = await converge({ recipe: defineRecipe({ name: 'slow', resources: () => [slow] }), hosts, env, ssh: { home: ctl.home }, lockPath: lock() })
    expect(r.hosts[0]!.resources[0]!.error?.message).toMatch(/timed out after 6s/)
    expect(existsSync(`${dir}/started`)).toBe(true)
    // The watcher ends the step's process group with SIGKILL: no trap runs, the helper stays.
    expect(helperDirs(tmp).length).toBe(1)
    for (const d of helperDirs(tmp)) expect(readFileSync(join(tmp, d, 'askpass'), 'utf8')).not.toContain(TEST_PASSWORD)
    const next = await converge({ recipe: defineRecipe({ name: 'next', resources: () => [sudoStep(dir, tmp, true)] }), hosts, env, ssh: { home: ctl.home }, lockPath: lock() })
    expect(next.summary).toMatchObject({ changed: 1, failed: 0 })
    expect(helperDirs(tmp)).toEqual([])
  })
})
