import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { converge, defineRecipe, file } from '../../lib/index.ts'
import { controllerHome, freePort, keygen, startSshd, trustHost, type TestSshd } from '../helpers/sshd.ts'
import { tempDir } from '../helpers/tmp.ts'

const servers: TestSshd[] = []
let pub = ''
let keyHome = ''
let sshd: TestSshd

beforeAll(async () => {
  keyHome = mkdtempSync(join(tmpdir(), 'sc-keys-')) // tempDir() is per test; this one lives for the file
  pub = controllerHome(keyHome).pub
  sshd = await startSshd([pub])
  servers.push(sshd)
})
afterAll(async () => {
  for (const s of servers) await s.stop()
  rmSync(keyHome, { recursive: true, force: true })
})

/** A controller home holding the authorised client key, and known_hosts as the test sets it. */
function home(known = ''): string {
  const h = tempDir('sc-ctl-')
  mkdirSync(join(h, '.ssh'), { mode: 0o700 })
  execFileSync('cp', [join(keyHome, '.ssh', 'id_ed25519'), join(h, '.ssh', 'id_ed25519')])
  writeFileSync(join(h, '.ssh', 'known_hosts'), known, { mode: 0o600 })
  return h
}

const dir = (): string => tempDir()
const recipe = (d: string) => defineRecipe({ name: 't', resources: () => [file({ path: `${d}/x`, content: 'x' })] })
const run = (h: string, s: TestSshd, extra: { acceptNewHostKeys?: boolean; address?: string; port?: number; user?: string; agentSocket?: string } = {}) =>
  converge({
    recipe: recipe(dir()),
    hosts: [{ name: 'box', ssh: { name: 'box', address: extra.address ?? '127.0.0.1', ...(extra.port !== 0 ? { port: extra.port ?? s.port } : {}), ...(extra.user !== undefined ? { user: extra.user } : { user: 'root' }) } }],
    // The lock lives in the controller's temp home (same machine), never in root's real home.
    lockPath: `${h}/run.lock`,
    ssh: { home: h, ...(extra.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}), ...(extra.agentSocket ? { agentSocket: extra.agentSocket } : {}) },
  })
const fp = (s: TestSshd): string => execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(s.dir, 'host_key.pub')]).toString().split(' ')[1] as string

describe('SSH host keys and identities', () => {
  it('refuses an unknown host key, showing its fingerprint and the fix', async () => {
    const r = await run(home(), sshd)
    expect(r.ok).toBe(false)
    expect(r.hosts[0]!.error!.code).toBe('E_CONNECT')
    expect(r.hosts[0]!.error!.message).toContain(`host box (root@127.0.0.1:${sshd.port}): unknown host key ${fp(sshd)}`)
    expect(r.hosts[0]!.error!.message).toMatch(/--accept-new-host-keys/)
  })

  it('--accept-new-host-keys trusts on first use and records the key', async () => {
    const h = home()
    const r = await run(h, sshd, { acceptNewHostKeys: true })
    expect(r.ok).toBe(true)
    expect(readFileSync(join(h, '.ssh', 'known_hosts'), 'utf8')).toBe(`[127.0.0.1]:${sshd.port} ${sshd.hostKey.split(' ').slice(0, 2).join(' ')}\n`)
    expect((await run(h, sshd)).ok).toBe(true)
  })

  it('refuses a changed host key, even with --accept-new-host-keys', async () => {
    const other = keygen(join(tempDir(), 'k')).split(' ').slice(0, 2).join(' ')
    const h = home(`[127.0.0.1]:${sshd.port} ${other}\n`)
    const r = await run(h, sshd, { acceptNewHostKeys: true })
    expect(r.ok).toBe(false)
    expect(r.hosts[0]!.error!.message).toMatch(new RegExp(`HOST KEY CHANGED: the host offered ${fp(sshd).replace(/[+/]/g, '\\$&')}, but known_hosts records a different key \\(ssh-ed25519 at line 1\\)`))
    expect(r.hosts[0]!.error!.message).toContain(`ssh-keygen -R '[127.0.0.1]:${sshd.port}'`)
    expect(readFileSync(join(h, '.ssh', 'known_hosts'), 'utf8')).toBe(`[127.0.0.1]:${sshd.port} ${other}\n`)
  })

  it('accepts a hashed known_hosts entry', async () => {
    const h = home(`[127.0.0.1]:${sshd.port} ${sshd.hostKey}\n`)
    execFileSync('ssh-keygen', ['-q', '-H', '-f', join(h, '.ssh', 'known_hosts')])
    expect(readFileSync(join(h, '.ssh', 'known_hosts'), 'utf8')).toMatch(/^\|1\|/)
    expect((await run(h, sshd)).ok).toBe(true)
  })

  it('negotiates the key type recorded for the host (ecdsa recorded, ed25519 also offered)', async () => {
    const two = await startSshd([pub], { hostKeyType: 'ecdsa', extraHostKeyType: 'ed25519' })
    servers.push(two)
    const r = await run(home(`[127.0.0.1]:${two.port} ${two.hostKey}\n`), two)
    expect(r.hosts[0]!.error).toBeUndefined()
  })

  it('tells a wrong key from a closed port', async () => {
    const wrong = tempDir('sc-ctl-')
    controllerHome(wrong)
    trustHost(wrong, sshd)
    const denied = await run(wrong, sshd)
    expect(denied.hosts[0]!.error!.message).toMatch(new RegExp(`authentication failed; tried ${wrong}/.ssh/id_ed25519\\. Add your public key`))
    const closed = await run(home(), sshd, { port: await freePort() })
    expect(closed.hosts[0]!.error!.message).toMatch(/connection refused: is sshd running there and is the port right\?/)
  })

  it('honours ~/.ssh/config: Host alias, HostName, Port, User, IdentityFile, ProxyJump', async () => {
    const h = home(`[127.0.0.1]:${sshd.port} ${sshd.hostKey}\n`)
    execFileSync('mv', [join(h, '.ssh', 'id_ed25519'), join(h, '.ssh', 'lab_key')])
    writeFileSync(join(h, '.ssh', 'config'), [
      'Host studio', '  HostName 127.0.0.1', `  Port ${sshd.port}`, '  User root', '  IdentityFile ~/.ssh/lab_key',
      'Host behind', '  HostName 127.0.0.1', `  Port ${sshd.port}`, '  User root', '  IdentityFile ~/.ssh/lab_key', `  ProxyJump root@studio`,
      '',
    ].join('\n'))
    const direct = await run(h, sshd, { address: 'studio', port: 0, user: undefined as never })
    expect(direct.hosts[0]!.error).toBeUndefined()
    const jumped = await run(h, sshd, { address: 'behind', port: 0, user: undefined as never })
    expect(jumped.hosts[0]!.error).toBeUndefined()
    expect(jumped.hosts[0]!.connections).toBe(2)
  })

  it('uses keys from ssh-agent', async () => {
    const h = home(`[127.0.0.1]:${sshd.port} ${sshd.hostKey}\n`)
    const sock = join(tempDir('sc-agent-'), 'agent.sock')
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' })
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20))
      execFileSync('ssh-add', ['-q', join(h, '.ssh', 'id_ed25519')], { env: { ...process.env, SSH_AUTH_SOCK: sock } })
      execFileSync('rm', [join(h, '.ssh', 'id_ed25519')])
      const r = await run(h, sshd, { agentSocket: sock })
      expect(r.hosts[0]!.error).toBeUndefined()
    } finally {
      agent.kill()
    }
  })
})
