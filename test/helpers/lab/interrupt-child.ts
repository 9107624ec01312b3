/**
 * A small lab script for test/e2e/lab-interrupt.test.ts, run as a child process that the test
 * interrupts: `base` starts a one-host lab (the test sends SIGINT while the base is being built);
 * `converge` starts one, then converges a recipe on its host over SSH as `dev`, printing
 * `converging` once the recipe's command runs on the host (the test sends SIGINT then).
 * argv: MODE CONTROLLER_HOME (with .ssh/id_ed25519 and known_hosts, made by the test).
 */
import { appendFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { command, converge, defineRecipe } from '../../../lib/index.ts'
import { startLab } from '../lab.ts'
import { sleep } from './run.ts'

const [mode, home] = process.argv.slice(2)
if ((mode !== 'base' && mode !== 'converge') || !home) throw new Error('usage: interrupt-child.ts base|converge CONTROLLER_HOME')

console.log(`starting pid=${process.pid}`)
const lab = await startLab({ hosts: 1, authorizedKey: readFileSync(join(home, '.ssh/id_ed25519.pub'), 'utf8').trim(), services: false })
const host = lab.hosts[0]
if (!host) throw new Error('interrupt-child: the lab has no host')
console.log(`lab x=${/^10\.200\.(\d+)\.1$/.exec(lab.gateway)?.[1]}`)
appendFileSync(join(home, '.ssh/known_hosts'), `${host.address} ${host.hostKey}\n`)
if (mode === 'base') {
  // Not interrupted in time: the test fails on this line.
  console.log('the lab came up before the interrupt')
  await lab.stop()
  process.exit(0)
}

// A command that runs until the test interrupts the run (it marks the host when it starts).
const recipe = defineRecipe({
  name: 'interrupted',
  resources: () => [command({ id: 'slow', argv: ['sh', '-c', 'touch /tmp/sc-converging && sleep 300 && touch /tmp/sc-done'], creates: '/tmp/sc-done' })],
})
const run = converge({ recipe, hosts: [{ name: host.name, ssh: { name: host.name, address: host.address, user: 'dev' } }], ssh: { home } })
for (let i = 0; (await host.exec('test -e /tmp/sc-converging')).code !== 0; i++) {
  if (i > 600) throw new Error('interrupt-child: the converge did not start its command within 2 min')
  await sleep(200)
}
console.log('converging')
const report = await run
console.log(`converge ended before the interrupt: ${JSON.stringify(report.hosts[0]?.error ?? report.ok)}`)
await lab.stop()
