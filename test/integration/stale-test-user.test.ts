import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { removeStaleTestUsers, TEST_USER } from '../helpers/sshd.ts'

const made: string[] = []
const exists = (u: string): boolean => spawnSync('id', [u], { stdio: 'ignore' }).status === 0

/** A user shaped like a test run's: `sct<8 hex>`, the run's pid in its comment, a sudoers rule. */
function runUser(pid: number): string {
  const u = `sct${randomBytes(4).toString('hex')}`
  made.push(u)
  expect(spawnSync('useradd', ['-m', '-s', '/bin/sh', '-c', `statecraft test run ${pid}`, u]).status).toBe(0)
  writeFileSync(`/etc/sudoers.d/statecraft-test-${u}`, `${u} ALL=(ALL:ALL) ALL\n`, { mode: 0o440 })
  return u
}

afterEach(() => {
  for (const u of made.splice(0)) {
    rmSync(`/etc/sudoers.d/statecraft-test-${u}`, { force: true })
    if (exists(u)) spawnSync('userdel', ['-r', u], { stdio: 'ignore' })
  }
})

describe('a test run killed outright leaves its user: the next run removes it', () => {
  it('removes the user of a run whose process is gone, keeps a live run\'s and this run\'s own', () => {
    const gone = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' })
    const deadPid = Number(gone.stdout.trim())
    const dead = runUser(deadPid)
    const live = runUser(process.pid)
    const removed = removeStaleTestUsers()
    expect(removed).toContain(dead)
    expect(removed).not.toContain(live)
    expect(exists(dead)).toBe(false)
    expect(existsSync(`/etc/sudoers.d/statecraft-test-${dead}`)).toBe(false)
    expect(exists(live)).toBe(true)
    expect(existsSync(`/etc/sudoers.d/statecraft-test-${live}`)).toBe(true)
    expect(removed).not.toContain(TEST_USER)
  })
})
