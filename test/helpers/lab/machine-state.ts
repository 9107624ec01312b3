import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { alive } from '../alive.ts'

/**
 * What a lab can leave on this machine, read the way an operator would (`ip netns list`,
 * /proc/self/mountinfo, `nft list tables`, `ip link`, the cgroup trees, /tmp, nspawn's
 * propagation dirs, `sysctl net.ipv4.ip_forward`), for comparing before and after a run.
 */
export interface MachineState {
  netns: string[]
  mounts: string[]
  tables: string[]
  links: string[]
  cgroups: string[]
  tmp: string[]
  propagate: string[]
  forward: string
  /** ip_forward as the machine had it before any lab: a running lab records it (net.ts). */
  forwardBase: string
}

const WAS = '/run/sc-e2e-forward/was'
const sh = (argv: string[]): string => execFileSync(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] }).toString()
const ls = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).map((n) => `${dir}/${n}`) : [])

export function machineState(): MachineState {
  const cgroupRoots = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified', '/sys/fs/cgroup/systemd']
  return {
    netns: sh(['ip', 'netns', 'list']).split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean),
    // The mount point and, for overlays, the options naming the lower and upper dirs.
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => `${l.split(' ')[4]} ${l.split(' - ')[1] ?? ''}`),
    tables: sh(['nft', 'list', 'tables']).split('\n').filter(Boolean),
    links: sh(['ip', '-o', 'link', 'show']).split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '').filter(Boolean),
    cgroups: cgroupRoots.flatMap(ls).filter((p) => !p.includes('/cgroup.') && !/\/(unified|systemd)$/.test(p)),
    tmp: ls('/tmp'),
    propagate: ls('/run/systemd/nspawn/propagate'),
    forward: readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(),
    forwardBase: readFileSync(existsSync(WAS) ? WAS : '/proc/sys/net/ipv4/ip_forward', 'utf8').trim(),
  }
}

/** Command lines of every live process: a lab of another run names its base there (debootstrap). */
function commandLines(): string {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ')
      } catch {
        return ''
      }
    })
    .join('\n')
}

/**
 * What appeared between `before` and `after` and is not another live lab's: this machine is
 * shared (other test files, other runs), so an entry of a lab whose bridge alias names a live
 * process other than `gone` (the interrupted one), or a path a live process or a mount still
 * uses, is theirs; nothing under `own` (the interrupted run's own temp dir) is. ip_forward
 * must be the machine's own value unless another lab needs it on.
 */
export function leftovers(before: MachineState, after: MachineState, gone: number, own: string): string[] {
  const live = new Set<string>()
  const liveDirs: string[] = []
  for (const link of readdirSync('/sys/class/net')) {
    const alias = existsSync(`/sys/class/net/${link}/ifalias`) ? readFileSync(`/sys/class/net/${link}/ifalias`, 'utf8').trim() : ''
    const m = /^statecraft-lab pid=(\d+) dir=(\S+)$/.exec(alias)
    if (!m || Number(m[1]) === gone || !alive(Number(m[1]))) continue
    live.add(link.replace(/^sc-e2e-(?:br|t)/, ''))
    liveDirs.push(m[2] as string)
  }
  const procs = commandLines()
  const mounts = after.mounts.join('\n')
  const theirs = (item: string): boolean => {
    const m = /sc-e2e-(br|t)?(\d+)/.exec(item)
    if (m && live.has(m[2] as string)) return true
    if (m?.[1] === 't' && Number(m[2]) !== gone && alive(Number(m[2]))) return true
    const run = /sc-e2e-root-run(\d+)-/.exec(item)
    if (run && Number(run[1]) !== gone && alive(Number(run[1]))) return true
    const path = item.split(' ')[0] ?? ''
    if (liveDirs.some((d) => path === d || path.startsWith(`${d}/`))) return true
    return path.startsWith('/tmp/') && (procs.includes(path) || mounts.includes(path))
  }
  const left: string[] = []
  for (const key of ['netns', 'mounts', 'tables', 'links', 'cgroups', 'tmp', 'propagate'] as const) {
    const was = new Set(before[key])
    // Only what a lab makes (every name it gives starts sc-e2e-) or what is under `own`: other
    // tests on this machine come and go in /tmp, the mount table and the link list.
    const lab = (i: string): boolean => i.includes(own) || /sc-e2e-/.test(i)
    for (const item of after[key]) if (!was.has(item) && lab(item) && (item.includes(own) || !theirs(item))) left.push(`${key}: ${item}`)
  }
  const othersForward = existsSync('/run/sc-e2e-forward') && readdirSync('/run/sc-e2e-forward').some((n) => n !== 'was' && live.has(n))
  // Other labs may have come or gone meanwhile: with none left, the machine's own value is back.
  if (!othersForward && after.forward !== before.forwardBase) left.push(`net.ipv4.ip_forward: ${before.forwardBase} before any lab, ${after.forward} after`)
  if (!othersForward && existsSync('/run/sc-e2e-forward')) left.push('/run/sc-e2e-forward')
  return left
}
