import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { acquireBase } from './lab/base.ts'
import { guard, removeTree, Undo, unguard } from './lab/cleanup.ts'
import { Machine, type LabHost } from './lab/host.ts'
import { addNode, startNet } from './lab/net.ts'
import { preflight } from './lab/preflight.ts'
import { servicesIn, type LabServices } from './lab/services.ts'
import { ownerAlias, sweepStale } from './lab/stale.ts'

export type { LabHost } from './lab/host.ts'
export type { LabServices } from './lab/services.ts'

/**
 * The end-to-end lab (../../shared/LAB.md): booted Debian 12 hosts on this machine. One base
 * rootfs per run (debootstrap minbase + openssh-server, sudo, systemd, dbus, curl, busybox);
 * each host an overlayfs view of it booted by systemd-nspawn with systemd as PID 1, in a network
 * namespace and cgroup of its own, sshd on port 22 with fresh host keys, root and `dev` (uid
 * 1000, NOPASSWD sudo) logging in with the test's key. The hosts, the machine (`gateway`) and an
 * optional services node share a bridge on a private 10.200.x.0/24, with NAT to the Debian
 * mirror. stop() undoes all of it, as does an interrupt of the test process.
 */
export interface Lab {
  hosts: LabHost[]
  /** This machine's address on the bridge: a test may listen there. */
  gateway: string
  services: LabServices
  stop(): Promise<void>
}

const HOST_BASE = 10
const SERVICES = 2

export async function startLab(opts: { hosts: number; authorizedKey: string; services?: boolean }): Promise<Lab> {
  if (!Number.isInteger(opts.hosts) || opts.hosts < 1 || opts.hosts > 200) throw new Error(`startLab: hosts must be a whole number from 1 to 200 (got ${opts.hosts})`)
  preflight()
  const undo = new Undo()
  guard(undo)
  const machines: Machine[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(machines.map((m) => m.poweroff()))
    const failures = undo.runAll()
    unguard(undo)
    if (failures.length > 0) throw new Error(`lab: teardown left things behind:\n${failures.join('\n')}`)
  }
  try {
    const base = await acquireBase(undo)
    undo.add('release the base rootfs', () => base.release())
    const dir = mkdtempSync(join(tmpdir(), 'sc-e2e-lab-'))
    undo.add(`remove ${dir}`, () => removeTree(dir))
    sweepStale()
    const net = await startNet(undo, ownerAlias(dir))
    for (let i = 1; i <= opts.hosts; i++) {
      const name = `lab${i}`
      const netns = await addNode(net, undo, name, HOST_BASE + i)
      const m = new Machine({ name, machine: `sc-e2e-${net.x}-${name}`, address: net.address(HOST_BASE + i), netns, base: base.dir, dir: join(dir, name), authorizedKey: opts.authorizedKey })
      await m.prepare(undo)
      machines.push(m)
    }
    const services = opts.services === false ? unavailable() : servicesIn(await addNode(net, undo, 'svc', SERVICES), net.address(SERVICES), undo)
    await Promise.all(machines.map((m) => m.boot()))
    return { hosts: machines, gateway: net.gateway, services, stop }
  } catch (e) {
    await stop().catch(() => {})
    throw e
  }
}

function unavailable(): LabServices {
  const no = (): never => {
    throw new Error('lab.services: this lab was started with services: false; start it with services: true to run stand-in services')
  }
  return { get address(): string { return no() }, spawn: no }
}
