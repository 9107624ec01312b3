import { execFile } from 'node:child_process'
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLab, type Lab, type LabHost } from '../helpers/lab.ts'
import { FORWARD_STATE, forwardUsers } from '../helpers/lab/net.ts'
import { staleLab } from '../helpers/lab/stale-fixture.ts'
import { sweepStale } from '../helpers/lab/stale.ts'
import { controllerHome } from '../helpers/sshd.ts'

// What the lab promises the other e2e tests: booted Debian hosts (systemd as PID 1), logins for
// root and `dev`, the outside world through NAT, the gateway and a services node on the bridge,
// reboots that come back by themselves, and a teardown that leaves this machine as it was.
let lab: Lab
let home = ''
let gatewayServer: Server | undefined

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'sc-ctl-'))
  const { pub } = controllerHome(home)
  lab = await startLab({ hosts: 2, authorizedKey: pub, services: true })
  for (const h of lab.hosts) appendFileSync(join(home, '.ssh', 'known_hosts'), `${h.address} ${h.hostKey}\n`)
}, 600_000)

afterAll(async () => {
  gatewayServer?.closeAllConnections()
  gatewayServer?.close()
  await lab?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
})

/** ssh with only the controller's key and known_hosts: a strict, non-interactive login. */
function ssh(user: string, host: LabHost, script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = ['-F', '/dev/null', '-i', join(home, '.ssh/id_ed25519'), '-o', `UserKnownHostsFile=${join(home, '.ssh/known_hosts')}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', `${user}@${host.address}`, script]
  return new Promise((resolve) => execFile('ssh', argv, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 255) : 0, stdout, stderr })))
}

const ok = async (host: LabHost, script: string): Promise<string> => {
  const r = await host.exec(script)
  expect(r, `${host.name}: ${script}`).toMatchObject({ code: 0 })
  return r.stdout
}

describe('the lab', () => {
  it('boots real systemd as PID 1 and reaches a running system', async () => {
    for (const h of lab.hosts) {
      expect(h.boots).toBe(1)
      expect((await ok(h, 'cat /proc/1/comm; hostname')).split('\n')).toEqual(['systemd', h.name, ''])
      const state = (await h.exec('systemctl is-system-running --wait')).stdout.trim()
      const failed = state === 'running' ? '' : await ok(h, 'systemctl --failed --no-legend --plain')
      if (state === 'degraded') console.warn(`${h.name} is degraded; failed units:\n${failed}`)
      expect(['running', 'degraded'], `${h.name}: ${state}\n${failed}`).toContain(state)
      expect(await ok(h, 'systemctl is-active ssh.service dbus.service systemd-logind.service')).toBe('active\nactive\nactive\n')
    }
    const [one, two] = lab.hosts as [LabHost, LabHost]
    expect(await one.bootId()).not.toBe(await two.bootId())
    expect(one.hostKey).not.toBe(two.hostKey)
    expect(await ok(one, 'cat /etc/machine-id')).not.toBe(await ok(two, 'cat /etc/machine-id'))
  }, 120_000)

  it('lets root and dev log in with the test key; dev has sudo without a password', async () => {
    const h = lab.hosts[0] as LabHost
    expect(await ssh('root', h, 'id -u')).toMatchObject({ code: 0, stdout: '0\n' })
    expect(await ssh('dev', h, 'id -un; id -u; sudo -n id -u')).toMatchObject({ code: 0, stdout: 'dev\n1000\n0\n' })
  }, 60_000)

  it('runs a user unit for dev with lingering', async () => {
    const h = lab.hosts[0] as LabHost
    const user = 'export XDG_RUNTIME_DIR=/run/user/$(id -u);'
    const linger = await ssh('dev', h, 'sudo -n loginctl enable-linger dev && for i in $(seq 100); do [ -S /run/user/1000/systemd/private ] && exit 0; sleep 0.2; done; exit 1')
    expect(linger, linger.stderr).toMatchObject({ code: 0 })
    const unit = '[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c "id -un > %t/hello"\n'
    const r = await ssh('dev', h, `${user} mkdir -p ~/.config/systemd/user && printf '%s' '${unit}' > ~/.config/systemd/user/hello.service && systemctl --user daemon-reload && systemctl --user start hello.service && systemctl --user is-active hello.service && cat "$XDG_RUNTIME_DIR/hello"`)
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'active\ndev\n' })
    expect(await ok(h, 'ps -o user= -p "$(systemctl show -P MainPID user@1000.service)"')).toBe('dev\n')
  }, 60_000)

  it('installs a Debian package through NAT', async () => {
    const h = lab.hosts[1] as LabHost
    const r = await h.exec('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends hello >/dev/null && hello')
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'Hello, world!\n' })
  }, 300_000)

  it('reaches the other host, the gateway and the services node', async () => {
    gatewayServer = createServer((_, res) => res.end('from the gateway\n'))
    const port = await new Promise<number>((r) => gatewayServer!.listen(0, lab.gateway, () => r((gatewayServer!.address() as { port: number }).port)))
    const svc = lab.services.spawn([process.execPath, '-e', `require('node:http').createServer((q, s) => s.end('from the services node\\n')).listen(8080, ${JSON.stringify(lab.services.address)}, () => console.log('up'))`])
    await new Promise((r, j) => (svc.stdout!.once('data', r), svc.once('exit', (c) => j(new Error(`the service exited with ${c}`)))))
    const [one, two] = lab.hosts as [LabHost, LabHost]
    expect(await ok(one, `curl -fsS http://${lab.gateway}:${port}/ && curl -fsS http://${lab.services.address}:8080/`)).toBe('from the gateway\nfrom the services node\n')
    expect(await ok(one, `timeout 5 bash -c 'exec 3<>/dev/tcp/${two.address}/22; head -c 8 <&3'`)).toBe('SSH-2.0-')
  }, 60_000)

  it('comes back from a reboot inside the host with a new boot id and sshd on the same address', async () => {
    const h = lab.hosts[0] as LabHost
    const before = await h.bootId()
    expect(await h.exec('systemctl reboot')).toMatchObject({ code: 0 })
    await h.waitForReboot(before)
    expect(h.boots).toBe(2)
    expect(await h.bootId()).not.toBe(before)
    // The same overlay: what the first boot wrote is still there, and the host key is the same.
    expect(await ssh('dev', h, 'ls ~/.config/systemd/user')).toMatchObject({ code: 0, stdout: 'hello.service\n' })
    expect(await ssh('root', h, 'cat /proc/1/comm')).toMatchObject({ code: 0, stdout: 'systemd\n' })
  }, 120_000)

  it('sweeps a lab whose test process died without its teardown, and only that one', async () => {
    const stale = await staleLab()
    try {
      expect(stale.present()).toEqual(stale.parts)
      expect(sweepStale()).toEqual([stale.x])
      expect(stale.present()).toEqual([])
      expect(stale.sleeper.signalCode ?? (await new Promise((r) => stale.sleeper.once('exit', (_, sig) => r(sig))))).toBe('SIGKILL')
    } finally {
      stale.cleanup()
    }
    // The running lab's bridge names a live process: untouched.
    expect(existsSync(`/sys/class/net/sc-e2e-br${/^10\.200\.(\d+)\.1$/.exec(lab.gateway)?.[1]}`)).toBe(true)
    expect(await ok(lab.hosts[0] as LabHost, 'cat /proc/1/comm')).toBe('systemd\n')
  }, 60_000)

  it('stays off after a poweroff inside the host (only a reboot starts it again)', async () => {
    const h = lab.hosts[1] as LabHost
    expect(await h.exec('systemctl poweroff')).toMatchObject({ code: 0 })
    expect(await h.off()).toBe(0)
    expect(h.boots).toBe(1)
    await expect(h.exec('true')).rejects.toThrow(/lab2 is not running/)
  }, 60_000)

  it('stop() leaves nothing behind: hosts, mounts, network namespaces, bridge, nft table, cgroups, ip_forward', async () => {
    const x = /^10\.200\.(\d+)\.1$/.exec(lab.gateway)?.[1]
    expect(x).toBeDefined()
    const mine = (list: string[]) => list.filter((n) => n.startsWith(`sc-e2e-${x}-`) || n === `sc-e2e-br${x}` || n === `sc-e2e-${x}`)
    const netns = () => mine(existsSync('/run/netns') ? readdirSync('/run/netns') : [])
    const links = () => mine(readdirSync('/sys/class/net'))
    const tables = async () => mine((await run('nft', ['list', 'tables'])).split('\n').map((l) => l.split(' ').pop() ?? ''))
    const cgroups = () => mine(readdirSync(existsSync('/sys/fs/cgroup/unified') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup'))
    const overlays = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - overlay overlay /.test(l) && /\/sc-e2e-lab-/.test(l))
    // This lab's own directory, from its bridge's alias (other labs may run at the same time).
    const own = /dir=(\S+)/.exec(readFileSync(`/sys/class/net/sc-e2e-br${x}/ifalias`, 'utf8'))?.[1]
    const labDirs = new Set(overlays().map((l) => /(\/tmp\/sc-e2e-lab-[^/ ]+)/.exec(l)?.[1]).filter((d) => d === own))
    expect(netns()).toEqual(expect.arrayContaining([`sc-e2e-${x}-lab1`, `sc-e2e-${x}-lab2`, `sc-e2e-${x}-svc`]))
    expect(links()).toContain(`sc-e2e-br${x}`)
    expect(await tables()).toEqual([`sc-e2e-${x}`])
    expect(cgroups()).toEqual([`sc-e2e-${x}-lab1`, `sc-e2e-${x}-lab2`])
    expect(labDirs.size).toBe(1)
    expect(forwardUsers()).toContain(x)
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe('1\n')
    const was = readFileSync(join(FORWARD_STATE, 'was'), 'utf8')

    await lab.stop()

    expect({ netns: netns(), links: links(), tables: await tables(), cgroups: cgroups() }).toEqual({ netns: [], links: [], tables: [], cgroups: [] })
    expect(overlays().filter((l) => [...labDirs].some((d) => d !== undefined && l.includes(d)))).toEqual([])
    for (const d of labDirs) expect(existsSync(d as string)).toBe(false)
    expect(existsSync(`/run/systemd/nspawn/propagate/sc-e2e-${x}-lab1`)).toBe(false)
    expect(forwardUsers()).not.toContain(x)
    // Another lab may still run (another test file): then ip_forward stays on for it.
    if (forwardUsers().length === 0) expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe(was)
  }, 60_000)
})

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, (err, stdout) => (err ? reject(err) : resolve(stdout))))
}
