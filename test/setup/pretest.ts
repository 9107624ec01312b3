// `npm test`'s pretest step: the Debian tools the suite needs, installed when it can be (root with
// apt), or a stop before the first test with the exact command to run.
import { spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { DEBIAN_TOOLS, setupPlan } from './debian-tools.ts'

const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/sbin', '/usr/local/sbin']
const executable = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK)
    return true
  } catch {
    return false
  }
}
const has = (c: string): boolean => (c.startsWith('/') ? executable(c) : dirs.some((d) => executable(join(d, c))))

const plan = setupPlan(DEBIAN_TOOLS, { has, root: process.getuid?.() === 0, apt: has('apt-get') })
if (plan.action === 'stop') {
  process.stderr.write(`${plan.message}\n`)
  process.exit(1)
}
if (plan.action === 'install') {
  process.stderr.write(`npm test: installing what the tests need: ${plan.pkgs.join(' ')}\n`)
  for (const argv of plan.argv) {
    const r = spawnSync(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    if (r.status !== 0) {
      process.stderr.write(`npm test: '${argv.join(' ')}' failed (exit ${r.status ?? r.signal}); fix that, then run npm test again\n`)
      process.exit(1)
    }
  }
}
