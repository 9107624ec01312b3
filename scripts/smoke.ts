/**
 * `npm run smoke`: recipes/invokeai converged through the CLI, as a user runs it (hosts.yaml,
 * provision.ts), on two fresh booted Debian 12 hosts of the lab over SSH as `dev` with sudo,
 * against the stand-ins (git server, gated hub, conda and rustup). It asserts, and prints:
 * - the plan made before the first run names every resource that run changes;
 * - the first run converges each host (files, checkpoint hash, env, service, health URL);
 * - a second run changes nothing in 3 round trips (and writes a JUnit file that xmllint validates);
 * - after `systemctl reboot` inside a host the service answers again;
 * - fault runs: the controller SIGKILLed mid-download (the re-run fetches only what is missing),
 *   the SSH connection killed mid-apply (the re-run converges), two runs at once on one host
 *   (one fails at once naming the holder).
 * Everything is torn down at the end, on a failure and on SIGINT/SIGTERM (the lab's guard).
 */
import { copyFileSync, mkdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { parseArgs } from 'node:util'
import { startRig, asUser, reportOf, validateJunitFile, waitFor, ROOT, USER, type Rig } from './smoke/rig.ts'
import { assertConverged, changedIds, expect, failedOf, healthAnswers, hostOf, plannedIds } from './smoke/checks.ts'
import type { Report } from '../lib/engine/report.ts'

// --snapshots DIR: keep the lab host's fresh and converged snapshots there.
const SNAPSHOTS = parseArgs({ options: { snapshots: { type: 'string' } } }).values.snapshots
const started = Date.now()
const say = (line: string): void => console.log(`[smoke ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${line}`)

async function run(rig: Rig, args: string[], what: string, codes: number[]): Promise<Report> {
  const r = await rig.cli([...args, '--json']).done
  const report = reportOf(r, what)
  expect(r.code !== null && codes.includes(r.code), `${what}: exit ${r.code}, expected ${codes.join(' or ')}:\n${JSON.stringify(report.hosts.map((h) => ({ host: h.host, error: h.error, failed: failedOf(h) })), null, 2)}\n${r.stderr}`)
  return report
}

/** The checkpoint gone from a host's model store, so that the next run downloads it again (for the fault runs). */
const dropCheckpoint = (rig: Rig, i: number): Promise<string> => asUser(rig.lab.hosts[i]!, 'rm -f ~/.local/share/statecraft/models/sd-v1-4.ckpt')

/**
 * The snapshots of host a, fresh and converged, planned with no connection: 2 (changes pending)
 * and 0. With --snapshots DIR they are kept there (recipes/snapshots/invokeai/ ships them).
 */
async function simulate(rig: Rig, fresh: string, converged: string): Promise<void> {
  const sim = async (file: string, code: number): Promise<string> => {
    const r = await run(rig, ['--simulate', file], `--simulate ${file}`, [code])
    const h = r.hosts[0]!
    expect(h.connections === 0, `--simulate ${file} opened ${h.connections} connections`)
    return `${h.summary.changed} will change, ${h.summary.pending} re-checked after`
  }
  say(`snapshots of ${rig.lab.hosts[0]!.name}: --simulate fresh: exit 2 (${await sim(fresh, 2)}); converged: exit 0 (${await sim(converged, 0)})`)
  const out = SNAPSHOTS
  if (!out) return
  mkdirSync(out, { recursive: true })
  for (const f of [fresh, converged]) copyFileSync(f, join(out, basename(f)))
  say(`snapshots written to ${out}`)
}

async function smoke(rig: Rig): Promise<void> {
  const [a, b] = rig.lab.hosts
  if (!a || !b) throw new Error('smoke: the lab has fewer than two hosts')
  const both = `${a.name},${b.name}`
  say(`hosts: ${rig.lab.hosts.map((h) => `${h.name} (${h.address}, ssh as ${USER})`).join(', ')}; stand-ins on ${rig.lab.gateway}`)

  const plan = await run(rig, ['--host', both, '--plan'], 'the plan before the first run', [2])
  const planned = new Map(plan.hosts.map((h) => [h.host, new Set(plannedIds(h))]))
  for (const h of plan.hosts) say(`${h.host}: plan: ${h.summary.changed} will change, ${h.summary.pending} re-checked after: ${plannedIds(h).join(', ')}`)

  const fresh = join(rig.home, 'debian12-fresh.json')
  await run(rig, ['--host', a.name, '--snapshot', fresh], `the fresh snapshot of ${a.name}`, [2])

  // Host a: a plain first run. Host b: its first run's controller is killed mid-download.
  const firstJunit = join(rig.home, 'first.xml')
  const first = await run(rig, ['--host', a.name, '--junit', firstJunit], `the first run on ${a.name}`, [0])
  const inPlan = (host: string, ids: string[]): string[] => ids.filter((id) => !planned.get(host)?.has(id))
  const fa = hostOf(first.hosts, a.name)
  expect(inPlan(a.name, changedIds(fa)).length === 0, `${a.name}: the first run changed resources the plan did not name: ${inPlan(a.name, changedIds(fa)).join(', ')}`)
  say(`${a.name}: first run changed ${changedIds(fa).length} (all in the plan): ${changedIds(fa).join(', ')}`)
  say(`${a.name}: converged: ${await assertConverged(a, rig.si)}`)
  validateJunitFile(firstJunit)

  const gets = rig.si.hub.gets.length
  rig.si.hub.cdnModes.push('slow')
  const killed = rig.cli(['--host', b.name])
  await waitFor('the checkpoint download to start', () => rig.si.hub.gets.length > gets, 300_000)
  await new Promise((r) => setTimeout(r, 1200))
  killed.child.kill('SIGKILL')
  await killed.done
  const firstB = await run(rig, ['--host', b.name], `the re-run on ${b.name} after the controller was killed`, [0])
  const fb = hostOf(firstB.hosts, b.name)
  expect(inPlan(b.name, changedIds(fb)).length === 0, `${b.name}: the re-run changed resources the plan did not name: ${inPlan(b.name, changedIds(fb)).join(', ')}`)
  const later = rig.si.hub.gets.slice(gets + 1)
  expect(later.every((g) => g.start > 0), `${b.name}: after the kill the checkpoint was fetched from byte 0 again: ${JSON.stringify(later)}`)
  const resumed = later.find((g) => g.start > 0)
  say(`fault: controller SIGKILLed mid-download on ${b.name}: re-run converged; ${resumed ? `it resumed with Range: bytes=${resumed.start}- (${resumed.sent} missing bytes travelled)` : 'the host had finished the transfer alone (no bytes travelled again)'}`)
  say(`${b.name}: re-run changed ${changedIds(fb).length} (all in the plan): ${changedIds(fb).join(', ')}`)
  say(`${b.name}: converged: ${await assertConverged(b, rig.si)}`)

  const junit = join(rig.home, 'second.xml')
  const second = await run(rig, ['--host', both, '--junit', junit], 'the second run', [0])
  for (const h of second.hosts) {
    expect(h.summary.changed === 0 && h.roundTrips === 3, `${h.host}: the second run changed ${h.summary.changed} in ${h.roundTrips} round trips; expected 0 in 3: ${changedIds(h).join(', ')}`)
    say(`${h.host}: second run: 0 changed in ${h.roundTrips} round trips`)
  }
  validateJunitFile(junit)
  const converged = join(rig.home, 'debian12-converged.json')
  await run(rig, ['--host', a.name, '--snapshot', converged], `the converged snapshot of ${a.name}`, [0])
  await simulate(rig, fresh, converged)
  say(`JUnit: ${firstJunit} and ${junit} validate against test/fixtures/junit/jenkins-junit.xsd`)

  const boot = await a.bootId()
  await a.exec('systemctl reboot')
  await a.waitForReboot(boot, 120_000)
  await waitFor(`${a.name}'s service after the reboot`, () => healthAnswers(a), 90_000)
  const afterBoot = await run(rig, ['--host', a.name], `the run after ${a.name} rebooted`, [0])
  expect(hostOf(afterBoot.hosts, a.name).summary.changed === 0, `${a.name}: after the reboot a run changed ${changedIds(hostOf(afterBoot.hosts, a.name)).join(', ')}`)
  say(`${a.name}: rebooted (systemctl reboot inside); the service came back and answers; a run changes 0`)

  // The SSH connection killed while the host downloads: the run fails, the next one converges.
  await dropCheckpoint(rig, 1)
  const before = rig.si.hub.gets.length
  rig.si.hub.cdnModes.push('slow')
  const dropped = rig.cli(['--host', b.name, '--json'])
  await waitFor('the download to start again', () => rig.si.hub.gets.length > before, 120_000)
  await new Promise((r) => setTimeout(r, 800))
  // The sshd processes serving the login user's sessions (minbase has no pkill): killed, the connection drops.
  const kill = await b.exec(`for d in /proc/[0-9]*; do case "$(tr '\\0' ' ' < "$d/cmdline" 2>/dev/null)" in 'sshd: ${USER}'*) kill -KILL "\${d#/proc/}" && printf '%s ' "\${d#/proc/}";; esac; done`)
  expect(kill.code === 0 && kill.stdout.trim() !== '', `${b.name}: no SSH session of ${USER} to kill (${kill.code}): ${kill.stderr}`)
  const d = await dropped.done
  const dr = reportOf(d, 'the run whose connection was killed').hosts[0]!
  // Either outcome is honest: the host fails naming the dropped connection, or the engine
  // reconnected (a drop between two steps) and finished; the next run must converge either way.
  expect(d.code === 1 || d.code === 0, `${b.name}: the run whose connection was killed exited ${d.code}:\n${d.stderr}`)
  const dropOutcome = d.code === 1 ? `that run failed: ${(dr.error?.message ?? failedOf(dr).join('; ')).slice(0, 200)}` : `that run reconnected and finished (${dr.connections} connections)`
  await run(rig, ['--host', b.name], `the re-run on ${b.name} after the dropped connection`, [0])
  say(`${b.name}: converged again: ${await assertConverged(b, rig.si)}`)
  say(`fault: SSH connection killed mid-apply on ${b.name}: killed sshd sessions ${kill.stdout.trim()}; ${dropOutcome}; the re-run converged`)

  // Two runs at once on one host: the second finds the lock and fails at once, naming the first.
  await dropCheckpoint(rig, 0)
  rig.si.hub.cdnModes.push('slow')
  const holder = rig.cli(['--host', a.name])
  await waitFor(`the first run's lock on ${a.name}`, async () => (await a.exec(`test -L /home/${USER}/.statecraft/run.lock`)).code === 0, 120_000)
  const t0 = Date.now()
  const other = await rig.cli(['--host', a.name, '--json']).done
  const otherMs = Date.now() - t0
  const held = await holder.done
  const lockErr = reportOf(other, 'the second of two runs').hosts[0]?.error
  expect(other.code === 1 && lockErr?.code === 'E_LOCKED' && lockErr.message.includes(`pid ${holder.child.pid}`), `the second of two runs on ${a.name} should fail with E_LOCKED naming pid ${holder.child.pid}; exit ${other.code}: ${JSON.stringify(lockErr)}`)
  expect(held.code === 0, `the first of two runs on ${a.name} exited ${held.code}:\n${held.stdout}\n${held.stderr}`)
  say(`fault: two runs at once on ${a.name}: the second failed in ${(otherMs / 1000).toFixed(1)}s: ${lockErr?.message.split(';')[0]}; the first converged`)
  say(`${a.name}: converged again: ${await assertConverged(a, rig.si)}`)
}

const rig = await startRig(2)
say('lab up: 2 fresh Debian 12 hosts, the stand-ins, a controller HOME with hosts.yaml')
let failed: unknown
try {
  await smoke(rig)
} catch (e) {
  failed = e
} finally {
  await rig.close()
  say('torn down')
}
if (failed) {
  console.error(failed instanceof Error ? failed.message : failed)
  process.exit(1)
}
say('smoke passed')
