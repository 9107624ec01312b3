import { describe, expect, it } from 'vitest'
import { converge, defineRecipe, line } from '../../lib/index.ts'
import { FakeHost, ok } from '../helpers/fake-host.ts'
import { hex } from '../helpers/facts.ts'

/** What the facts script prints on an M1 Mac whose shell runs under Rosetta. */
const MAC_FACTS = [
  'kernel=Darwin', 'machine=x86_64', 'arm64=1', 'user=ana', 'uid=501', `home=${hex('/Users/ana')}`,
  'hostname=studio-mac', 'bootid=8C1F2A9E-0000-4000-8000-1234567890AB', 'lock=acquired', `lockinfo=${hex('statecraft-lock-v1|t|c|1|x|b')}`,
].join('\n')

function macHost(profile: string | null): FakeHost {
  return new FakeHost((command, stdin) => {
    if (command !== 'sh -s') return undefined
    if (stdin.includes('uname -s')) return ok(MAC_FACTS)
    if (stdin.includes('readlink -- "$sc_lock"') && stdin.includes('rm -f')) return ok('')
    const nonce = /@@statecraft:([0-9a-f]+):0/.exec(stdin)?.[1]
    if (!nonce || !stdin.includes('sc_stats /Users/ana/.zprofile')) return undefined
    // The line's own read in its section; its stat from the batch's one `stat -f` (BSD) for all paths.
    const body = profile === null ? '' : `content=${hex(profile)}\n`
    const stat = profile === null ? '' : `-rw-r--r-- ${Buffer.byteLength(profile)} ana /Users/ana/.zprofile\n`
    return ok(`@@statecraft:${nonce}:0\n${body}@@statecraft:${nonce}:stat\n${stat}@@statecraft:${nonce}:content\n@@statecraft:${nonce}:end\n`)
  })
}

const recipe = defineRecipe({
  name: 'conda-subdir',
  resources: ({ facts }) =>
    facts.os === 'darwin'
      ? [line({ path: '~/.zprofile', match: '^export CONDA_SUBDIR=', line: `export CONDA_SUBDIR=${facts.appleSilicon ? 'osx-arm64' : 'osx-64'}` })]
      : [],
})

describe('engine against a fake macOS host', () => {
  it('branches on the host facts (Apple Silicon under Rosetta), not on the controller', async () => {
    const host = macHost('export CONDA_SUBDIR=osx-64\n')
    const r = await converge({ recipe, hosts: [{ name: 'studio-mac', transport: host }], mode: 'plan' })
    expect(r.hosts[0]!.error).toBeUndefined()
    expect(r.hosts[0]!.resources[0]!.changes).toEqual([
      'replace line 1 of /Users/ana/.zprofile: "export CONDA_SUBDIR=osx-64" with "export CONDA_SUBDIR=osx-arm64"',
    ])
    expect(host.calls).toHaveLength(3)
    expect(r.hosts[0]!.roundTrips).toBe(3)
  })

  it('plans nothing when the profile is already right', async () => {
    const r = await converge({ recipe, hosts: [{ name: 'studio-mac', transport: macHost('# conda\nexport CONDA_SUBDIR=osx-arm64\n') }], mode: 'plan' })
    expect(r.summary).toMatchObject({ changed: 0, unchanged: 1 })
  })

  it('fails the host clearly when the probe output is cut short', async () => {
    const host = new FakeHost((_c, stdin) => (stdin.includes('uname -s') ? ok(MAC_FACTS) : stdin.includes('rm -f') ? ok('') : ok('partial')))
    const r = await converge({ recipe, hosts: [{ name: 'studio-mac', transport: host }], mode: 'plan' })
    expect(r.hosts[0]!.error).toMatchObject({ code: 'E_TRANSPORT', message: expect.stringMatching(/host studio-mac: the probe script's output was cut short/) })
  })
})

describe('become is settled in the first exec, before anything is probed or changed', () => {
  const linux = (sudo: string): FakeHost =>
    new FakeHost((command, stdin) => {
      if (command !== 'sh -s') return undefined
      if (stdin.includes('uname -s')) {
        expect(stdin).toContain('sudo -n true') // asked only because the host has become
        return ok(['kernel=Linux', 'machine=x86_64', 'user=ana', 'uid=1000', `home=${hex('/home/ana')}`, 'hostname=box', 'bootid=b', `sudo=${sudo}`, 'lock=acquired', `lockinfo=${hex('statecraft-lock-v1|t|c|1|x|b')}`].join('\n'))
      }
      if (stdin.includes('readlink -- "$sc_lock"') && stdin.includes('rm -f')) return ok('')
      return undefined // a probe would be an error: nothing may run after the refusal
    })
  const rootFile = defineRecipe({ name: 'root', resources: () => [line({ path: '/etc/motd', line: 'hi' })] })

  it('no sudo on the host: one clear error, facts and unlock only', async () => {
    const host = linux('missing')
    const r = await converge({ recipe: rootFile, hosts: [{ name: 'box', transport: host, become: { default: true } }] })
    expect(r.hosts[0]!.error).toEqual({ code: 'E_BECOME', message: 'host box: become needs sudo, which is not installed there' })
    expect(host.calls).toHaveLength(2)
  })

  it('sudo wants a password and none is set or asked for: the fix, before any probe', async () => {
    const host = linux('password')
    const r = await converge({ recipe: rootFile, hosts: [{ name: 'box', transport: host, become: { default: true } }] })
    expect(r.hosts[0]!.error!.message).toMatch(/sudo asks for a password and none is configured: set becomePasswordEnv/)
    expect(host.calls).toHaveLength(2)
  })

  it('a host without become is not asked about sudo', async () => {
    const host = new FakeHost((command, stdin) => {
      if (stdin.includes('uname -s')) expect(stdin).not.toContain('sudo -n true')
      return linux('missing').exec(command, { stdin })
    })
    await converge({ recipe: defineRecipe({ name: 'none', resources: () => [] }), hosts: [{ name: 'box', transport: host }], mode: 'plan' })
    expect(host.calls.length).toBeGreaterThan(0)
  })
})
