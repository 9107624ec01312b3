/**
 * `npm run bench`: statecraft against Ansible on the same 8-task workload (bench/workload8.mjs,
 * ../shared/PERF.md), over real sshd instances on loopback addresses, runs alternating (A B A B…),
 * written to bench/RESULTS.md. Run as root on Debian (it installs ansible-core and python3-apt
 * from Debian when missing, and adds a test user it removes at the end):
 *
 *   npm run bench -- [--hosts 1,20,100] [--runs 5] [--artifact-mib 2048] [--fleet-artifact-mib 16]
 *                    [--ansible-max-hosts N]   (statecraft alone above N hosts: Ansible's 100-host
 *                                               no-op takes many minutes a run on 2 cores)
 *
 * Set NODE24=/path/to/node (Node 24) to add the `node provision.ts` figures. Never part of
 * `npm test`: speed is reported, never asserted.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, totalmem, tmpdir, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ansibleFiles, checkScript } from './ansible.ts'
import { controllerHome, ensureTestUser, removeTestUser, startFleet, TEST_USER, type TestSshd } from '../test/helpers/sshd.ts'
import { report, type Figure } from './results.ts'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const { values: a } = parseArgs({ options: { 'ansible-max-hosts': { type: 'string', default: '1000' }, hosts: { type: 'string', default: '1,20,100' }, runs: { type: 'string', default: '5' }, 'artifact-mib': { type: 'string', default: '2048' }, 'fleet-artifact-mib': { type: 'string', default: '16' } } })
const HOSTS = (a.hosts as string).split(',').map(Number)
const RUNS = Number(a.runs)

/** Wall time of one whole process, ms; fails loudly with the tail of its output. */
/** Ctrl-C or SIGTERM: the command being timed is stopped and main's finally cleans up (sshd, test user). */
const interrupted = new Promise<never>((_, reject) => {
  const on = (): void => reject(new Error('interrupted'))
  process.once('SIGINT', on)
  process.once('SIGTERM', on)
})
interrupted.catch(() => undefined)

/** Peak memory (KiB) of the last process timed, from GNU time when it is there. */
let lastRss: number | undefined

async function time(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  // npx finds the project's own tsx from the project's directory (never a download).
  if (cmd === 'npx') cwd = ROOT
  const gnuTime = existsSync('/usr/bin/time')
  const t0 = performance.now()
  const child = gnuTime ? spawn('/usr/bin/time', ['-f', 'bench-maxrss=%M', cmd, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-20_000)))
  child.stderr.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-20_000)))
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
  const code = await Promise.race([closed, interrupted]).catch((e: unknown) => {
    child.kill('SIGKILL')
    throw e
  })
  const ms = performance.now() - t0
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out.slice(-3000)}`)
  const rss = /bench-maxrss=(\d+)/.exec(out)?.[1]
  lastRss = rss ? Number(rss) : undefined
  return ms
}

type Cmd = [string, string[], NodeJS.ProcessEnv]

/** A and B alternately, RUNS times each, after one untimed run of each (which converges it). */
async function pair(what: string, A: [string, () => Cmd], B: [string, () => Cmd] | undefined, cwd: string, warm = true): Promise<Figure> {
  const fig: Figure = { what, a: { label: A[0], ms: [] }, ...(B ? { b: { label: B[0], ms: [] } } : {}) }
  if (warm) {
    await time(...A[1](), cwd)
    if (B) await time(...B[1](), cwd)
  }
  for (let i = 0; i < RUNS; i++) {
    fig.a.ms.push(await time(...A[1](), cwd))
    if (lastRss !== undefined) fig.a.rssKiB = [...(fig.a.rssKiB ?? []), lastRss]
    if (B && fig.b) fig.b.ms.push(await time(...B[1](), cwd))
  }
  console.log(`${what}: ${A[0]} ${fig.a.ms.map((x) => x.toFixed(0)).join(' ')}${fig.b ? ` | ${fig.b.label} ${fig.b.ms.map((x) => x.toFixed(0)).join(' ')}` : ''}`)
  return fig
}

function startHub(mib: number): Promise<{ child: ChildProcess; url: string; sha256: string }> {
  const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'bench/hub-server.ts'), String(mib)], { stdio: ['pipe', 'pipe', 'inherit'] })
  return new Promise((resolve) =>
    child.stdout?.once('data', (b: Buffer) => {
      const info = JSON.parse(b.toString()) as { hubUrl: string; sha256: string }
      resolve({ child, url: `${info.hubUrl}/open/resolve/main/big.ckpt`, sha256: info.sha256 })
    }),
  )
}

const version = (cmd: string, args: string[]): string => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0]?.trim() ?? '?'
  } catch {
    return 'not installed'
  }
}

async function main(): Promise<void> {
  if (version('ansible-playbook', ['--version']) === 'not installed' || version('/usr/bin/python3', ['-c', 'import apt']) === 'not installed') {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'ansible-core', 'python3-apt'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  }
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' })
  ensureTestUser()
  const home = mkdtempSync(join(tmpdir(), 'sc-bench-home-'))
  const work = mkdtempSync(join(tmpdir(), 'sc-bench-'))
  chmodSync(work, 0o777)
  const servers: TestSshd[] = []
  const hubs: ChildProcess[] = []
  const figures: Figure[] = []
  const load: number[] = []
  try {
    const { pub } = controllerHome(home)
    const fleet = await startFleet(pub, home, Math.max(...HOSTS), 21, 'h')
    servers.push(...fleet.servers)
    const hosts = fleet.hosts
    const key = join(home, '.ssh', 'id_ed25519')
    const small = await startHub(Number(a['fleet-artifact-mib']))
    const big = await startHub(Number(a['artifact-mib']))
    hubs.push(small.child, big.child)
    // The repository at a tag, readable by the test user.
    const repo = join(work, 'repo.git')
    execFileSync('sh', ['-c', `git init -q --bare ${repo} && t=$(mktemp -d) && cd $t && git init -q && echo hi > README && git add README && git -c user.email=b@x -c user.name=b commit -qm one && git tag v1.0 && git push -q ${repo} HEAD:refs/heads/main v1.0 && rm -rf $t`])
    // Owned by the user both tools log in as: git refuses a repository of another owner.
    execFileSync('chown', ['-R', TEST_USER, repo])
    writeFileSync(join(work, 'hosts.yaml'), `hosts:\n${hosts.map((h) => `  ${h.name}:\n    address: ${h.address}\n    port: ${h.port}\n    user: ${TEST_USER}\n    lockPath: ${work}/${h.name}.lock\n    groups: [n${HOSTS.filter((n) => Number(h.name.slice(1)) <= n).join(', n')}]\n`).join('')}groups:\n${HOSTS.map((n) => `  n${n}: {}\n`).join('')}`)
    ansibleFiles(work, hosts, { repo, tag: 'v1.0', groups: HOSTS })
    const env = { ...process.env, HOME: home, NO_COLOR: '1' }
    const node = process.execPath
    const opts = (root: string, hub: { url: string; sha256: string }, extra: string[] = []): string[] => ['--inventory', join(work, 'hosts.yaml'), '--recipe', join(ROOT, 'bench/workload8.mjs'), '--set', `root=${root}`, '--set', `repo=${repo}`, '--set', 'tag=v1.0', '--set', `url=${hub.url}`, '--set', `sha256=${hub.sha256}`, ...extra]
    const target = (n: number): string[] => (n === 1 ? ['--host', 'h01'] : ['--group', `n${n}`, '--concurrency', String(n)])
    const bin = (n: number, root = `${work}/sc`, hub = small, extra: string[] = []): Cmd => [node, [join(ROOT, 'dist/provision.js'), ...opts(root, hub, extra), ...target(n)], env]
    const tsx = (): Cmd => ['npx', ['tsx', join(ROOT, 'provision.ts'), ...opts(`${work}/sc`, small), ...target(1)], env]
    const n24 = (): Cmd => [process.env.NODE24 as string, [join(ROOT, 'provision.ts'), ...opts(`${work}/sc`, small), ...target(1)], env]
    const aenv = (n: number, persist: boolean, url = small.url, sha = small.sha256): NodeJS.ProcessEnv => ({
      ...env,
      ANSIBLE_HOST_KEY_CHECKING: 'False',
      ANSIBLE_PRIVATE_KEY_FILE: key,
      ANSIBLE_REMOTE_USER: TEST_USER,
      ANSIBLE_FORKS: String(n),
      ANSIBLE_PIPELINING: 'True',
      ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_SSH_ARGS: persist ? '-o ControlMaster=auto -o ControlPersist=60s' : '-o ControlMaster=no -o ControlPersist=no',
      BENCH_URL: url,
      BENCH_SHA256: sha,
    })
    const ans = (n: number, persist = false, root = `${work}/ansible`, hub = small): Cmd => ['ansible-playbook', ['-i', 'inventory.ini', '-l', n === 1 ? 'h01' : `n${n}`, '-e', `work_root=${root}`, 'playbook.yml'], aenv(n, persist, hub.url, hub.sha256)]
    const ssh = (args: string[]): Cmd => ['ssh', ['-i', key, '-o', `UserKnownHostsFile=${join(home, '.ssh', 'known_hosts')}`, '-F', '/dev/null', '-p', String(hosts[0]?.port), `${TEST_USER}@${hosts[0]?.address}`, ...args], env]
    const sample = (): number => load.push(loadavg()[0] as number)
    // Written after each stage, so that an interrupted run still leaves what it measured.
    const write = (): void => {
      const versions = {
        node: process.version,
        ansible: version('ansible-playbook', ['--version']),
        openssh: version('sh', ['-c', 'ssh -V 2>&1']),
        git: version('git', ['--version']),
        node24: process.env.NODE24 ? version(process.env.NODE24, ['--version']) : 'not given (NODE24 unset)',
      }
      const machine = `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${version('sh', ['-c', '. /etc/os-release; echo $PRETTY_NAME'])}`
      writeFileSync(join(ROOT, 'bench/RESULTS.md'), report({ figures, versions, machine, runs: RUNS, load }))
    }

    figures.push(await pair('floor: `ssh host true`, new connection', ['ssh true', () => ssh(['true'])], undefined, work))
    figures.push(await pair('floor: one ssh exec of one script doing every check', ['ssh check script', () => ssh(['sh', '-c', checkScript(`${work}/sc/h01`)])], undefined, work, false))
    sample()
    figures.push(await pair('no-op, 1 host', ['statecraft bin (node dist/provision.js)', () => bin(1)], ['ansible-playbook (ControlPersist off)', () => ans(1)], work))
    figures.push(await pair('no-op, 1 host, Ansible warm', ['statecraft bin', () => bin(1)], ['ansible-playbook (ControlPersist on)', () => ans(1, true)], work))
    figures.push(await pair('no-op, 1 host, `npx tsx provision.ts`', ['npx tsx provision.ts', tsx], undefined, work))
    if (process.env.NODE24) figures.push(await pair('no-op, 1 host, `node provision.ts` (Node 24)', ['node24 provision.ts', n24], undefined, work))
    sample()
    write()
    let k = 0
    figures.push(await pair('first converge, 1 host', ['statecraft bin', () => bin(1, `${work}/fc-sc-${k}`)], ['ansible-playbook', () => ans(1, false, `${work}/fc-an-${k++}`)], work, false))
    // The big artifact on one host: a no-op with it against the same recipe without it.
    figures.push(await pair(`${a['artifact-mib']} MiB artifact no-op, 1 host`, ['statecraft with the artifact', () => bin(1, `${work}/big`, big)], ['ansible-playbook with the artifact', () => ans(1, false, `${work}/big-an`, big)], work))
    figures.push(await pair('the same recipe without the artifact, 1 host', ['statecraft without it', () => bin(1, `${work}/big`, big, ['--set', 'artifact=0'])], undefined, work))
    sample()
    for (const n of HOSTS.filter((x) => x > 1)) {
      const withAnsible = n <= Number(a['ansible-max-hosts'])
      figures.push(await pair(`no-op, ${n} hosts`, ['statecraft bin', () => bin(n)], withAnsible ? ['ansible-playbook', () => ans(n)] : undefined, work))
      sample()
      write()
    }
    // Cost per resource: 5,000 small files and directories (local transport, the same scripts).
    const many = execFileSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'bench/many-files.ts'), '5000'], { encoding: 'utf8', cwd: ROOT })
    const secs = [...many.matchAll(/(first converge|no-op): ([\d.]+) s/g)]
    const first = secs.filter((m) => m[1] === 'first converge').map((m) => Number(m[2]) * 1000)
    const noop = secs.filter((m) => m[1] === 'no-op').map((m) => Number(m[2]) * 1000)
    if (first.length && noop.length) figures.push({ what: '5,000 files and directories, local (bench/many-files.ts)', a: { label: 'no-op', ms: noop }, b: { label: 'first converge', ms: first }, noRatio: true })
    write()
    console.log('wrote bench/RESULTS.md')
  } finally {
    for (const h of hubs) h.stdin?.end()
    for (const s of servers) await s.stop()
    removeTestUser()
    rmSync(home, { recursive: true, force: true })
    // Ansible's files belong to the test user: rm as root.
    execFileSync('rm', ['-rf', work])
  }
}

await main()
