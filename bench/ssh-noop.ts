/**
 * No-op converge over SSH, whole process, for 1 and 20 hosts, next to `ssh host true` (the floor)
 * and Ansible on the same workload. Run as root on a machine with openssh-server, sudo and
 * ansible-core (apt-get install openssh-server sudo ansible-core):
 *
 *   npx tsx bench/ssh-noop.ts [runs]
 *
 * Hosts are loopback addresses served by this script's own sshd instances, logged into as the
 * test user (sct…, removed at the end; shell: dash, so no start-up files skew the numbers). Nothing here runs in
 * `npm test`: speed is reported, never asserted.
 */
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { $ } from 'zx'
import { controllerHome, ensureTestUser, removeTestUser, startFleet, TEST_USER, type TestSshd } from '../test/helpers/sshd.ts'

const RUNS = Number(process.argv[2] ?? 7)
const ROOT = fileURLToPath(new URL('../', import.meta.url))
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

/** Async on purpose: the sshd instances are our children and log to pipes we must keep reading. */
async function time(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, okCodes = [0]): Promise<number> {
  const t0 = performance.now()
  const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => (out += b.toString()))
  child.stderr.on('data', (b: Buffer) => (out += b.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  const ms = performance.now() - t0
  if (!okCodes.includes(code ?? -1)) {
    const failed = out.split('\n').filter((l) => /FAILED|E_[A-Z_]+/.test(l)).slice(0, 20).join('\n')
    throw new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${failed || out.slice(-2000)}`)
  }
  return ms
}

async function measure(label: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, okCodes = [0]): Promise<number> {
  await time(cmd, args, env, cwd, okCodes) // warm-up (and, for statecraft/Ansible, the converging run)
  const runs: number[] = []
  for (let i = 0; i < RUNS; i++) runs.push(await time(cmd, args, env, cwd, okCodes))
  const ms = median(runs)
  console.log(`${label.padEnd(58)} ${ms.toFixed(0).padStart(7)} ms`)
  return ms
}

async function main(): Promise<void> {
  ensureTestUser()
  const home = mkdtempSync(join(tmpdir(), 'sc-bench-home-'))
  const work = mkdtempSync(join(tmpdir(), 'sc-bench-'))
  chmodSync(work, 0o777)
  const servers: TestSshd[] = []
  try {
    const { pub } = controllerHome(home)
    const fleet = await startFleet(pub, home, 20, 21, 'h')
    servers.push(...fleet.servers)
    const hosts = fleet.hosts
    writeFileSync(join(work, 'hosts.yaml'), `hosts:\n${hosts.map((h) => `  ${h.name}:\n    address: ${h.address}\n    port: ${h.port}\n    user: ${TEST_USER}\n    lockPath: ${work}/${h.name}.lock\n    groups: [all20]\n`).join('')}groups:\n  all20: {}\n`)
    const env = { ...process.env, HOME: home, NO_COLOR: '1' }
    const key = join(home, '.ssh', 'id_ed25519')
    const first = hosts[0]!
    const node = process.execPath
    const entry = existsSync(join(ROOT, 'dist/provision.js')) ? join(ROOT, 'dist/provision.js') : ''
    if (!entry) throw new Error('run npm run build first (dist/provision.js)')
    const sc = (target: string[]): string[] => [entry, '--recipe', join(ROOT, 'bench/workload.mjs'), '--set', `root=${work}/sc`, ...target, '--concurrency', '20']
    console.log(`node ${process.version}, ${RUNS} runs each, medians\n`)
    const floor = await measure('ssh host true (new connection)', 'ssh', ['-i', key, '-o', `UserKnownHostsFile=${join(home, '.ssh', 'known_hosts')}`, '-F', '/dev/null', '-p', String(first.port), `${TEST_USER}@${first.address}`, 'true'], env, work)
    const sc1 = await measure('statecraft no-op, 1 host (node dist/provision.js)', node, [...sc(['--host', 'h01'])], env, work)
    const sc20 = await measure('statecraft no-op, 20 hosts', node, [...sc(['--group', 'all20'])], env, work)
    const results: [string, number][] = [['statecraft 1 host / ssh true', sc1 / floor]]
    if ((await $({ quiet: true, nothrow: true })`ansible-playbook --version`).exitCode === 0) {
      writeFileSync(join(work, 'inventory.ini'), hosts.map((h) => `${h.name} ansible_host=${h.address} ansible_port=${h.port}`).join('\n') + '\n')
      writeFileSync(join(work, 'playbook.yml'), `- hosts: all
  vars: { root: "${work}/ansible/{{ inventory_hostname }}" }
  tasks:
    - file: { path: "{{ root }}", state: directory, mode: "0755" }
    - file: { path: "{{ root }}/invokeai/models/ldm/stable-diffusion-v1", state: directory, mode: "0755" }
    - file: { path: "{{ root }}/invokeai/configs", state: directory, mode: "0755" }
    - copy: { dest: "{{ root }}/invokeai/configs/invokeai.init", content: "--web\\n--host=127.0.0.1\\n--port=9090\\n", mode: "0644" }
    - lineinfile: { path: "{{ root }}/profile", regexp: "^export PYTORCH_ENABLE_MPS_FALLBACK=", line: "export PYTORCH_ENABLE_MPS_FALLBACK=1", create: true }
    - command: { cmd: "touch {{ root }}/stamp", creates: "{{ root }}/stamp" }
`)
      const aenv = { ...env, ANSIBLE_HOST_KEY_CHECKING: 'False', ANSIBLE_PRIVATE_KEY_FILE: key, ANSIBLE_REMOTE_USER: TEST_USER, ANSIBLE_FORKS: '20', ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3', ANSIBLE_NOCOLOR: '1' }
      const a1 = await measure('ansible-playbook no-op, 1 host (facts on)', 'ansible-playbook', ['-i', 'inventory.ini', '-l', 'h01', 'playbook.yml'], aenv, work)
      const a20 = await measure('ansible-playbook no-op, 20 hosts, forks=20', 'ansible-playbook', ['-i', 'inventory.ini', 'playbook.yml'], aenv, work)
      results.push(['Ansible / statecraft, 1 host', a1 / sc1], ['Ansible / statecraft, 20 hosts', a20 / sc20])
    } else {
      console.log('ansible-playbook not installed: apt-get install ansible-core for the side-by-side')
    }
    console.log('\nratios')
    for (const [k, v] of results) console.log(`  ${k.padEnd(40)} ${v.toFixed(1)}x`)
  } finally {
    for (const s of servers) await s.stop()
    removeTestUser()
    rmSync(home, { recursive: true, force: true })
    // Ansible's files belong to the test user: rm as root, not fs.rmSync's permission-checked walk.
    await $({ quiet: true })`rm -rf ${work}`
  }
}

await main()
