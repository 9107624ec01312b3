import { describe, expect, it } from 'vitest'
import { converge, defineRecipe } from '../../lib/index.ts'
import { parseInventory } from '../../lib/inventory/load.ts'
import { selectTargets } from '../../lib/inventory/targets.ts'

const INV = parseInventory(
  `
hosts:
  studio-mac:
    address: 192.168.1.20
    user: ana
    os: darwin
    groups: [macs]
    vars: { port: 9091 }
    lockPath: /tmp/sc.lock
  gpu-1:
    address: gpu-1.lab
    port: 2222
    identityFile: ~/.ssh/lab
    groups: [linux, gpus]
    become: true
    becomePasswordEnv: GPU_SUDO
  dev:
    connection: local
    address: ignored.example
groups:
  macs:
    vars: { conda: miniforge }
  linux: {}
  gpus:
    vars: { cuda: true }
`,
  '/inv/hosts.yaml',
)

describe('inventory -> targets (shared by the CLI and converge())', () => {
  it('maps SSH, vars, group vars, os, lock path and become; connection: local wins over an address', () => {
    const [mac, gpu, dev] = selectTargets(INV, ['studio-mac', 'gpu-1', 'dev'], undefined, new Map([['gpu-1', 'pw']]))
    expect(mac).toEqual({
      name: 'studio-mac', vars: { port: 9091 }, groupVars: [{ conda: 'miniforge' }], lockPath: '/tmp/sc.lock', os: 'darwin',
      ssh: { name: 'studio-mac', address: '192.168.1.20', user: 'ana' },
    })
    expect(gpu).toMatchObject({
      groupVars: [{}, { cuda: true }],
      become: { default: true, passwordEnv: 'GPU_SUDO', password: 'pw' },
      ssh: { name: 'gpu-1', address: 'gpu-1.lab', port: 2222, identityFile: '~/.ssh/lab' },
    })
    expect(dev).toEqual({ name: 'dev', vars: {}, groupVars: [], local: true })
  })

  it('knows local without an inventory, and names the inventory for an unknown host', () => {
    expect(selectTargets(null, ['local'])).toEqual([{ name: 'local', vars: {}, groupVars: [], local: true }])
    expect(() => selectTargets(INV, ['box'])).toThrow(/host 'box' is not in \/inv\/hosts.yaml; known hosts: local, studio-mac, gpu-1, dev/)
    expect(selectTargets(INV, [], 'gpus').map((t) => t.name)).toEqual(['gpu-1'])
  })

  it('takes user@address[:port] as an SSH host without an inventory, and refuses a bad port', () => {
    expect(selectTargets(null, ['ana@192.168.1.20'])).toEqual([{ name: 'ana@192.168.1.20', vars: {}, groupVars: [], ssh: { name: 'ana@192.168.1.20', address: '192.168.1.20', user: 'ana' } }])
    expect(selectTargets(INV, ['ops@[fe80::1]:2222'])[0]?.ssh).toEqual({ name: 'ops@[fe80::1]:2222', address: 'fe80::1', port: 2222, user: 'ops' })
    expect(selectTargets(null, ['me@studio.local:22'])[0]?.ssh).toMatchObject({ address: 'studio.local', port: 22 })
    expect(() => selectTargets(null, ['ana@box:70000'])).toThrow(/--host ana@box:70000: port 70000 is not between 1 and 65535/)
    expect(() => selectTargets(null, ['box'])).toThrow(/or name it directly: --host user@address\[:port\]/)
  })

  it('converge() resolves names through a loaded inventory as --host does, before touching any host', async () => {
    const recipe = defineRecipe({ name: 'r', resources: () => [] })
    await expect(converge({ recipe, inventory: INV, hosts: ['box'] })).rejects.toThrow(/host 'box' is not in \/inv\/hosts.yaml; known hosts: local/)
    await expect(converge({ recipe, inventory: '/nonexistent/hosts.yaml', hosts: ['box'] })).rejects.toThrow(/\/nonexistent\/hosts.yaml: cannot read the inventory/)
    await expect(converge({ recipe, hosts: ['box'] })).rejects.toThrow(/host 'box' is not known: there is no hosts.yaml here/)
  })
})
