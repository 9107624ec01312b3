import { removeTestUser, TEST_PASSWORD_ENV } from './helpers/sshd.ts'

/**
 * Runs once in vitest's main process. Importing the helper puts this run's random test password
 * in the environment before any worker starts, so every test file sets and uses the same one.
 * What the tests create on the machine (the test user and its sudoers entry) goes at the end,
 * also when the run is interrupted.
 */
export default function setup(): () => void {
  if (!process.env[TEST_PASSWORD_ENV]) throw new Error('the test password was not set up')
  const cleanup = (): void => {
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
    cleanup()
  }
}
