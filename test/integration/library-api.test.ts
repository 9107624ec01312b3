import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { cli, nodeRunsTs, ROOT } from '../helpers/cli.ts'
import { plainNode } from '../helpers/ext-package.ts'
import { tempDir } from '../helpers/tmp.ts'

/** A consumer project: the package linked as node_modules/statecraft, as `npm link` would. */
function consumerDir(): { dir: string; home: string } {
  if (!existsSync(`${ROOT}dist/lib/index.js`)) throw new Error('dist/ is missing: run npm run build first (npm test does)')
  const dir = tempDir('sc-consumer-')
  const home = tempDir('sc-home-')
  mkdirSync(`${dir}/node_modules`)
  symlinkSync(ROOT.replace(/\/$/, ''), `${dir}/node_modules/statecraft`, 'dir')
  return { dir, home }
}


const CONSUMER = `
import { converge, defineRecipe, directory, file, include } from 'statecraft'
import demo from 'statecraft/recipes/demo'
import { ValidationError } from 'statecraft/kit'

// Two includes of one recipe and a third one, all with an option named 'port' or 'dir'.
const service = defineRecipe({
  name: 'service',
  options: { port: { type: 'number', default: 1 }, dir: { type: 'path' } },
  resources: ({ options }) => [
    // The parent directory: the same thing for both includes and the top recipe, declared alike.
    directory({ path: options.dir.replace(/\\/[^/]+$/, ''), mode: '0755' }),
    file({ id: 'port', path: options.dir + '/port.txt', content: typeof options.port + ':' + options.port + '\\n' }),
  ],
})
const stack = defineRecipe({
  name: 'stack',
  include: [
    include(service, { prefix: 'web', options: { dir: (o) => o.root + '/web' } }),
    include(service, { prefix: 'db', options: { dir: (o) => o.root + '/db' }, defaults: { port: 5432 } }),
    include(demo, { prefix: 'demo', options: { dir: (o) => o.root + '/demo' } }),
  ],
  options: { root: { type: 'path', required: true }, port: { type: 'number', default: 80 } },
  resources: ({ options }) => [
    directory({ path: options.root, mode: '0755' }),
    file({ path: options.root + '/stack.txt', content: 'port ' + options.port + '\\n', after: ['web/port', 'db/port', 'demo/stamp'] }),
  ],
})

const slim = (r) => ({ ok: r.ok, changed: r.summary.changed, hosts: r.hosts.map((h) => ({ host: h.host, ok: h.ok, error: h.error, ids: h.resources.map((x) => x.id) })) })
const first = await converge({ recipe: stack, inventory: 'hosts.yaml', hosts: ['box'], set: { 'web.port': '9091' } })
const again = await converge({ recipe: stack, inventory: 'hosts.yaml', hosts: ['box'], set: { 'web.port': '9091' }, mode: 'plan' })
let refused = ''
try {
  await converge({ recipe: stack, inventory: 'hosts.yaml', hosts: ['box'], set: { 'db.port': 'abc' } })
} catch (e) {
  refused = (e instanceof ValidationError ? 'ValidationError: ' : 'other: ') + e.message
}
console.log(JSON.stringify({ first: slim(first), again: slim(again), refused }))
`

describe('the library from plain Node (dist/, no tsx)', () => {
  it('converges a recipe of three includes on an inventory host by name, with prefixed options from the inventory and set', async () => {
    const { dir, home } = consumerDir()
    const out = `${dir}/out`
    writeFileSync(`${dir}/consumer.mjs`, CONSUMER)
    writeFileSync(
      `${dir}/hosts.yaml`,
      `hosts:\n  box:\n    connection: local\n    groups: [apps]\n    vars:\n      root: ${out}\n      db:\n        port: 6543\ngroups:\n  apps:\n    vars:\n      web.port: 8080\n      demo.greeting: hi from the inventory\n`,
    )
    const r = await plainNode(['consumer.mjs'], dir, home)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const { first, again, refused } = JSON.parse(r.stdout)
    expect(first.hosts[0].error).toBeUndefined()
    expect(first).toMatchObject({ ok: true, hosts: [{ host: 'box', ok: true }] })
    // --set beats the group var (8080); the host var beats the include's default (5432).
    expect(readFileSync(`${out}/web/port.txt`, 'utf8')).toBe('number:9091\n')
    expect(readFileSync(`${out}/db/port.txt`, 'utf8')).toBe('number:6543\n')
    expect(readFileSync(`${out}/stack.txt`, 'utf8')).toBe('port 80\n')
    expect(readFileSync(`${out}/demo/hello.txt`, 'utf8')).toBe('hi from the inventory\n')
    const ids: string[] = first.hosts[0].ids
    expect(ids.filter((id) => id === `directory:${out}`)).toHaveLength(1)
    expect(ids).toEqual(expect.arrayContaining(['web/port', 'db/port', 'demo/stamp', `file:${out}/stack.txt`]))
    expect(ids.indexOf(`file:${out}/stack.txt`)).toBe(ids.length - 1)
    expect(again).toMatchObject({ ok: true, changed: 0 })
    expect(refused).toBe(`ValidationError: option 'db.port' of recipe 'service' must be a number (got "abc"); fix --set db.port`)
  })

  it("imports the flagship recipe as 'statecraft/recipes/invokeai' from plain Node", async () => {
    const { dir, home } = consumerDir()
    writeFileSync(`${dir}/main.mjs`, `import invokeai from 'statecraft/recipes/invokeai'\nimport prerequisites from 'statecraft/recipes/prerequisites'\nconsole.log(invokeai.name, prerequisites.name, Object.keys(invokeai.options).join(','))\n`)
    const r = await plainNode([`${dir}/main.mjs`], dir, home)
    expect(r.stderr).toBe('')
    expect(r.stdout.trim()).toMatch(/^invokeai prerequisites repo,ref,root,checkpoint,modelStore,conda,condaPrefix,.*port.*service,hfToken,hubUrl/)
  })

  it('loads a .ts recipe with the CLI of dist/ where Node strips types, and says how to otherwise', async () => {
    const { dir, home } = consumerDir()
    writeFileSync(`${dir}/recipe.ts`, `const r: { name: string; resources: () => never[] } = { name: 'bare', resources: () => [] }\nexport default r\n`)
    const r = await plainNode([`${ROOT}dist/provision.js`, '--recipe', 'recipe.ts', '--host', 'local', '--plan'], dir, home)
    if (nodeRunsTs()) {
      expect(r.code).toBe(0)
    } else {
      expect(r.code).toBe(1)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/Unknown file extension "\.ts".*cannot run TypeScript: run it under tsx \(npx tsx node_modules\/statecraft\/provision\.ts .*or use Node >= 22\.18, which strips types/)
    }
  })
})

describe('provision.ts with typed options', () => {
  it('refuses --set port=abc on a number option, naming the option and type, and passes --set port=9091 as a number', async () => {
    const home = tempDir()
    writeFileSync(
      `${home}/recipe.ts`,
      `import { defineRecipe, file } from ${JSON.stringify(`${ROOT}lib/index.ts`)}\n` +
        `export default defineRecipe({ name: 'demo', options: { port: { type: 'number', default: 9090 } },\n` +
        `  resources: ({ options }) => [file({ path: ${JSON.stringify(`${home}/port.txt`)}, content: typeof options.port + ' ' + options.port })] })\n`,
    )
    const bad = await cli(['--recipe', 'recipe.ts', '--host', 'local', '--set', 'port=abc'], { cwd: home, home })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toBe(`statecraft: option 'port' of recipe 'demo' must be a number (got "abc"); fix --set port\n`)
    expect(existsSync(`${home}/port.txt`)).toBe(false)
    const good = await cli(['--recipe', 'recipe.ts', '--host', 'local', '--set', 'port=9091'], { cwd: home, home })
    expect(good.code).toBe(0)
    expect(readFileSync(`${home}/port.txt`, 'utf8')).toBe('number 9091')
  })
})
