import { execFileSync } from 'node:child_process'
import { existsSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, ROOT, startCli } from '../helpers/cli.ts'
import { keygen } from '../helpers/sshd.ts'
import { sshdForTests } from '../helpers/sshd-per-file.ts'
import { tempDir } from '../helpers/tmp.ts'

// The first ten minutes of a new user: ten mistakes, each answered with exit 1 and a message that
// names where the mistake is and what to do. The CLI runs as a user runs it, in a directory of its
// own with a temp HOME; recipes import the library by path, as a clone's recipes/ do.
const LIB = JSON.stringify(join(ROOT, 'lib/index.ts'))
const ctx = sshdForTests()

interface Mistake {
  name: string
  /** Files of the user's directory (`recipe.ts`, …); `<dir>` in them is that directory. */
  files?: Record<string, string>
  args: string[]
  env?: Record<string, string>
  /** Exact lines (with `<dir>`, `<port>` filled in) the output must hold, stdout then stderr. */
  lines: string[]
  /** The TypeScript the user's directory has (the repository's, linked) or none. */
  typescript?: boolean
}

const MISTAKES: Mistake[] = [
  {
    name: 'a field typo in a recipe',
    files: { 'recipe.ts': `import { defineRecipe, file } from ${LIB}\nexport default defineRecipe({ name: 'typo', resources: () => [\n  file({ path: '<dir>/x', content: 'x', mod: '0644' } as never),\n] })\n` },
    args: ['--recipe', './recipe.ts', '--host', 'local', '--plan'],
    lines: [
      '      E_VALIDATION: recipe.ts:3:3: file <dir>/x: mod is not a known field; known fields: path, content, mode, owner, state, sensitive',
      'Plan: failed — 1 host (1 failed), 0 to change, 0 unchanged, 0 pending, 1 failed, 0 skipped',
    ],
  },
  {
    name: 'mode written as a number (0o755)',
    files: { 'recipe.ts': `import { defineRecipe, directory } from ${LIB}\nexport default defineRecipe({ name: 'modes', resources: () => [\n  directory({ path: '<dir>/d', mode: 0o755 as never }),\n] })\n` },
    args: ['--recipe', './recipe.ts', '--host', 'local'],
    lines: ["      E_VALIDATION: recipe.ts:3:3: directory <dir>/d: mode must be an octal string like '0644' (got 493): write it as a string so it is read as octal"],
  },
  {
    name: 'a recipe that throws while loading',
    files: { 'recipe.ts': `import { defineRecipe } from ${LIB}\nconst settings: { port?: { value: number } } = {}\nconst port = settings.port!.value\nexport default defineRecipe({ name: 'boom', resources: () => [] })\n` },
    args: ['--recipe', './recipe.ts', '--host', 'local', '--plan'],
    lines: [
      "statecraft: recipe.ts:3:29: --recipe ./recipe.ts threw while loading: TypeError: Cannot read properties of undefined (reading 'value'); fix the recipe there (npx tsx provision.ts check --recipe ./recipe.ts type-checks it)",
    ],
  },
  {
    name: 'a TypeScript type error, found by check',
    typescript: true,
    files: { 'recipe.ts': `import { defineRecipe, file } from ${LIB}\nexport default defineRecipe({ name: 'typed', resources: () => [\n  file({ path: 'x', content: 1 }),\n] })\n` },
    args: ['check', '--recipe', './recipe.ts', '--os', 'linux'],
    lines: [
      '  types: tsc --noEmit found errors; fix them in the recipe:',
      "    recipe.ts(3,21): error TS2322: Type 'number' is not assignable to type 'string'.",
      '  Linux (Debian 12, x64): E_VALIDATION: recipe.ts:3:3: file x: content must be a string (got 1)',
      'Check: failed',
    ],
  },
  {
    name: '--only with a selector that matches nothing',
    files: { 'recipe.ts': `import { defineRecipe, file } from ${LIB}\nexport default defineRecipe({ name: 'tagged', resources: () => [\n  file({ id: 'conf', path: '<dir>/x', content: 'x', tags: ['config'] }),\n] })\n` },
    args: ['--recipe', './recipe.ts', '--host', 'local', '--plan', '--only', 'confg'],
    lines: ['  E_VALIDATION: --only confg matches no resource; the ids are: conf; the tags are: config'],
  },
  {
    name: 'an unknown --recipe',
    args: ['--recipe', 'invokai', '--host', 'local', '--plan'],
    lines: ['statecraft: --recipe invokai: there is no built-in recipe of that name; the built-in recipes are: demo, invokeai, invokeai-modern, prerequisites. For your own recipe, give its path (--recipe ./my-recipe.ts)'],
  },
  {
    name: 'a host name without a hosts.yaml',
    args: ['--host', 'studio-mac', '--plan'],
    lines: [
      `statecraft: host 'studio-mac' is not known: there is no hosts.yaml here (only 'local' is built in). Create one from the example: cp ${join(ROOT, 'hosts.example.yaml')} hosts.yaml, then describe 'studio-mac' in it; or name it directly: --host user@address[:port]`,
    ],
  },
  {
    name: 'a wrong type in --set',
    files: { 'recipe.ts': `import { defineRecipe } from ${LIB}\nexport default defineRecipe({ name: 'web', options: { port: { type: 'number', default: 9090 } }, resources: () => [] })\n` },
    args: ['--recipe', './recipe.ts', '--host', 'local', '--plan', '--set', 'port=90o0'],
    lines: ['statecraft: option \'port\' of recipe \'web\' must be a number (got "90o0"); fix --set port'],
  },
  {
    name: 'a missing secret environment variable',
    files: { 'recipe.ts': `import { defineRecipe } from ${LIB}\nexport default defineRecipe({ name: 'hub', options: { hfToken: { secret: true, env: 'HF_TOKEN', required: true } }, resources: () => [] })\n` },
    args: ['--recipe', './recipe.ts', '--host', 'local', '--plan'],
    lines: ["  E_VALIDATION: host local: recipe 'hub' needs option 'hfToken': set the environment variable HF_TOKEN"],
  },
  {
    name: 'a host key that changed',
    files: { 'recipe.ts': `import { defineRecipe } from ${LIB}\nexport default defineRecipe({ name: 'none', resources: () => [] })\n` },
    args: ['--recipe', './recipe.ts', '--host', 'root@127.0.0.1:<port>', '--plan'],
    lines: [
      "  E_CONNECT: host root@127.0.0.1:<port> (root@127.0.0.1:<port>): HOST KEY CHANGED: the host offered <fp>, but known_hosts records a different key (ssh-ed25519 at line 1). This can be an attack. If the host was really reinstalled, remove the old key with ssh-keygen -R '[127.0.0.1]:<port>' and run again",
    ],
  },
]

describe('ten first mistakes: exit code and the exact message', () => {
  it.each(MISTAKES.map((m) => [m.name, m] as const))('%s', async (_, m) => {
    const dir = tempDir('sc-user-')
    const home = tempDir('sc-home-')
    const fp = (): string => execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(ctx.sshd.dir, 'host_key.pub')]).toString().split(' ')[1] as string
    const fill = (s: string): string => s.replaceAll('<dir>', dir).replaceAll('<port>', String(ctx.sshd.port)).replace('<fp>', () => fp())
    for (const [name, text] of Object.entries(m.files ?? {})) writeFileSync(join(dir, name), fill(text))
    if (m.typescript) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
    if (m.name === 'a host key that changed') {
      // The client key the server accepts, and a known_hosts entry with another key for that address.
      execFileSync('cp', ['-r', join(ctx.home, '.ssh'), home])
      const other = keygen(join(tempDir(), 'k')).split(' ').slice(0, 2).join(' ')
      writeFileSync(join(home, '.ssh', 'known_hosts'), `[127.0.0.1]:${ctx.sshd.port} ${other}\n`)
    }
    const r = await cli(m.args.map(fill), { cwd: dir, home, env: m.env ?? {} })
    const out = `${r.stdout}${r.stderr}`
    expect(r.code).toBe(1)
    for (const l of m.lines) expect(out.split('\n')).toContain(fill(l))
  })
})

describe('the first runs', () => {
  it('--help --recipe X lists its options with types, defaults and the variable of each secret, and explains round trips', async () => {
    const dir = tempDir('sc-user-')
    writeFileSync(
      join(dir, 'recipe.ts'),
      `import { defineRecipe } from ${LIB}\nexport default defineRecipe({ name: 'hub', description: 'models from the hub', options: {\n` +
        `  port: { type: 'number', default: 9090, description: 'web port' },\n  sampler: { type: 'enum', values: ['ddim', 'k_lms'], default: 'ddim' },\n` +
        `  hfToken: { secret: true, env: 'HF_TOKEN', required: true, description: 'Hugging Face token' },\n}, resources: () => [] })\n`,
    )
    const r = await cli(['--help', '--recipe', './recipe.ts'], { cwd: dir, home: tempDir() })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('round trips: the commands sent to the host and waited for')
    expect(r.stdout).toContain(
      [
        'Recipe hub (--recipe ./recipe.ts): models from the hub',
        'Its options (--set KEY=VALUE, or host/group vars in the inventory; secrets only from their variable):',
        '  port     number      default 9090; web port',
        '  sampler  ddim|k_lms  default "ddim"',
        '  hfToken  any         secret: from the environment variable HF_TOKEN; required; Hugging Face token',
      ].join('\n'),
    )
  })

  it('a recipe that throws while building its resources is E_RECIPE at its own line, counted as failed', async () => {
    const dir = tempDir('sc-user-')
    writeFileSync(
      join(dir, 'recipe.ts'),
      `import { defineRecipe } from ${LIB}\nexport default defineRecipe({ name: 'boom', options: { models: { default: '' } }, resources: ({ options }) => {\n  const [first] = JSON.parse(String(options.models)) as string[]\n  return []\n} })\n`,
    )
    const r = await cli(['--recipe', './recipe.ts', '--host', 'local', '--plan'], { cwd: dir, home: tempDir() })
    expect(r.code).toBe(1)
    const lines = r.stdout.split('\n')
    expect(lines).toContain('  ! recipe:boom (failed)')
    expect(lines.find((l) => l.includes('E_RECIPE'))).toMatch(
      /^ {6}E_RECIPE: recipe\.ts:3:\d+: recipe 'boom' failed while building its resources: SyntaxError: .*; fix the recipe there \(npx tsx provision\.ts check --recipe FILE type-checks it\)$/,
    )
    expect(lines).toContain('Plan: failed — 1 host (1 failed), 0 to change, 0 unchanged, 0 pending, 1 failed, 0 skipped')
  })

  it('--host user@address:port reaches an SSH host with no inventory, through known_hosts', async () => {
    const dir = tempDir('sc-user-')
    const home = tempDir('sc-home-')
    execFileSync('cp', ['-r', join(ctx.home, '.ssh'), home])
    writeFileSync(join(dir, 'recipe.ts'), `import { defineRecipe, file } from ${LIB}\nexport default defineRecipe({ name: 'one', resources: () => [file({ path: '${dir}/x', content: 'x' })] })\n`)
    const target = `root@127.0.0.1:${ctx.sshd.port}`
    // The lock stays in the temp home (same machine), never in root's real home.
    const r = await cli(['--recipe', './recipe.ts', '--host', target, '--plan', '--lock-path', `${home}/run.lock`], { cwd: dir, home })
    expect(r.code).toBe(2)
    expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^root@127\\.0\\.0\\.1:${ctx.sshd.port}: changes pending \\(recipe one, \\d+ ms, 3 round trips\\)$`))
    expect(r.stdout).toContain(`create file ${dir}/x (1 bytes)`)
  })

  it('a plan with changes says "changes pending" and names the recipe, not "ok"', async () => {
    const home = tempDir()
    const r = await cli(['--recipe', 'demo', '--host', 'local', '--plan'], { cwd: home, home })
    expect(r.code).toBe(2)
    expect(r.stdout.split('\n')[0]).toMatch(/^local: changes pending \(recipe demo, \d+ ms, \d round trips\)$/)
  })

  it('check without TypeScript for the recipe says the exact commands to run, and fails', async () => {
    const dir = tempDir('sc-user-')
    writeFileSync(join(dir, 'recipe.ts'), `import { defineRecipe } from ${LIB}\nexport default defineRecipe({ name: 'none', resources: () => [] })\n`)
    const r = await cli(['check', '--recipe', './recipe.ts'], { cwd: dir, home: tempDir() })
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(
      `  types: not checked: no TypeScript is installed for ${dir}. Install it and check again:\n` +
        '    npm install --save-dev typescript && npx tsc --noEmit --strict --module nodenext --allowImportingTsExtensions --skipLibCheck recipe.ts\n',
    )
    expect(r.stdout).toContain('  Windows (11, x64): ok, 0 resources valid\n')
  })

  it('the npm package holds hosts.example.yaml, which the missing-inventory message tells users to copy', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path)
    expect(files).toContain('hosts.example.yaml')
    expect(files).toContain('provision.ts')
  })

  it('a reader that goes away (| head) ends the run quietly, the lock released', async () => {
    const home = tempDir()
    const dir = tempDir('sc-user-')
    writeFileSync(join(dir, 'hosts.yaml'), 'hosts:\n  one: { connection: local }\n  two: { connection: local }\n')
    const run = startCli(['--recipe', 'demo', '--host', 'one,two', '--concurrency', '1', '--set', `dir=${dir}/demo`], { cwd: dir, home })
    run.child.stdout?.destroy()
    const r = await run.done
    expect(r.stderr).toBe('')
    expect([0, 130]).toContain(r.code)
    expect(existsSync(join(home, '.statecraft', 'run.lock'))).toBe(false)
  })
})
