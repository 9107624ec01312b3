import { Volume, createFsFromVolume } from 'memfs'
import { describe, expect, it } from 'vitest'
import { groupVarsOf, loadInventory, selectHosts } from '../../lib/inventory/load.ts'
import { selectTargets } from '../../lib/inventory/targets.ts'

function fsWith(text: string) {
  return createFsFromVolume(Volume.fromJSON({ '/inv/hosts.yaml': text })) as unknown as { readFileSync(p: string, e: 'utf8'): string }
}
const load = (text: string) => loadInventory('/inv/hosts.yaml', fsWith(text))

const GOOD = `
hosts:
  studio-mac:
    address: 192.168.1.20
    user: ana
    os: darwin
    groups: [macs]
    vars: { port: 9091 }
  gpu-1:
    address: gpu-1.lab
    port: 2222
    groups: [linux, gpus]
  dev:
    connection: local
groups:
  macs:
    vars: { conda: miniforge }
  linux: {}
  gpus:
    vars: { cuda: true }
`

describe('inventory', () => {
  it('loads hosts, groups and vars', () => {
    const inv = load(GOOD)
    expect([...inv.hosts.keys()]).toEqual(['studio-mac', 'gpu-1', 'dev'])
    expect(inv.hosts.get('gpu-1')).toMatchObject({ address: 'gpu-1.lab', port: 2222, groups: ['linux', 'gpus'], vars: {} })
    const gpus = selectHosts(inv, [], 'gpus')
    expect(gpus.map((h) => h.name)).toEqual(['gpu-1'])
    expect(groupVarsOf(inv, gpus[0]!)).toEqual([{}, { cuda: true }])
  })

  it('has local built in, even with no inventory', () => {
    expect(selectHosts(null, ['local'])[0]).toMatchObject({ name: 'local', connection: 'local' })
  })

  it.each([
    ['syntax error', 'hosts:\n  a: [1, 2\n', /^\/inv\/hosts.yaml:\d+:\d+: YAML syntax error/],
    ['unknown field', 'hosts:\n  a:\n    address: x\n    adress: y\n', /^\/inv\/hosts.yaml:4:5: unknown field 'adress' in hosts.a; valid fields: address, port, user/],
    ['unknown top-level field', 'host:\n  a: {}\n', /^\/inv\/hosts.yaml:1:1: unknown field 'host'; valid fields: hosts, groups/],
    ['duplicate host', 'hosts:\n  a:\n    address: x\n  a:\n    address: y\n', /^\/inv\/hosts.yaml:4:3: 'a' appears twice/],
    ['bad port', 'hosts:\n  a:\n    address: x\n    port: 70000\n', /^\/inv\/hosts.yaml:4:11: hosts.a.port: Invalid value: Expected <=65535 but received 70000$/],
    ['port as text', 'hosts:\n  a:\n    address: x\n    port: ssh\n', /^\/inv\/hosts.yaml:4:11: hosts.a.port: Invalid type: Expected number but received "ssh"$/],
    ['undefined group', 'hosts:\n  a:\n    address: x\n    groups: [macz]\ngroups:\n  macs: {}\n', /^\/inv\/hosts.yaml:4:14: host 'a' is in group 'macz', which is not defined under groups: \(defined: macs\)/],
    ['missing address', 'hosts:\n  a:\n    user: x\n', /^\/inv\/hosts.yaml:3:5: host 'a' needs an address \(or connection: local\)/],
    ['bad os', 'hosts:\n  a:\n    address: x\n    os: macos\n', /^\/inv\/hosts.yaml:4:9: hosts.a.os: Invalid type: Expected \("linux" \| "darwin" \| "windows"\) but received "macos"$/],
    ['duplicate field deep inside', 'hosts:\n  a:\n    address: x\n    vars:\n      k: 1\n      k: 2\n', /^\/inv\/hosts.yaml:6:7: 'k' appears twice/],
    [
      'alias bomb',
      `hosts:\n  a: &a ["x","x","x","x","x","x","x","x","x"]\n${['b', 'c', 'd', 'e', 'f', 'g'].map((k, i) => `  ${k}: &${k} [${Array(9).fill(`*${'abcdef'[i]}`).join(',')}]`).join('\n')}\n`,
      /^\/inv\/hosts.yaml:3:\d+: Excessive alias count .*: the inventory's aliases \(\*name\) expand too far/,
    ],
  ])('%s gives one error with file:line:column', (_name, text, err) => {
    expect(() => load(text)).toThrow(err)
  })

  it('refuses an inventory too large to parse in reasonable time, saying how to split it', () => {
    const big = `hosts:\n${'  # padding to make the file large\n'.repeat(1_100_000)}`
    expect(() => load(big)).toThrow(/^\/inv\/hosts.yaml: the inventory is 37 MiB; statecraft reads inventories up to 32 MiB .*split it/)
  })

  it('names the file and the fix when it cannot be read', () => {
    expect(() => load('').hosts && loadInventory('/inv/missing.yaml', fsWith(''))).toThrow(/\/inv\/missing.yaml: cannot read the inventory .*Create it from the example \(cp \S*hosts.example.yaml hosts.yaml\)/)
  })

  it('names unknown hosts and lists the known ones', () => {
    expect(() => selectHosts(load(GOOD), ['nope'])).toThrow(/host 'nope' is not in \/inv\/hosts.yaml; known hosts: local, studio-mac, gpu-1, dev/)
    expect(() => selectHosts(load(GOOD), [], 'windows')).toThrow(/group 'windows' is not defined in \/inv\/hosts.yaml \(defined: macs, linux, gpus\)/)
  })
})

describe('hosts.example.yaml', () => {
  it('is a valid inventory with a Mac, a Windows PC and a Linux GPU box', async () => {
    const { readFileSync } = await import('node:fs')
    const text = readFileSync(new URL('../../hosts.example.yaml', import.meta.url), 'utf8')
    const inv = load(text)
    expect([...inv.hosts.values()].map((h) => h.os)).toEqual(['darwin', 'windows', 'linux', undefined])
    expect(selectHosts(inv, [], 'workstations').map((h) => h.name)).toEqual(['gaming-pc', 'studio-mac', 'this-laptop'])
  })

  it("has vars that are all options of the default recipe, invokeai, and resolve for each host", async () => {
    const { readFileSync } = await import('node:fs')
    const { default: invokeai } = await import('../../recipes/invokeai.ts')
    const { optionTable } = await import('../../lib/core/option-table.ts')
    const { unknownVars } = await import('../../lib/core/unknown-vars.ts')
    const { resolveOptions } = await import('../../lib/core/recipe.ts')
    const inv = load(readFileSync(new URL('../../hosts.example.yaml', import.meta.url), 'utf8'))
    const table = optionTable(invokeai)
    for (const t of selectTargets(inv, [...inv.hosts.keys()])) {
      const layers = [...(t.groupVars ?? []).map((vars) => ({ where: 'group', vars })), { where: 'host', vars: t.vars ?? {} }]
      expect(unknownVars(table, layers, 'invokeai'), t.name).toEqual([])
      resolveOptions(invokeai, { groupVars: t.groupVars ?? [], hostVars: t.vars ?? {}, env: {} }, t.name)
    }
    const gpu = selectTargets(inv, ['gpu-box-1'])[0]
    expect(resolveOptions(invokeai, { groupVars: gpu?.groupVars ?? [], hostVars: gpu?.vars ?? {}, env: {} }, 'gpu-box-1')).toMatchObject({ bind: '0.0.0.0', port: 9090, ref: 'v2.0.2' })
  })
})
