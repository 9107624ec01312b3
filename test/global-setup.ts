import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LAB_BASE_ENV, removeSharedBase } from './helpers/lab/base.ts'
import { removeStaleTestUsers, removeTestUser, TEST_PASSWORD, TEST_PASSWORD_ENV } from './helpers/sshd.ts'
import { ProcessSweep, registeredSecrets, SECRETS_FILE_ENV } from './helpers/sweep.ts'

/**
 * Runs once in vitest's main process, around the whole run.
 * - Importing the sshd helper puts this run's random test password in the environment before any
 *   worker starts, so every test file sets and uses the same one.
 * - The secrets sweep: the process table is sampled all along for the secrets tests register
 *   (helpers/sweep.ts); any hit fails the run.
 * - What the tests create on the machine (the test user and its sudoers entry) goes at the end,
 *   also when the run is interrupted.
 * - The real home is not the tests' to touch: every worker gets HOME = a directory of this run's
 *   own, and a run in which a test took the run lock there (a converge on `local` without a temp
 *   HOME of its own: two such tests would refuse each other) fails.
 * - The e2e lab's base rootfs: only its path is chosen here, so every test file that starts a lab
 *   shares one (the first builds it); a run without lab tests builds nothing. It goes at the end.
 */
export default function setup(): () => void {
  if (!process.env[TEST_PASSWORD_ENV]) throw new Error('the test password was not set up')
  const dir = mkdtempSync(join(tmpdir(), 'sc-secrets-'))
  const file = join(dir, 'secrets')
  writeFileSync(file, `${Buffer.from(TEST_PASSWORD).toString('base64')}\n`, { mode: 0o600 })
  process.env[SECRETS_FILE_ENV] = file
  // A base named by whoever started the run (to keep one between runs) is theirs to remove.
  const labBase = process.env[LAB_BASE_ENV] ? undefined : join(tmpdir(), `sc-e2e-root-run${process.pid}-${Date.now().toString(36)}`)
  if (labBase) process.env[LAB_BASE_ENV] = labBase
  const runHome = join(dir, 'home')
  mkdirSync(runHome, { mode: 0o700 })
  process.env.HOME = runHome
  // A run killed outright (SIGKILL) had no teardown: its user and sudoers entry go now.
  if (process.getuid?.() === 0) for (const u of removeStaleTestUsers()) console.warn(`removed the test user ${u} of an earlier run that was killed`)
  const sweep = new ProcessSweep(() => registeredSecrets(file)).start()
  const cleanup = (): void => {
    sweep.stop()
    rmSync(dir, { recursive: true, force: true })
    if (labBase) removeSharedBase(labBase)
    if (process.getuid?.() === 0) removeTestUser()
  }
  const onSignal = (sig: NodeJS.Signals): void => {
    cleanup()
    process.kill(process.pid, sig)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  return () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    const lockTaken = existsSync(join(runHome, '.statecraft'))
    const hits = [...sweep.hits]
    const samples = sweep.samples
    cleanup()
    const failure =
      hits.length > 0 ? `secrets sweep: a registered secret appeared on a command line:\n${hits.join('\n')}`
      : samples === 0 ? 'secrets sweep: the process table was never sampled'
      : lockTaken ? 'a test took the run lock in the HOME the run gives its workers (~/.statecraft): give its converge a host with a temp HOME of its own (localHost(dir) from test/helpers/tmp.ts)'
      : ''
    if (failure) {
      // vitest reports an error thrown here but keeps exit code 0: set it, so CI fails.
      process.exitCode = 1
      throw new Error(failure)
    }
  }
}

