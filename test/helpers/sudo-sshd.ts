import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { controllerHome, ensureTestUser, startSshd, TEST_USER, trustHost, type TestSshd } from './sshd.ts'

/** A test file's sshd reached as this run's sudo test user, with what its tests share. */
export interface SudoUserSshd {
  /** The controller's HOME (its key, known_hosts). */
  readonly home: string
  /** A directory the test user can write (its locks and its own files). */
  readonly shared: string
  readonly sshd: TestSshd
  uid(): number
  target(become: { default?: boolean; passwordEnv?: string }): { name: string; ssh: { name: string; address: string; port: number; user: string }; become: typeof become }
  /** A fresh run-lock path in `shared`. */
  lock(): string
}

/** Starts the sshd before the file's tests and removes everything after them. */
export function useSudoUserSshd(sharedPrefix: string): SudoUserSshd {
  const s = { home: '', shared: '', sshd: undefined as TestSshd | undefined }
  beforeAll(async () => {
    ensureTestUser()
    s.home = mkdtempSync(join(tmpdir(), 'sc-ctl-'))
    const { pub } = controllerHome(s.home)
    s.sshd = await startSshd([pub])
    trustHost(s.home, s.sshd)
    s.shared = mkdtempSync(join(tmpdir(), sharedPrefix))
    chmodSync(s.shared, 0o777)
  })
  afterAll(async () => {
    await s.sshd?.stop()
    for (const d of [s.home, s.shared]) if (d) rmSync(d, { recursive: true, force: true })
  })
  return {
    get home() { return s.home },
    get shared() { return s.shared },
    get sshd() { return s.sshd as TestSshd },
    uid: () => Number(execFileSync('id', ['-u', TEST_USER]).toString()),
    target: (become) => ({ name: 'lab', ssh: { name: 'lab', address: '127.0.0.1', port: (s.sshd as TestSshd).port, user: TEST_USER }, become }),
    lock: () => join(s.shared, `lock-${Math.random().toString(36).slice(2)}`),
  }
}
