import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sleepSync } from './run.ts'

/**
 * The cgroup directories of one lab host. systemd-nspawn --keep-unit runs the container in the
 * cgroup nspawn was started in, so every host is started in one of its own: otherwise all
 * containers would share (and fight over) the test process's cgroup. On a hybrid machine
 * (cgroup v1 with name=systemd, cgroup2 at unified/, as here) both hierarchies that systemd uses
 * get one; on a pure cgroup2 machine the one tree does.
 */
export function cgroupDirs(name: string): string[] {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return [join('/sys/fs/cgroup', name)]
  return [join('/sys/fs/cgroup/unified', name), join('/sys/fs/cgroup/systemd', name)]
}

/** The cgroup2 directory of the pair (it has cgroup.kill). */
export const unifiedDir = (dirs: string[]): string => dirs[0] as string

export function makeCgroups(dirs: string[]): void {
  for (const d of dirs) mkdirSync(d)
}

function procsBelow(dir: string): number[] {
  if (!existsSync(dir)) return []
  const own = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)
  return [...own, ...readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => procsBelow(join(dir, e.name)))]
}

/** The container's PID 1 as this machine sees it (systemd moves itself into init.scope). */
export function leaderOf(dirs: string[]): number | undefined {
  const root = unifiedDir(dirs)
  for (const d of [join(root, 'payload/init.scope'), join(root, 'payload')]) {
    if (!existsSync(join(d, 'cgroup.procs'))) continue
    for (const pid of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)) {
      const status = existsSync(`/proc/${pid}/status`) ? readFileSync(`/proc/${pid}/status`, 'utf8') : ''
      if (/^NSpid:.*\s1$/m.test(status)) return pid
    }
  }
  return undefined
}

/** Kills whatever still runs in the host's cgroups, waits for it to go, removes the directories. */
export function removeCgroups(dirs: string[]): void {
  const root = unifiedDir(dirs)
  if (existsSync(join(root, 'cgroup.kill'))) writeFileSync(join(root, 'cgroup.kill'), '1')
  for (const d of dirs) {
    for (const pid of procsBelow(d)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
  }
  for (let i = 0; i < 100 && dirs.some((d) => procsBelow(d).length > 0); i++) sleepSync(50)
  for (const d of dirs) removeDepthFirst(d)
}

function removeDepthFirst(dir: string): void {
  if (!existsSync(dir)) return
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeDepthFirst(join(dir, e.name))
  rmdirSync(dir)
}
