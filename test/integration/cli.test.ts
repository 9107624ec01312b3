import { execFileSync } from 'node:child_process'
import { existsSync, lstatSync, readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { cli, ROOT, startCli } from '../helpers/cli.ts'
import { tempDir } from '../helpers/tmp.ts'

const INDEX = `${ROOT}lib/index.ts`

function recipeFile(dir: string, body: string): string {
  const p = `${dir}/recipe.ts`
  writeFileSync(p, `import { command, defineRecipe, file, line } from ${JSON.stringify(INDEX)}\n${body}\n`)
  return p
}

describe('provision.ts', () => {
  it('prints help and version', async () => {
    const home = tempDir()
    const help = await cli(['--help'], { cwd: home, home })
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/Usage: npx tsx provision.ts/)
    const version = await cli(['--version'], { cwd: home, home })
    expect(version.stdout.trim()).toBe(`statecraft ${JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).version}`)
  })

  it('plans the default recipe (invokeai) on this machine with no network: exit 2, an unreachable hub is a warning, nothing is touched', async () => {
    const home = tempDir()
    // A port nothing listens on: the hub is unreachable whatever network this machine has.
    const r = await cli(['--host', 'local', '--plan', '--json'], { cwd: home, home, env: { HF_TOKEN: 'hf_clitesttoken', HF_ENDPOINT: 'http://127.0.0.1:9' } })
    expect(r.code).toBe(2)
    const host = JSON.parse(r.stdout).hosts[0]
    expect(host.resources.map((x: { id: string }) => x.id)).toEqual(expect.arrayContaining(['preflight', 'prereq/conda', 'prereq/rustup', 'invokeai', 'checkpoint', 'env', 'preload']))
    // The checkpoint is downloaded into the model store (its resource's default id) and linked as `checkpoint`.
    expect(host.resources.find((x: { id: string }) => x.id.startsWith('download:')).changes[0]).toMatch(/^download http:\/\/127\.0\.0\.1:9\/CompVis\/stable-diffusion-v-1-4-original\/resolve\/main\/sd-v1-4-full-ema\.ckpt/)
    expect(host.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^download:.*\/sd-v1-4-full-ema\.ckpt: http:\/\/127\.0\.0\.1:9\/.* not checked \(curl: \(7\)/)]))
    expect(existsSync(`${home}/invokeai`)).toBe(false)
    expect(r.stdout).not.toContain('hf_clitesttoken')
  })

  it('check validates the default recipe for Linux, macOS and Windows (a Mac\'s LaunchAgent plist built by Node\'s own loader)', async () => {
    const home = tempDir()
    const r = await cli(['check'], { cwd: home, home })
    expect(r.stdout).toMatch(/Checking recipe invokeai/)
    for (const os of ['Linux', 'macOS', 'Windows']) expect(r.stdout).toMatch(new RegExp(`${os} \\(.*\\): ok, 14 resources valid`))
    expect(r.code).toBe(0)
  })

  it('runs the demo recipe with no inventory: plan exits 2, apply 0, plan again 0', async () => {
    const home = tempDir()
    const plan = await cli(['--recipe', 'demo', '--host', 'local', '--plan'], { cwd: home, home })
    expect(plan.stderr).toBe('')
    expect(plan.code).toBe(2)
    expect(plan.stdout).toMatch(/create directory .*statecraft-demo/)
    expect(existsSync(`${home}/statecraft-demo`)).toBe(false)
    const apply = await cli(['--recipe', 'demo', '--host', 'local'], { cwd: home, home })
    expect(apply.code).toBe(0)
    expect(readFileSync(`${home}/statecraft-demo/hello.txt`, 'utf8')).toBe('hello from statecraft\n')
    const again = await cli(['--recipe', 'demo', '--host', 'local', '--plan', '--json'], { cwd: home, home })
    expect(again.code).toBe(0)
    const report = JSON.parse(again.stdout)
    expect(report).toMatchObject({ schemaVersion: 4, mode: 'plan', ok: true, summary: { hosts: 1, failedHosts: 0, changed: 0, pending: 0 } })
    expect(report.hosts[0]).toMatchObject({ host: 'local', ok: true, connections: 1, roundTrips: 3 })
    expect(Object.keys(report.hosts[0].resources[0]).sort()).toEqual(['changes', 'id', 'ms', 'status', 'type'])
  })

  it('applies --set, --only and --skip', async () => {
    const home = tempDir()
    const only = `directory:${home}/statecraft-demo,file:${home}/statecraft-demo/hello.txt`
    const r = await cli(['--recipe', 'demo', '--host', 'local', '--set', 'greeting=hi there', '--only', only, '--json'], { cwd: home, home })
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.hosts[0].resources.map((x: { id: string }) => x.id)).toEqual(only.split(','))
    expect(existsSync(`${home}/statecraft-demo/conf`)).toBe(false)
    expect(readFileSync(`${home}/statecraft-demo/hello.txt`, 'utf8')).toBe('hi there\n')
    const skip = await cli(['--recipe', 'demo', '--host', 'local', '--skip', 'stamp', '--plan', '--json'], { cwd: home, home })
    expect(JSON.parse(skip.stdout).hosts[0].resources.some((x: { id: string }) => x.id === 'stamp')).toBe(false)
  })

  it.each([
    [['--recipe', 'demo', '--host', 'local', '--set', 'colour=red'], /--set colour: recipe 'demo' has no option 'colour'. Valid options: dir, greeting/],
    [['--host', 'nowhere'], /host 'nowhere' is not known: there is no hosts.yaml here \(only 'local' is built in\)\. Create one from the example: cp \S*hosts.example.yaml hosts.yaml/],
    [['--plan'], /no hosts given: use --host NAME/],
    [['--host', 'local', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['--host', 'local', '--recipe', 'nosuch'], /--recipe nosuch: there is no built-in recipe of that name/],
    [['--host', 'local', '--concurrency', '0'], /--concurrency must be a whole number of at least 1/],
    [['--host', 'local', '--reboot-timeout', 'soon'], /--reboot-timeout must be a positive number of seconds \(got "soon"\)/],
  ])('bad input %j exits 1 with a clear message', async (args, err) => {
    const home = tempDir()
    const r = await cli(args, { cwd: home, home })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(err)
    expect(r.stdout).toBe('')
  })

  it('a step that needs a restart: exit 1, status reboot-required in JSON and text; --reboot never restarts this machine', async () => {
    const home = tempDir()
    const recipe = recipeFile(home, `export default defineRecipe({ name: 'r', resources: () => [command({ id: 'fw', argv: ['sh', '-c', 'exit 194'], creates: '${home}/fw', rebootExitCodes: [194] })] })`)
    const json = await cli(['--host', 'local', '--recipe', recipe, '--json'], { cwd: home, home })
    expect(json.code).toBe(1)
    const report = JSON.parse(json.stdout)
    expect(report).toMatchObject({ ok: false, summary: { failedHosts: 1 } })
    expect(report.hosts[0]).toMatchObject({ host: 'local', ok: false, status: 'reboot-required', rebootRequired: true, reboots: [], error: { code: 'E_REBOOT_REQUIRED' } })
    const text = await cli(['--host', 'local', '--recipe', recipe], { cwd: home, home })
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/^local: REBOOT REQUIRED /m)
    expect(text.stdout).toMatch(/Apply: failed — 1 host \(1 failed, 1 of them reboot required\)/)
    const reboot = await cli(['--host', 'local', '--recipe', recipe, '--reboot', '--json'], { cwd: home, home })
    expect(reboot.code).toBe(1)
    expect(JSON.parse(reboot.stdout).hosts[0]).toMatchObject({ status: 'reboot-required', reboots: [], error: { message: expect.stringMatching(/--reboot does not restart the machine statecraft runs on \(connection: local\)/) } })
  })

  it('reports a bad inventory with its position', async () => {
    const home = tempDir()
    writeFileSync(`${home}/hosts.yaml`, 'hosts:\n  mac:\n    address: 10.0.0.2\n    port: 99999\n')
    const r = await cli(['--host', 'mac', '--plan'], { cwd: home, home })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(new RegExp(`${home}/hosts.yaml:4:11: hosts.mac.port:`))
  })

  it('keeps secrets out of plans, diffs, JSON and errors; --diff shows other content', async () => {
    const home = tempDir()
    const dir = tempDir()
    const token = 'hf_SeCrEtToKeN123456'
    const recipe = recipeFile(dir, `export default defineRecipe({
  name: 'secretive',
  options: { hfToken: { secret: true, env: 'HF_TOKEN', required: true } },
  resources: ({ options }) => [
    file({ path: '${dir}/token', content: String(options.hfToken), mode: '0600' }),
    file({ path: '${dir}/plain', content: 'visible ' + String(options.hfToken).length + '\\n' }),
    command({ id: 'fail', argv: ['sh', '-c', 'echo "bad $0" >&2; exit 1', String(options.hfToken)], creates: '${dir}/never' }),
  ],
})`)
    const env = { HF_TOKEN: token }
    const plan = await cli(['--recipe', recipe, '--host', 'local', '--plan', '--diff'], { cwd: dir, home, env })
    expect(plan.code).toBe(2)
    expect(plan.stdout).toMatch(/\+visible 20/)
    const apply = await cli(['--recipe', recipe, '--host', 'local', '--diff', '--json', '--verbose'], { cwd: dir, home, env })
    expect(apply.code).toBe(1)
    expect(JSON.parse(apply.stdout).hosts[0].resources[2].error.message).toMatch(/bad \*{8}/)
    for (const out of [plan.stdout, plan.stderr, apply.stdout, apply.stderr]) expect(out).not.toContain(token)
    expect(readFileSync(`${dir}/token`, 'utf8')).toBe(token)
    const onArgv = await cli(['--recipe', recipe, '--host', 'local', '--set', `hfToken=${token}`], { cwd: dir, home, env })
    expect(onArgv.code).toBe(1)
    expect(onArgv.stderr).toMatch(/is secret and is not accepted on the command line: set the environment variable HF_TOKEN/)
    expect(onArgv.stderr).not.toContain(token)
  })

  it('Ctrl-C stops the run, releases the lock and exits 130', async () => {
    const home = tempDir()
    const dir = tempDir()
    const recipe = recipeFile(dir, `export default defineRecipe({ name: 'slow', resources: () => [
  command({ id: 'slow', argv: ['sh', '-c', 'touch ${dir}/started; sleep 30'], creates: '${dir}/never' }),
] })`)
    const run = startCli(['--recipe', recipe, '--host', 'local'], { cwd: dir, home })
    for (let i = 0; i < 400 && !existsSync(`${dir}/started`); i++) await new Promise((r) => setTimeout(r, 25))
    run.child.kill('SIGINT')
    const r = await run.done
    expect(r.code).toBe(130)
    expect(r.stderr).toMatch(/interrupted; releasing locks/)
    expect(() => lstatSync(`${home}/.statecraft/run.lock`)).toThrow()
  })
})

describe("import { … } from 'statecraft'", () => {
  it('works from plain Node through the built dist/ with type declarations', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
      import { converge, defineRecipe, file, directory, line, symlink, command, ValidationError } from 'statecraft'
      console.log([typeof converge, typeof defineRecipe, typeof file, typeof directory, typeof line, typeof symlink, typeof command, typeof ValidationError].join(','))
    `], { cwd: ROOT }).toString()
    expect(out.trim()).toBe(Array(8).fill('function').join(','))
    expect(existsSync(`${ROOT}dist/lib/index.d.ts`)).toBe(true)
    expect(readFileSync(`${ROOT}dist/lib/index.d.ts`, 'utf8')).toMatch(/export \{ converge \}/)
  })
})
