import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { cli, ROOT, tsNodeArgs } from '../helpers/cli.ts'
import { testcases, validateJunit } from '../helpers/junit.ts'
import { tempDir } from '../helpers/tmp.ts'

const INDEX = `${ROOT}lib/index.ts`

interface Res {
  id: string
  status: string
  changes: string[]
}
const plan = (stdout: string): { hosts: { host: string; connections: number; roundTrips: number; resources: Res[]; error?: { code: string } }[] } => JSON.parse(stdout)
const shape = (rs: Res[]): string[][] => rs.map((r) => [r.id, r.status, ...r.changes])

describe('--snapshot and --simulate', () => {
  it('round trip on this machine: a simulation plans what the live plan plans, fresh and converged; a new resource is unknown, exit 1', async () => {
    const home = tempDir()
    const io = { cwd: home, home }
    const rec = await cli(['--recipe', 'demo', '--host', 'local', '--snapshot', 'fresh.json'], io)
    expect(rec.stderr).toBe('statecraft: snapshot of local written to fresh.json\n')
    expect(rec.code).toBe(2)
    const live = await cli(['--recipe', 'demo', '--host', 'local', '--plan', '--json'], io)
    // Another HOME, so nothing of this machine's run could answer the simulation.
    const sim = await cli(['--simulate', 'fresh.json', '--json'], { cwd: home, home: tempDir() })
    expect([live.code, sim.code]).toEqual([2, 2])
    const simulated = plan(sim.stdout).hosts[0]!
    expect(shape(simulated.resources)).toEqual(shape(plan(live.stdout).hosts[0]!.resources))
    expect(simulated.resources.filter((r) => r.status === 'changed')).toHaveLength(7)
    expect([simulated.connections, simulated.roundTrips]).toEqual([0, 0])

    expect((await cli(['--recipe', 'demo', '--host', 'local'], io)).code).toBe(0)
    const conv = await cli(['--recipe', 'demo', '--host', 'local', '--snapshot', 'converged.json'], io)
    expect(conv.code).toBe(0)
    const snap = readFileSync(`${home}/converged.json`, 'utf8')
    // What the files hold stays on the host: hashes and sizes only.
    expect(snap).not.toContain(Buffer.from('hello from statecraft\n').toString('hex'))
    expect(JSON.parse(snap)).toMatchObject({ statecraftSnapshot: 1, recipe: 'demo', host: 'local', origin: 'recorded from host local by a plan', statecraft: expect.any(String) })
    const again = await cli(['--simulate', 'converged.json'], io)
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/Plan: nothing to do — 1 host \(0 failed\), 0 to change, 7 unchanged/)

    // The change under review adds a resource the snapshot never probed.
    writeFileSync(
      `${home}/review.ts`,
      `import demo from ${JSON.stringify(`${ROOT}recipes/demo.ts`)}\nimport { defineRecipe, file } from ${JSON.stringify(INDEX)}\n` +
        'export default defineRecipe({ ...demo, resources: (ctx) => [...demo.resources(ctx), file({ path: `${ctx.options.dir}/new.txt`, content: "new\\n" })] })\n',
    )
    const review = await cli(['--simulate', 'converged.json', '--recipe', 'review.ts', '--junit', 'review.xml'], io)
    expect(review.code).toBe(1)
    expect(review.stdout).toContain(`file:${home}/statecraft-demo/new.txt (pending)\n      unknown: not in snapshot`)
    expect(review.stdout).toContain('0 to change, 7 unchanged, 1 pending')
    const xml = readFileSync(`${home}/review.xml`, 'utf8')
    expect(validateJunit(xml).ok).toBe(true)
    expect(testcases(xml).filter(([, , o]) => o === 'failure').map(([, n]) => n)).toEqual([`file:${home}/statecraft-demo/new.txt`, '(host)'])
    expect(xml).toContain('type="E_SNAPSHOT"')
  })

  it('npm run snapshots records Debian 12 here and builds macOS and Windows: each converged one plans nothing to do', async () => {
    const out = tempDir()
    const r = spawnSync(process.execPath, [...tsNodeArgs(), `${ROOT}scripts/snapshots.ts`, 'demo', '--out', out], { encoding: 'utf8', env: { ...process.env, HOME: tempDir() } })
    expect(r.status, r.stderr).toBe(0)
    expect(readdirSync(out).sort()).toEqual(['debian12-converged.json', 'debian12-fresh.json', 'macos-arm64-converged.json', 'macos-arm64-fresh.json', 'windows11-converged.json', 'windows11-fresh.json'])
    expect(JSON.parse(readFileSync(`${out}/debian12-fresh.json`, 'utf8')).origin).toMatch(/^recorded from a linux host \(debian 12\) by a plan/)
    for (const os of ['debian12', 'macos-arm64', 'windows11']) {
      const home = tempDir()
      const fresh = await cli(['--simulate', `${out}/${os}-fresh.json`], { cwd: home, home })
      const conv = await cli(['--simulate', `${out}/${os}-converged.json`], { cwd: home, home })
      expect([os, fresh.code, conv.code]).toEqual([os, 2, 0])
    }
  })

  it('refuses --snapshot without exactly one host, and --simulate with hosts', async () => {
    const home = tempDir()
    const two = await cli(['--host', 'local,other', '--snapshot', 's.json'], { cwd: home, home })
    expect([two.code, two.stderr]).toEqual([1, 'statecraft: --snapshot records one host: give exactly one --host NAME (got local, other)\n'])
    const mixed = await cli(['--host', 'local', '--simulate', 's.json'], { cwd: home, home })
    expect([mixed.code, mixed.stderr]).toEqual([1, 'statecraft: --simulate plans the hosts recorded in the snapshots: leave out --host and --group\n'])
  })

  it('a simulation opens no socket at all (strace, on the built CLI: no TypeScript loader in between)', async () => {
    const out = tempDir('sc-build-')
    const build = spawnSync(`${ROOT}node_modules/.bin/tsc`, ['-p', `${ROOT}tsconfig.build.json`, '--outDir', out], { encoding: 'utf8' })
    expect(build.status, build.stdout + build.stderr).toBe(0)
    symlinkSync(`${ROOT}node_modules`, `${out}/node_modules`)
    const trace = `${tempDir()}/trace`
    const run = (args: string[], env: Record<string, string> = {}) => spawnSync('strace', ['-f', '-qq', '-e', 'trace=socket,socketpair,connect', '-o', trace, process.execPath, ...args], { encoding: 'utf8', cwd: out, env: { ...process.env, HOME: tempDir(), ...env } })
    // The tracer sees a socket when there is one.
    run(['-e', "require('node:net').connect(9, '127.0.0.1').on('error', () => {})"])
    expect(readFileSync(trace, 'utf8')).toMatch(/socket\(AF_INET/)
    const sim = run([`${out}/provision.js`, '--simulate', `${ROOT}recipes/snapshots/demo/macos-arm64-fresh.json`])
    expect(sim.status, sim.stderr).toBe(2)
    expect(sim.stdout).toContain('studio-mac: changes pending (recipe demo')
    expect(sim.stdout).toContain('7 to change')
    expect(readFileSync(trace, 'utf8').split('\n').filter((l) => /socket|connect/.test(l))).toEqual([])
    // recipes/invokeai, whose probes would ask the hub and the port: planned from the fresh-Mac
    // snapshot, the whole plan, and still not one socket (not even AF_UNIX) and no connect.
    const ai = run([`${out}/provision.js`, '--simulate', `${ROOT}recipes/snapshots/invokeai/macos-arm64-fresh.json`, '--recipe', 'invokeai'], { HF_TOKEN: 'hf_any_token_of_the_reviewer' })
    expect(ai.status, ai.stderr).toBe(2)
    for (const id of ['prereq/xcode (will change)', 'prereq/conda (will change)', 'prereq/rustup (pending)', 'invokeai (pending)', 'sd-v1-4-full-ema.ckpt (will change)', 'checkpoint (pending)', 'env (pending)', 'service (pending)', 'health (pending)']) expect(ai.stdout).toContain(id)
    expect(ai.stdout).toContain('4 to change, 1 unchanged, 9 pending, 0 failed')
    expect(readFileSync(trace, 'utf8')).toBe('')
  })
})

describe('--junit', () => {
  it('one testcase per host and resource: a passing, a failing and a reboot-required host of one run validate against the XSD', async () => {
    const home = tempDir()
    writeFileSync(
      `${home}/r.ts`,
      `import { command, defineRecipe, file } from ${JSON.stringify(INDEX)}\n` +
        "export default defineRecipe({ name: 'ci', options: { fail: { type: 'string', default: 'no' } }, resources: ({ options, host }) => [\n" +
        '  file({ path: `~/ci-${host.name}.txt`, content: "ok\\n" }),\n' +
        "  command({ id: 'check', argv: options.fail === 'yes' ? ['sh', '-c', 'echo broken >&2; exit 3'] : options.fail === 'reboot' ? ['sh', '-c', 'exit 194'] : ['touch', `done-${host.name}`], cwd: '~', creates: `~/done-${host.name}`, rebootExitCodes: [194] }),\n" +
        "  file({ path: `~/after-${host.name}.txt`, content: 'x', after: ['check'] }),\n] })\n",
    )
    writeFileSync(`${home}/hosts.yaml`, 'hosts:\n  good:\n    connection: local\n  bad:\n    connection: local\n    vars:\n      fail: "yes"\n  fw:\n    connection: local\n    vars:\n      fail: reboot\n')
    const r = await cli(['--recipe', 'r.ts', '--host', 'good,bad,fw', '--concurrency', '1', '--junit', 'ci.xml'], { cwd: home, home })
    expect(r.code).toBe(1)
    const xml = readFileSync(`${home}/ci.xml`, 'utf8')
    const v = validateJunit(xml)
    expect(v.output).toMatch(/validates/)
    expect(testcases(xml)).toEqual([
      ['statecraft.good', `file:${home}/ci-good.txt`, 'passed'],
      ['statecraft.good', 'check', 'passed'],
      ['statecraft.good', `file:${home}/after-good.txt`, 'passed'],
      ['statecraft.bad', `file:${home}/ci-bad.txt`, 'passed'],
      ['statecraft.bad', 'check', 'failure'],
      ['statecraft.bad', `file:${home}/after-bad.txt`, 'skipped'],
      ['statecraft.fw', `file:${home}/ci-fw.txt`, 'passed'],
      ['statecraft.fw', 'check', 'failure'],
      ['statecraft.fw', `file:${home}/after-fw.txt`, 'skipped'],
      ['statecraft.fw', '(host)', 'failure'],
    ])
    expect(xml).toMatch(/<failure message="host fw: sh -c [^"]* finished \(exit 194\) and needs the host to restart[^"]*" type="E_REBOOT_REQUIRED">reboot-required: /)
    expect(xml).toContain('<property name="status" value="reboot-required"/>')
    expect(xml).toMatch(/<failure message="sh -c [^"]*exited with 3: broken" type="E_COMMAND">/)
    expect(xml).toContain('<skipped message="skipped: check failed"/>')
  })
})
