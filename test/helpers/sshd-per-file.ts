import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { controllerHome, startSshd, trustHost, type TestSshd } from './sshd.ts'

/**
 * A real sshd on 127.0.0.1 for the tests of one file (or describe block), logged into as root
 * from a temp controller HOME that trusts its host key; stopped and removed afterwards. Read the
 * fields inside tests: they are set by the beforeAll this registers.
 */
export function sshdForTests(): { sshd: TestSshd; home: string } {
  const ctx = {} as { sshd: TestSshd; home: string }
  beforeAll(async () => {
    ctx.home = mkdtempSync(join(tmpdir(), 'sc-ctl-'))
    ctx.sshd = await startSshd([controllerHome(ctx.home).pub])
    trustHost(ctx.home, ctx.sshd)
  })
  afterAll(async () => {
    await ctx.sshd?.stop()
    if (ctx.home) rmSync(ctx.home, { recursive: true, force: true })
  })
  return ctx
}
