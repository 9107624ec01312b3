import { spawnSync } from 'node:child_process'
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT as PROJECT, startCli, type CliResult, type CliRun } from '../../test/helpers/cli.ts'
import { installRustupOnHost } from '../../test/helpers/invokeai/rustup-stand-in.ts'
import { installCondaOnHost, startInvokeAIStandIns, type InvokeAIStandIns } from '../../test/helpers/invokeai/stand-ins.ts'
import { startLab, type Lab, type LabHost } from '../../test/helpers/lab.ts'
import { controllerHome } from '../../test/helpers/sshd.ts'
import type { Report } from '../../lib/engine/report.ts'

/**
 * What the smoke runs against: a lab of fresh Debian hosts, the InvokeAI stand-ins on the lab's
 * gateway, and a controller HOME of its own (ssh key, known_hosts, hosts.yaml) from which the
 * CLI runs as a user runs it. `close()` undoes it; a SIGINT/SIGTERM kills the CLI runs still
 * going and removes the HOME before the lab's own guard tears the hosts down.
 */
export interface Rig {
  lab: Lab
  si: InvokeAIStandIns
  home: string
  cli(args: string[]): CliRun
  close(): Promise<void>
}

// test/helpers/junit.ts names the same file, but imports vitest's hooks (not loadable here).
const JUNIT_XSD = `${PROJECT}test/fixtures/junit/jenkins-junit.xsd`

export const USER = 'dev'
export const ROOT = `/home/${USER}/invokeai`

const runs = new Set<CliRun>()
let homeToRemove = ''

function onSignal(sig: NodeJS.Signals): void {
  for (const r of runs) r.child.kill('SIGKILL')
  if (homeToRemove) rmSync(homeToRemove, { recursive: true, force: true })
  // The lab's guard (registered after this one) tears the hosts down and dies of the signal;
  // before the lab exists, die of it here.
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig)
}

export async function startRig(hosts: number): Promise<Rig> {
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const home = mkdtempSync(join(tmpdir(), 'sc-smoke-'))
  homeToRemove = home
  const key = controllerHome(home).pub
  const lab = await startLab({ hosts, authorizedKey: key, services: false })
  let si: InvokeAIStandIns | undefined
  const close = async (): Promise<void> => {
    for (const r of runs) r.child.kill('SIGKILL')
    await si?.close()
    await lab.stop()
    rmSync(home, { recursive: true, force: true })
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  try {
    // The stand-ins' repository directory inside the HOME: a SIGINT removes it with the HOME
    // (their close() does not get to run in a signal handler).
    const tmp = process.env.TMPDIR
    process.env.TMPDIR = home
    try {
      si = await startInvokeAIStandIns(lab.gateway)
    } finally {
      if (tmp === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = tmp
    }
    for (const h of lab.hosts) appendFileSync(join(home, '.ssh', 'known_hosts'), `${h.address} ${h.hostKey}\n`)
    await Promise.all(lab.hosts.map(async (h) => {
      await installCondaOnHost(h, USER)
      await installRustupOnHost(h, USER, ['stable', '1.72.1'])
    }))
    writeFileSync(join(home, 'hosts.yaml'), inventory(lab.hosts, si))
    const env = { HF_TOKEN: si.token, HF_ENDPOINT: si.hfEndpoint, STATECRAFT_CACHE: join(home, 'cache') }
    const cli = (args: string[]): CliRun => {
      const r = startCli(args, { cwd: home, home, env })
      runs.add(r)
      void r.done.finally(() => runs.delete(r)).catch(() => {})
      return r
    }
    return { lab, si, home, cli, close }
  } catch (e) {
    await close().catch(() => {})
    throw e
  }
}

/** hosts.yaml as a user writes it: the lab hosts in a group whose vars point at the stand-ins. */
function inventory(hosts: LabHost[], si: InvokeAIStandIns): string {
  const ck = si.checkpoints['sd-v1-4.ckpt']
  const lines = ['hosts:']
  for (const h of hosts) lines.push(`  ${h.name}:`, `    address: ${h.address}`, `    user: ${USER}`, '    groups: [lab]')
  lines.push('groups:', '  lab:', '    vars:')
  const vars = { repo: si.gitUrl, ref: 'main', checkpoint: ck.file, checkpointUrl: ck.url, checkpointSha256: ck.sha256, checkpointSize: ck.size, sampler: 'ddim' }
  for (const [k, v] of Object.entries(vars)) lines.push(`      ${k}: ${JSON.stringify(v)}`)
  return `${lines.join('\n')}\n`
}

/** The JSON report a `--json` run printed (the last line that parses). */
export function reportOf(r: CliResult, what: string): Report {
  const start = r.stdout.indexOf('{')
  if (start < 0) throw new Error(`${what}: no JSON report (exit ${r.code}):\n${r.stdout}\n${r.stderr}`)
  return JSON.parse(r.stdout.slice(start)) as Report
}

/** xmllint against the JUnit dialect's XSD kept with the tests; throws with what it said. */
export function validateJunitFile(file: string): void {
  const r = spawnSync('xmllint', ['--noout', '--schema', JUNIT_XSD, file], { encoding: 'utf8' })
  if (r.error) throw new Error(`xmllint did not run (${r.error.message}): install libxml2-utils`)
  if (r.status !== 0) throw new Error(`${file} does not validate against ${JUNIT_XSD}:\n${r.stdout}${r.stderr}`)
}

/** A command as the login user on a lab host (a login shell: XDG_RUNTIME_DIR for systemctl --user). */
export async function asUser(host: LabHost, script: string): Promise<string> {
  const r = await host.exec(`runuser -l ${USER} -c '${script.replace(/'/g, `'\\''`)}'`)
  if (r.code !== 0) throw new Error(`${host.name}: \`${script}\` exited ${r.code}: ${r.stderr.trim()}`)
  return r.stdout
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls until f() is true, or throws naming what was awaited. */
export async function waitFor(what: string, f: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await f())) {
    if (Date.now() > until) throw new Error(`smoke: timed out after ${ms / 1000}s waiting for ${what}`)
    await sleep(100)
  }
}
