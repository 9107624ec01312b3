import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { ROOT, tsNodeArgs } from '../helpers/cli.ts'
import { DEBIAN_TOOLS, setupPlan } from '../setup/debian-tools.ts'

// npm test's own set-up (test/setup/pretest.ts) decides from these answers what to do.
const lacking = (...missing: string[]) => (c: string) => !missing.includes(c)

describe('npm test set-up', () => {
  it('does nothing when every tool is there', () => {
    expect(setupPlan(DEBIAN_TOOLS, { has: () => true, root: false, apt: true })).toEqual({ action: 'none' })
  })

  it('installs the missing packages with apt-get when it runs as root', () => {
    const plan = setupPlan(DEBIAN_TOOLS, { has: lacking('sudo', 'debootstrap'), root: true, apt: true })
    expect(plan).toEqual({
      action: 'install',
      pkgs: ['sudo', 'debootstrap'],
      argv: [['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '--no-install-recommends', 'sudo', 'debootstrap']],
    })
  })

  it('stops with the exact apt-get line when it is not root', () => {
    const plan = setupPlan(DEBIAN_TOOLS, { has: lacking('ssh-agent', '/usr/sbin/sshd'), root: false, apt: true })
    expect(plan.action).toBe('stop')
    expect(plan.action === 'stop' && plan.message).toBe(
      'npm test: the tests need tools this machine lacks:\n' +
        '  openssh-server: each SSH test file starts its own sshd (missing: /usr/sbin/sshd)\n' +
        '  openssh-client: keys and the agent of the SSH tests (missing: ssh-agent)\n' +
        'Run:\n' +
        '  sudo apt-get update && sudo apt-get install -y --no-install-recommends openssh-server openssh-client\n' +
        'then run npm test again (as root: the tests create a test user and a network namespace)',
    )
  })

  it('names the packages when there is no apt to install them with', () => {
    const plan = setupPlan(DEBIAN_TOOLS, { has: lacking('shellcheck', 'apt-get'), root: true, apt: false })
    expect(plan.action === 'stop' && plan.message).toMatch(/\n {2}install the Debian packages shellcheck \(or your system's equivalents\)\nthen run npm test again$/)
  })

  it('lists each package once, and every entry names a command', () => {
    const names = DEBIAN_TOOLS.map((t) => t.pkg)
    expect(new Set(names).size).toBe(names.length)
    for (const t of DEBIAN_TOOLS) expect(t.commands.length).toBeGreaterThan(0)
  })

  it('the real pretest step stops before any test, exit 1, when it cannot install (no apt-get on PATH)', () => {
    // An empty PATH: apt-get is not found, so nothing is installed; only the sbin fallbacks are searched.
    const r = spawnSync(process.execPath, [...tsNodeArgs(), `${ROOT}test/setup/pretest.ts`], { env: { PATH: '/nonexistent' }, encoding: 'utf8' })
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/^npm test: the tests need tools this machine lacks:\n {2}shellcheck: lints every generated POSIX script \(missing: shellcheck\)\n/)
    expect(r.stderr).toMatch(/\nRun:\n {2}install the Debian packages shellcheck strace .*\(or your system's equivalents\)\nthen run npm test again\n$/)
  })
})
