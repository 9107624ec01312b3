import { existsSync, readdirSync } from 'node:fs'
import type { Undo } from './cleanup.ts'
import { must, mustSync, run } from './run.ts'

/**
 * The lab's network: a bridge on this machine with a /24 of 10.200.0.0/16 that this run claims
 * (creating the bridge `sc-e2e-br<x>` is the claim: a second run's `ip link add` of the same name
 * fails, so it moves on to another x), NAT to the outside through an nftables table of its own,
 * and one network namespace per lab node with a veth port on the bridge.
 */
export interface LabNet {
  x: number
  bridge: string
  gateway: string
  /** Address of node n (.1 is the gateway). */
  address(n: number): string
  table: string
}

const FORWARD = '/proc/sys/net/ipv4/ip_forward'
/** Who needs ip_forward on, and what it was before the first of them: shared by concurrent labs. */
export const FORWARD_STATE = '/run/sc-e2e-forward'

// Concurrent labs (two test files at once) share ip_forward: the first one records the old value,
// the last one out restores it. Entries whose bridge is gone are from a lab that was killed.
// flock on the sysctl file itself serialises them without a lock file to leave behind.
const FORWARD_ON = `set -e
d=${FORWARD_STATE}; mkdir -p "$d"
[ -e "$d/was" ] || cat ${FORWARD} > "$d/was"
: > "$d/$1"
echo 1 > ${FORWARD}`
export const FORWARD_OFF = `set -e
d=${FORWARD_STATE}; [ -d "$d" ] || exit 0
rm -f "$d/$1"
for e in "$d"/*; do
  n=\${e##*/}; [ "$n" = was ] || [ -e "/sys/class/net/sc-e2e-br$n" ] || rm -f "$e"
done
if [ "$(ls "$d")" = was ]; then cat "$d/was" > ${FORWARD}; rm -rf "$d"; fi`

function usedByMachine(x: number): boolean {
  const out = mustSync(['ip', '-4', '-o', 'addr', 'show']) + mustSync(['ip', '-4', 'route', 'show'])
  return out.includes(`10.200.${x}.`)
}

async function claimBridge(undo: Undo): Promise<number> {
  const start = 1 + Math.floor(Math.random() * 254)
  for (let i = 0; i < 254; i++) {
    const x = 1 + ((start + i) % 254)
    if (usedByMachine(x)) continue
    const bridge = `sc-e2e-br${x}`
    if ((await run(['ip', 'link', 'add', 'name', bridge, 'type', 'bridge'])).code !== 0) continue
    undo.add(`delete bridge ${bridge}`, () => existsSync(`/sys/class/net/${bridge}`) && mustSync(['ip', 'link', 'del', bridge]))
    return x
  }
  throw new Error('lab: every 10.200.x.0/24 is taken on this machine; remove stale bridges (ip link show type bridge) named sc-e2e-br*')
}

/** `owner`: the bridge's alias, naming this process and the lab's directory (see stale.ts). */
export async function startNet(undo: Undo, owner: string): Promise<LabNet> {
  const x = await claimBridge(undo)
  const bridge = `sc-e2e-br${x}`
  const gateway = `10.200.${x}.1`
  await must(['ip', 'link', 'set', 'dev', bridge, 'alias', owner])
  await must(['ip', 'addr', 'add', `${gateway}/24`, 'dev', bridge])
  await must(['ip', 'link', 'set', bridge, 'up'])
  undo.add('restore ip_forward', () => mustSync(['flock', FORWARD, 'sh', '-c', FORWARD_OFF, 'sh', String(x)]))
  await must(['flock', FORWARD, 'sh', '-c', FORWARD_ON, 'sh', String(x)])
  const table = `sc-e2e-${x}`
  await must(['nft', 'add', 'table', 'ip', table])
  undo.add(`delete nft table ip ${table}`, () => mustSync(['nft', 'delete', 'table', 'ip', table]))
  await must(['nft', 'add', 'chain', 'ip', table, 'postrouting', '{ type nat hook postrouting priority srcnat; }'])
  await must(['nft', 'add', 'rule', 'ip', table, 'postrouting', 'ip', 'saddr', `10.200.${x}.0/24`, 'ip', 'daddr', '!=', `10.200.${x}.0/24`, 'masquerade'])
  return { x, bridge, gateway, address: (n) => `10.200.${x}.${n}`, table }
}

/** Pids of processes whose network namespace is ns (the processes left in a host or service node). */
export function pidsIn(ns: string): number[] {
  return mustSync(['ip', 'netns', 'pids', ns]).split('\n').filter(Boolean).map(Number)
}

/**
 * A network namespace `sc-e2e-<x>-<name>` whose eth0 is a port of the bridge, with address
 * 10.200.x.n and a default route through the gateway.
 */
export async function addNode(net: LabNet, undo: Undo, name: string, n: number): Promise<string> {
  const ns = `sc-e2e-${net.x}-${name}`
  await must(['ip', 'netns', 'add', ns])
  undo.add(`delete network namespace ${ns}`, () => {
    if (!existsSync(`/run/netns/${ns}`)) return
    for (const pid of pidsIn(ns)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
    mustSync(['ip', 'netns', 'del', ns])
  })
  const port = `sc-e2e-${net.x}v${n}`
  await must(['ip', 'link', 'add', 'name', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
  undo.add(`delete veth ${port}`, () => existsSync(`/sys/class/net/${port}`) && mustSync(['ip', 'link', 'del', port]))
  await must(['ip', 'link', 'set', port, 'master', net.bridge, 'up'])
  const inNs = (...argv: string[]) => must(['ip', '-n', ns, ...argv])
  await inNs('link', 'set', 'lo', 'up')
  await inNs('addr', 'add', `${net.address(n)}/24`, 'dev', 'eth0')
  await inNs('link', 'set', 'eth0', 'up')
  await inNs('route', 'add', 'default', 'via', net.gateway)
  return ns
}

/** Names in the forward state (for the lab test: its entry must be gone after stop). */
export function forwardUsers(): string[] {
  return existsSync(FORWARD_STATE) ? readdirSync(FORWARD_STATE).filter((n) => n !== 'was') : []
}
