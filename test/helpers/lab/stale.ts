import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cgroupDirs, removeCgroups } from './cgroup.ts'
import { removeTree } from './cleanup.ts'
import { FORWARD_OFF, pidsIn } from './net.ts'
import { mustSync } from './run.ts'
import { alive } from '../alive.ts'

/** What a lab writes on its bridge (ip link alias), so a later lab can clean up after a crash. */
export const ownerAlias = (dir: string): string => `statecraft-lab pid=${process.pid} dir=${dir}`

const tryTo = (f: () => unknown): void => {
  try {
    f()
  } catch {}
}

/**
 * Removes every lab whose test process died without its teardown (SIGKILL, a crash): bridges
 * named sc-e2e-br<x> whose alias names a dead pid (and unclaimed ones, sc-e2e-t<dead pid>). Labs of live processes, and bridges without
 * our alias, are left alone.
 */
export function sweepStale(): number[] {
  const swept: number[] = []
  // A bridge not yet renamed to its claim (net.ts) is named after its process.
  for (const link of readdirSync('/sys/class/net')) {
    const m = /^sc-e2e-t(\d+)$/.exec(link)
    if (m && !alive(Number(m[1]))) tryTo(() => mustSync(['ip', 'link', 'del', link]))
  }
  for (const link of readdirSync('/sys/class/net').filter((n) => /^sc-e2e-br\d+$/.test(n))) {
    const alias = existsSync(`/sys/class/net/${link}/ifalias`) ? readFileSync(`/sys/class/net/${link}/ifalias`, 'utf8').trim() : ''
    const m = /^statecraft-lab pid=(\d+) dir=(\S+)$/.exec(alias)
    if (!m || alive(Number(m[1]))) continue
    const x = Number(link.slice('sc-e2e-br'.length))
    sweep(x, m[2] as string)
    swept.push(x)
  }
  return swept
}

function sweep(x: number, dir: string): void {
  const prefix = `sc-e2e-${x}-`
  const roots = cgroupDirs('').map((d) => d.replace(/\/$/, ''))
  const names = new Set(roots.flatMap((r) => (existsSync(r) ? readdirSync(r).filter((n) => n.startsWith(prefix)) : [])))
  for (const n of names) tryTo(() => removeCgroups(cgroupDirs(n)))
  for (const n of names) rmSync(`/run/systemd/nspawn/propagate/${n}`, { recursive: true, force: true })
  // Only ever a lab directory of ours under the temp dir, whatever the alias says.
  if (dir.startsWith(join(tmpdir(), 'sc-e2e-lab-')) && !dir.includes('..')) tryTo(() => removeTree(dir))
  for (const ns of existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(prefix)) : []) {
    for (const pid of pidsIn(ns)) tryTo(() => process.kill(pid, 'SIGKILL'))
    tryTo(() => mustSync(['ip', 'netns', 'del', ns]))
  }
  for (const l of readdirSync('/sys/class/net').filter((n) => n.startsWith(`sc-e2e-${x}v`))) tryTo(() => mustSync(['ip', 'link', 'del', l]))
  tryTo(() => mustSync(['nft', 'delete', 'table', 'ip', `sc-e2e-${x}`]))
  tryTo(() => mustSync(['ip', 'link', 'del', `sc-e2e-br${x}`]))
  tryTo(() => mustSync(['flock', '/proc/sys/net/ipv4/ip_forward', 'sh', '-c', FORWARD_OFF, 'sh', String(x)]))
}

