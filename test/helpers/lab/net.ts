import { existsSync, readdirSync, readFileSync } from 'node:fs'
import type { Undo } from './cleanup.ts'
import { must, mustSync, run } from './run.ts'

/**
 * The lab's network: a bridge on this machine with a /24 of 10.200.0.0/16 that this run claims
 * (naming a bridge `sc-e2e-br<x>` is the claim: a second run's rename to the same name fails, so
 * it moves on to another x), NAT to the outside through an nftables table of its own,
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

const linkExists = (name: string): boolean => existsSync(`/sys/class/net/${name}`)
const aliasOf = (name: string): string => (existsSync(`/sys/class/net/${name}/ifalias`) ? readFileSync(`/sys/class/net/${name}/ifalias`, 'utf8').trim() : '')

/** The bridge's name until it is renamed to its claim (15 characters at most, as Linux allows). */
export const unclaimedBridge = (pid = process.pid): string => `sc-e2e-t${pid}`

/**
 * Claims a free x: the bridge is made under a name of this process's own and labelled with
 * `owner` first, then renamed to sc-e2e-br<x> (the rename fails when another run has that name).
 * So a bridge sc-e2e-br<x> labelled `owner` is this lab's, whenever an interrupt looks, and the
 * step that removes it is in place before anything is made.
 */
async function claimBridge(undo: Undo, owner: string): Promise<number> {
  // One claim at a time in this process: the unclaimed name is the process's.
  const before = claiming
  let done = (): void => {}
  claiming = new Promise((r) => (done = r))
  await before
  try {
    return await claimAs(undo, owner)
  } finally {
    done()
  }
}

let claiming: Promise<void> = Promise.resolve()

async function claimAs(undo: Undo, owner: string): Promise<number> {
  const temp = unclaimedBridge()
  const claimed: string[] = []
  // The unclaimed name is this lab's until the rename (a later lab of this process reuses it).
  let unclaimed = true
  undo.add(`delete the lab's bridge`, () => {
    if (unclaimed && linkExists(temp)) mustSync(['ip', 'link', 'del', temp])
    for (const b of claimed) if (linkExists(b) && aliasOf(b) === owner) mustSync(['ip', 'link', 'del', b])
  })
  // One left by a dead process that had this pid: claims of this process are one at a time.
  if (linkExists(temp)) await must(['ip', 'link', 'del', temp])
  await must(['ip', 'link', 'add', 'name', temp, 'type', 'bridge'])
  await must(['ip', 'link', 'set', 'dev', temp, 'alias', owner])
  const start = 1 + Math.floor(Math.random() * 254)
  for (let i = 0; i < 254; i++) {
    const x = 1 + ((start + i) % 254)
    if (usedByMachine(x)) continue
    const bridge = `sc-e2e-br${x}`
    claimed.push(bridge)
    if ((await run(['ip', 'link', 'set', 'dev', temp, 'name', bridge])).code === 0) {
      unclaimed = false
      return x
    }
  }
  throw new Error('lab: every 10.200.x.0/24 is taken on this machine; remove stale bridges (ip link show type bridge) named sc-e2e-br*')
}

const tableExists = (table: string): boolean => {
  try {
    mustSync(['nft', 'list', 'table', 'ip', table])
    return true
  } catch {
    return false
  }
}

/** `owner`: the bridge's alias, naming this process and the lab's directory (see stale.ts). */
export async function startNet(undo: Undo, owner: string): Promise<LabNet> {
  const x = await claimBridge(undo, owner)
  const bridge = `sc-e2e-br${x}`
  const gateway = `10.200.${x}.1`
  await must(['ip', 'addr', 'add', `${gateway}/24`, 'dev', bridge])
  await must(['ip', 'link', 'set', bridge, 'up'])
  // FORWARD_OFF only drops this lab's entry (and restores ip_forward if it was the last one).
  undo.add('restore ip_forward', () => mustSync(['flock', FORWARD, 'sh', '-c', FORWARD_OFF, 'sh', String(x)]))
  await must(['flock', FORWARD, 'sh', '-c', FORWARD_ON, 'sh', String(x)])
  const table = `sc-e2e-${x}`
  undo.add(`delete nft table ip ${table}`, () => tableExists(table) && mustSync(['nft', 'delete', 'table', 'ip', table]))
  await must(['nft', 'add', 'table', 'ip', table])
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
  undo.add(`delete network namespace ${ns}`, () => {
    if (!existsSync(`/run/netns/${ns}`)) return
    for (const pid of pidsIn(ns)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
    mustSync(['ip', 'netns', 'del', ns])
  })
  await must(['ip', 'netns', 'add', ns])
  const port = `sc-e2e-${net.x}v${n}`
  undo.add(`delete veth ${port}`, () => linkExists(port) && mustSync(['ip', 'link', 'del', port]))
  await must(['ip', 'link', 'add', 'name', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
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
