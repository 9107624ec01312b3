import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { tsNodeArgs } from '../helpers/cli.ts'
import { LAB_BASE_ENV } from '../helpers/lab/base.ts'
import { leftovers, machineState } from '../helpers/lab/machine-state.ts'
import { controllerHome } from '../helpers/sshd.ts'

// An interrupted lab leaves this machine as it found it: a small lab script in a child process
// (test/helpers/lab/interrupt-child.ts) gets SIGINT while its base is being built (debootstrap
// running), and while its host is up and a converge runs on it; after each, the network
// namespaces, mounts, nft tables, links, cgroups, /tmp, nspawn's dirs and ip_forward are as
// before. The signal goes to the script alone (as `kill -INT` sends it), so nothing it started
// is interrupted with it: the script's own teardown has to stop all of it.
const CHILD = fileURLToPath(new URL('../helpers/lab/interrupt-child.ts', import.meta.url))

interface Child {
  proc: ChildProcess
  output: () => string
  exited: Promise<NodeJS.Signals | number | null>
}

let dir = ''
let child: ChildProcess | undefined

afterEach(() => {
  // A failed assertion must not leave the script running (its own teardown then cleans up).
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** The test's own directory: the controller's HOME and the script's TMPDIR (its lab dirs, its base). */
function setup(): { ctl: string; tmp: string } {
  dir = mkdtempSync(join(tmpdir(), 'sc-interrupt-'))
  const ctl = join(dir, 'ctl')
  const tmp = join(dir, 'tmp')
  mkdirSync(tmp)
  controllerHome(ctl)
  return { ctl, tmp }
}

function start(mode: 'base' | 'converge', ctl: string, env: NodeJS.ProcessEnv): Child {
  const proc = spawn(process.execPath, [...tsNodeArgs(), CHILD, mode, ctl], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  child = proc
  let out = ''
  proc.stdout?.on('data', (b: Buffer) => (out += b.toString()))
  proc.stderr?.on('data', (b: Buffer) => (out += b.toString()))
  const exited = new Promise<NodeJS.Signals | number | null>((r) => proc.once('exit', (code, sig) => r(sig ?? code)))
  return { proc, output: () => out, exited }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function until<T>(what: string, c: Child, probe: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = probe()
    if (v !== undefined) return v
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) throw new Error(`the lab script ended (${c.proc.exitCode ?? c.proc.signalCode}) before ${what}:\n${c.output()}`)
    if (Date.now() > end) throw new Error(`no ${what} within ${ms / 1000}s:\n${c.output()}`)
    await sleep(100)
  }
}

/** Command lines of live processes that name `path` (debootstrap, nspawn, what they started). */
function processesNaming(path: string): string[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)
    .map((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()
      } catch {
        return ''
      }
    })
    .filter((l) => l.includes(path))
}

/** What is in the script's TMPDIR, less tsx's compile cache (tsx-<uid>: Node 20 runs the script through tsx). */
const labFiles = (tmp: string): string[] => readdirSync(tmp).filter((n) => !/^tsx-\d+$/.test(n))

async function interrupt(c: Child): Promise<void> {
  c.proc.kill('SIGINT')
  const end = await Promise.race([c.exited, sleep(60_000).then(() => 'still running after 60 s')])
  expect(end, c.output()).toBe('SIGINT')
}

describe('an interrupted lab', () => {
  // Its own base path in the test's directory (not the run's shared base); "own base" is the
  // path `npm run smoke` takes (no shared base: a temp dir of the lab's own).
  it.each([
    ['a base shared by a run (built into <base>.partial, then renamed)', true],
    ["the lab's own base (a temp dir)", false],
  ])('SIGINT while debootstrap builds %s: nothing left behind', async (_, shared) => {
    const { ctl, tmp } = setup()
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp }
    if (shared) env[LAB_BASE_ENV] = join(tmp, 'base')
    else delete env[LAB_BASE_ENV]
    const before = machineState()
    const c = start('base', ctl, env)
    const target = await until('debootstrap', c, () => processesNaming(tmp).find((l) => /\bdebootstrap --variant/.test(l))?.split(' ').find((a) => a.startsWith(tmp)), 120_000)
    expect(target).toBe(shared ? join(tmp, 'base.partial') : target)
    // A few seconds in: debootstrap is fetching and unpacking into the tree.
    await until('debootstrap writing its tree', c, () => (existsSync(join(target, 'debootstrap')) ? true : undefined), 60_000)
    await sleep(3000)
    expect(processesNaming(tmp).length).toBeGreaterThan(0)
    await interrupt(c)
    expect(processesNaming(tmp)).toEqual([])
    expect(labFiles(tmp)).toEqual([])
    expect(leftovers(before, machineState(), c.proc.pid as number, dir)).toEqual([])
  }, 240_000)

  it('SIGINT while its host is up and a converge runs on it: nothing left behind', async () => {
    const { ctl, tmp } = setup()
    // The run's shared base when there is one (built by the first lab of the run; it stays).
    const before = machineState()
    const c = start('converge', ctl, { ...process.env, TMPDIR: tmp })
    const x = await until('the lab', c, () => /^lab x=(\d+)$/m.exec(c.output())?.[1], 540_000)
    await until('the converge running on the host', c, () => (/^converging$/m.test(c.output()) ? true : undefined), 60_000)
    // What is about to be torn down is there: the host, its namespace, cgroup, bridge and table.
    const during = machineState()
    expect(during.netns).toContain(`sc-e2e-${x}-lab1`)
    expect(during.links).toEqual(expect.arrayContaining([`sc-e2e-br${x}`, `sc-e2e-${x}v11`]))
    expect(during.tables).toContain(`table ip sc-e2e-${x}`)
    expect(during.cgroups.some((p) => p.endsWith(`/sc-e2e-${x}-lab1`))).toBe(true)
    expect(during.mounts.some((m) => m.startsWith(`${tmp}/`) && / overlay /.test(m))).toBe(true)
    expect(during.forward).toBe('1')
    expect(processesNaming(tmp).some((l) => l.startsWith('systemd-nspawn'))).toBe(true)
    await interrupt(c)
    expect(processesNaming(tmp)).toEqual([])
    expect(labFiles(tmp)).toEqual([])
    expect(leftovers(before, machineState(), c.proc.pid as number, dir)).toEqual([])
  }, 600_000)
})
