import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { LocalTransport } from '../../lib/transport/local.ts'

const dirs: string[] = []

/** A fresh temp dir, removed after the test (also when it fails). */
export function tempDir(prefix = 'sc-test-'): string {
  const d = realpathSync(mkdtempSync(join(tmpdir(), prefix)))
  dirs.push(d)
  return d
}

afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop() as string, { recursive: true, force: true })
})

/** A local transport whose HOME is a temp dir, so locks and ~ paths never touch the real home. */
export function localHost(home: string): LocalTransport {
  return new LocalTransport({ env: { ...process.env, HOME: home } })
}
