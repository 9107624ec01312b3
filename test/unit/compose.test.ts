import { describe, expect, it } from 'vitest'
import { composeResources } from '../../lib/core/compose.ts'
import { checkSetKeys, defineRecipe, include, resolveOptions, type Recipe } from '../../lib/core/recipe.ts'
import { command, directory, file } from '../../lib/index.ts'
import { linuxFacts } from '../helpers/facts.ts'

/** Options resolved as the engine does, then the composed resources as (id, after, notify) rows. */
function run(recipe: Recipe<any>, layers: Parameters<typeof resolveOptions>[1] = {}) {
  const options = resolveOptions(recipe, { env: {}, ...layers }, 'box')
  const decls = composeResources(recipe, { facts: linuxFacts, options, host: { name: 'box', vars: {} } })
  return { options, decls, ids: decls.map((r) => r.id ?? r.kind.defaultId(r.desired)) }
}

const prereqs = defineRecipe({
  name: 'prereqs',
  options: { dir: { type: 'path', default: '/opt/pre' }, port: { type: 'number', default: 1 } },
  resources: ({ options }) => [
    directory({ path: '/opt/shared', mode: '0755' }),
    command({ id: 'setup', argv: ['true'], creates: `${options.dir}/done` }),
    file({ path: `${options.dir}/port`, content: `${options.port}\n`, after: ['setup', 'directory:/opt/shared'], notify: ['reload'] }),
    command({ id: 'reload', argv: ['true'], onlyIfNotified: true }),
  ],
})

describe('include()', () => {
  const app = defineRecipe({
    name: 'app',
    include: [include(prereqs, { prefix: 'prereq' })],
    options: { dir: { type: 'path', default: '/opt/app' }, port: { type: 'number', default: 2 } },
    resources: ({ options }) => [file({ id: 'conf', path: `${options.dir}/port`, content: `${options.port}\n`, after: ['prereq/setup'] })],
  })

  it('addresses an included recipe\'s options as prefix.option from --set and host vars; each recipe sees its own, un-prefixed', () => {
    const { options, decls } = run(app, { set: { 'prereq.port': '7' }, hostVars: { 'prereq.dir': '/srv/pre', port: 3 } })
    expect(options).toEqual({ dir: '/opt/app', port: 3, 'prereq.dir': '/srv/pre', 'prereq.port': 7 })
    const contents = decls.filter((r) => r.kind.type === 'file').map((r) => [r.desired.path, r.desired.content])
    expect(contents).toEqual([['/srv/pre/port', '7\n'], ['/opt/app/port', '3\n']])
    // Nested maps in YAML address the same option.
    expect(run(app, { groupVars: [{ prereq: { port: 9 } }] }).options['prereq.port']).toBe(9)
    expect(() => checkSetKeys(app, { 'prereq.nope': 1 })).toThrow(/--set prereq.nope: recipe 'app' has no option 'prereq.nope'. Valid options: dir, port, prereq.dir, prereq.port/)
    expect(() => run(app, { set: { 'prereq.port': 'many' } })).toThrow(/option 'prereq.port' of recipe 'prereqs' must be a number \(got "many"\); fix --set prereq.port/)
  })

  it('prefixes explicit ids and rewrites the included recipe\'s after/notify to them; default ids stay', () => {
    const { decls, ids } = run(app)
    expect(ids).toEqual(['directory:/opt/shared', 'prereq/setup', 'file:/opt/pre/port', 'prereq/reload', 'conf'])
    const f = decls[2]!
    expect([f.after, f.notify]).toEqual([['prereq/setup', 'directory:/opt/shared'], ['prereq/reload']])
    expect(decls[4]!.after).toEqual(['prereq/setup'])
  })

  it('keeps a resource declared identically by two recipes once, and refuses one declared differently, naming both', () => {
    const same = defineRecipe({ name: 'same', include: [include(prereqs, { prefix: 'p' })], resources: () => [directory({ path: '/opt/shared', mode: '0755' })] })
    expect(run(same).ids.filter((id) => id === 'directory:/opt/shared')).toHaveLength(1)
    // The same recipe twice under two prefixes shares its default-id resources, keeps its explicit ones apart.
    const twice = defineRecipe({
      name: 'twice',
      include: [include(prereqs, { prefix: 'a', options: { dir: '/opt/a' } }), include(prereqs, { prefix: 'b', options: { dir: '/opt/b' } })],
      resources: () => [],
    })
    expect(run(twice).ids).toEqual(['directory:/opt/shared', 'a/setup', 'file:/opt/a/port', 'a/reload', 'b/setup', 'file:/opt/b/port', 'b/reload'])
    const differs = defineRecipe({ name: 'differs', include: [include(prereqs, { prefix: 'p' })], resources: () => [directory({ path: '/opt/shared', mode: '0700' })] })
    expect(() => run(differs)).toThrow(
      /resource id 'directory:\/opt\/shared' is declared by recipe 'prereqs' \(included as 'p'\) and by recipe 'differs', differently \(mode\); declare it the same way in both, or give one an explicit id/,
    )
    const tagged = defineRecipe({ name: 'tagged', include: [include(prereqs, { prefix: 'p' })], resources: () => [directory({ path: '/opt/shared', mode: '0755', tags: ['x'] })] })
    expect(() => run(tagged)).toThrow(/differently \(tags\)/)
  })

  it('twins ordered or watched differently are kept once, after and notifying what each recipe named (a shared download behind each preflight)', () => {
    const gate = (name: string) => defineRecipe({
      name,
      resources: () => [
        command({ id: 'preflight', argv: ['true'] }),
        directory({ path: '/srv/store', after: ['preflight'], notify: ['restart'] }),
        command({ id: 'restart', argv: ['true'], onlyIfNotified: true }),
      ],
    })
    const both = defineRecipe({ name: 'both', include: [include(gate('old'), { prefix: 'old' }), include(gate('new'), { prefix: 'new' })], resources: () => [] })
    const { decls, ids } = run(both)
    expect(ids.filter((id) => id === 'directory:/srv/store')).toHaveLength(1)
    const store = decls.find((r) => r.kind.type === 'directory')!
    expect([store.after, store.notify]).toEqual([['old/preflight', 'new/preflight'], ['old/restart', 'new/restart']])
  })

  it('an includer\'s id handed down as an option value still names it when the includer is itself included', () => {
    const inner = defineRecipe({ name: 'inner', options: { after: { default: [] as string[] } }, resources: ({ options }) => [command({ id: 'tools', argv: ['true'], after: options.after as string[] })] })
    const middle = defineRecipe({ name: 'middle', include: [include(inner, { prefix: 'pre', options: { after: ['check'] } })], resources: () => [command({ id: 'check', argv: ['true'] })] })
    expect(run(middle).decls[0]!.after).toEqual(['check'])
    const outer = defineRecipe({ name: 'outer', include: [include(middle, { prefix: 'm' })], resources: () => [] })
    expect(run(outer).decls.map((r) => [r.id, r.after])).toEqual([['m/pre/tools', ['m/check']], ['m/check', []]])
  })

  it('compares declarations by their normalised paths: one path written two ways is kept once, or refused as one id', () => {
    const spelled = defineRecipe({ name: 'spelled', include: [include(prereqs, { prefix: 'p' })], resources: () => [directory({ path: '/opt//x/../shared/', mode: '0755' })] })
    expect(run(spelled).ids.filter((id) => id === 'directory:/opt/shared')).toHaveLength(1)
    const differs = defineRecipe({ name: 'differs', include: [include(prereqs, { prefix: 'p' })], resources: () => [directory({ path: '/opt/./shared', mode: '0700' })] })
    expect(() => run(differs)).toThrow(/resource id 'directory:\/opt\/shared' is declared by recipe 'prereqs' \(included as 'p'\) and by recipe 'differs', differently \(mode\)/)
  })

  it('nests: options as a.b.option, ids as a/b/id, ordered innermost first', () => {
    const inner = defineRecipe({ name: 'inner', options: { msg: { type: 'string', default: 'in' } }, resources: ({ options }) => [command({ id: 'say', argv: ['echo', String(options.msg)] })] })
    const middle = defineRecipe({ name: 'middle', include: [include(inner, { prefix: 'b' })], resources: () => [command({ id: 'say', argv: ['echo', 'mid'], after: ['say', 'b/say'] })] })
    const outer = defineRecipe({ name: 'outer', include: [include(middle, { prefix: 'a' })], resources: () => [] })
    const { decls, ids, options } = run(outer, { set: { 'a.b.msg': 'deep' } })
    expect(options).toEqual({ 'a.b.msg': 'deep' })
    expect(ids).toEqual(['a/b/say', 'a/say'])
    expect(decls[0]!.desired.argv).toEqual(['echo', 'deep'])
    // The middle recipe's own 'say' is renamed; its reference to the inner one was already full.
    expect(decls[1]!.after).toEqual(['a/say', 'a/b/say'])
  })

  it('fixes options (a value, or one computed from the includer\'s options) and moves defaults', () => {
    const fixed = defineRecipe({
      name: 'fixed',
      include: [include(prereqs, { prefix: 'p', options: { dir: (o) => `${o.root}/pre` }, defaults: { port: 5 } })],
      options: { root: { type: 'path', default: '/srv' } },
      resources: () => [],
    })
    expect(run(fixed, { set: { root: '/data' } }).options).toEqual({ root: '/data', 'p.dir': '/data/pre', 'p.port': 5 })
    expect(run(fixed, { hostVars: { 'p.port': 6 } }).options['p.port']).toBe(6)
    expect(() => checkSetKeys(fixed, { 'p.dir': '/x' })).toThrow(/--set p.dir: recipe 'fixed' fixes option 'dir' of the recipe 'prereqs' it includes; it cannot be set/)
  })

  it('rejects bad includes before any host is touched', () => {
    const cases: [Recipe<any>, RegExp][] = [
      [defineRecipe({ name: 'x', include: [include(prereqs, { prefix: 'a.b' })], resources: () => [] }), /prefix "a.b": a prefix uses letters, digits, dash and underscore/],
      [defineRecipe({ name: 'x', include: [include(prereqs, { prefix: 'p' }), include(prereqs, { prefix: 'p' })], resources: () => [] }), /prefix 'p', which another include of 'x' already uses/],
      [defineRecipe({ name: 'x', include: [include(prereqs, { prefix: 'p', options: { colour: 1 } })], resources: () => [] }), /recipe 'x' includes recipe 'prereqs' as 'p' and gives options 'colour', which it does not declare. Its options: dir, port/],
    ]
    for (const [r, msg] of cases) expect(() => checkSetKeys(r, {})).toThrow(msg)
    const loop: Recipe<any> = { name: 'loop', resources: () => [] }
    loop.include = [include(loop, { prefix: 'again' })]
    expect(() => checkSetKeys(loop, {})).toThrow(/include cycle: loop -> loop/)
  })
})
