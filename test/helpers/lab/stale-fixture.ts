import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cgroupDirs, makeCgroups, removeCgroups } from './cgroup.ts'
import { mountsUnder, removeTree, Undo } from './cleanup.ts'
import { FORWARD_OFF, FORWARD_STATE } from './net.ts'
import { must, mustSync, run } from './run.ts'

export interface StaleLab {
  x: number
  sleeper: ChildProcess
  /** The parts of the stale lab that still exist, by kind. */
  present(): string[]
  parts: string[]
  cleanup(): void
}

/**
 * What a lab leaves when its process is SIGKILLed (for the sweep's test): a bridge whose alias
 * names a dead pid, a network namespace and veth, an nft table, an ip_forward entry, a cgroup
 * with a process in it, and a lab directory with a mount inside.
 */
export async function staleLab(): Promise<StaleLab> {
  let x = 0
  for (let i = 254; i > 0 && x === 0; i--) if ((await run(['ip', 'link', 'add', 'name', `sc-e2e-br${i}`, 'type', 'bridge'])).code === 0) x = i
  if (x === 0) throw new Error('stale-fixture: no free sc-e2e-br<x>')
  const dead = spawnSync('true').pid
  const dir = mkdtempSync(join(tmpdir(), 'sc-e2e-lab-'))
  await must(['ip', 'link', 'set', 'dev', `sc-e2e-br${x}`, 'alias', `statecraft-lab pid=${dead} dir=${dir}`])
  const ns = `sc-e2e-${x}-lab1`
  await must(['ip', 'netns', 'add', ns])
  await must(['ip', 'link', 'add', 'name', `sc-e2e-${x}v11`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
  await must(['nft', 'add', 'table', 'ip', `sc-e2e-${x}`])
  mkdirSync(FORWARD_STATE, { recursive: true })
  if (!existsSync(join(FORWARD_STATE, 'was'))) writeFileSync(join(FORWARD_STATE, 'was'), readFileSync('/proc/sys/net/ipv4/ip_forward'))
  writeFileSync(join(FORWARD_STATE, String(x)), '')
  const cgroups = cgroupDirs(ns)
  makeCgroups(cgroups)
  const sleeper = spawn('sh', ['-c', 'for c in $CGROUPS; do echo $$ > "$c/cgroup.procs"; done; exec sleep 600'], { env: { ...process.env, CGROUPS: cgroups.join(' ') }, stdio: 'ignore' })
  mkdirSync(join(dir, 'lab1/root'), { recursive: true })
  await must(['mount', '-t', 'tmpfs', 'tmpfs', join(dir, 'lab1/root')])
  const present = (): string[] =>
    [
      existsSync(`/sys/class/net/sc-e2e-br${x}`) && 'bridge',
      existsSync(`/run/netns/${ns}`) && 'netns',
      existsSync(`/sys/class/net/sc-e2e-${x}v11`) && 'veth',
      spawnSync('nft', ['list', 'table', 'ip', `sc-e2e-${x}`]).status === 0 && 'nft table',
      existsSync(join(FORWARD_STATE, String(x))) && 'forward entry',
      cgroups.some((c) => existsSync(c)) && 'cgroup',
      mountsUnder(dir).length > 0 && 'mount',
      existsSync(dir) && 'dir',
    ].filter((p): p is string => p !== false)
  const procs = join(cgroups[0] as string, 'cgroup.procs')
  for (let i = 0; i < 250 && !readFileSync(procs, 'utf8').split('\n').includes(String(sleeper.pid)); i++) await new Promise((r) => setTimeout(r, 20))
  // Whatever the sweep under test missed goes anyway, so a failing test leaves nothing behind.
  const cleanup = (): void => {
    sleeper.kill('SIGKILL')
    const undo = new Undo()
    undo.add('dir', () => removeTree(dir))
    undo.add('cgroups', () => removeCgroups(cgroups))
    undo.add('forward', () => mustSync(['flock', '/proc/sys/net/ipv4/ip_forward', 'sh', '-c', FORWARD_OFF, 'sh', String(x)]))
    undo.add('bridge', () => existsSync(`/sys/class/net/sc-e2e-br${x}`) && mustSync(['ip', 'link', 'del', `sc-e2e-br${x}`]))
    undo.add('nft', () => spawnSync('nft', ['delete', 'table', 'ip', `sc-e2e-${x}`]))
    undo.add('netns', () => existsSync(`/run/netns/${ns}`) && mustSync(['ip', 'netns', 'del', ns]))
    undo.runAll()
  }
  return { x, sleeper, present, cleanup, parts: ['bridge', 'netns', 'veth', 'nft table', 'forward entry', 'cgroup', 'mount', 'dir'] }
}
