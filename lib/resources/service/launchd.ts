import type { PlistValue } from 'plist'
import { lazy } from '../../core/lazy.ts'
import type { ProbeData, Step } from '../../core/types.ts'
import { atomicWrite } from '../../shell/posix/write.ts'
import { quote } from '../../shell/posix/quote.ts'
import { decodeHex } from '../../shell/protocol.ts'
import { mkdirsAs } from './systemd.ts'
import { contentOf, fileMode, type ServiceChange, type ServiceCurrent, type ServiceOptions } from './types.ts'

// Only for macOS services: loaded on first use (with its XML libraries, 46 files).
const plist = lazy<typeof import('plist')>('plist')

/**
 * launchd: a LaunchAgent in the user's ~/Library/LaunchAgents bootstrapped into gui/<uid>, or a
 * LaunchDaemon in /Library/LaunchDaemons (domain 'system', UserName) for a Mac nobody is logged
 * in to. The plist is built and read back with the `plist` package; `launchctl print` gives the
 * state launchd holds (loaded, state = running, pid).
 */

export const isDaemon = (d: ServiceOptions): boolean => d.domain === 'daemon'

export function plistPath(d: ServiceOptions, home: string): string {
  return isDaemon(d) ? `/Library/LaunchDaemons/${d.name}.plist` : `${home.replace(/\/$/, '')}/Library/LaunchAgents/${d.name}.plist`
}

/** The launchd job, keys in a fixed order so the same declaration always gives the same bytes. */
export function plistObject(d: ServiceOptions, home: string): Record<string, PlistValue> {
  const log = `${home.replace(/\/$/, '')}/Library/Logs/${d.name}.log`
  const restart = d.restart ?? 'always'
  const job: Record<string, PlistValue> = { Label: d.name, ProgramArguments: d.argv }
  if (d.cwd) job.WorkingDirectory = d.cwd
  if (d.env && Object.keys(d.env).length > 0) job.EnvironmentVariables = Object.fromEntries(Object.keys(d.env).sort().map((k) => [k, d.env?.[k] as string]))
  if (isDaemon(d) && d.user) job.UserName = d.user
  job.RunAtLoad = true
  job.KeepAlive = restart === 'always' ? true : restart === 'on-failure' ? { SuccessfulExit: false } : false
  job.StandardOutPath = d.logs?.stdout ?? log
  job.StandardErrorPath = d.logs?.stderr ?? d.logs?.stdout ?? log
  return job
}

export const plistText = (d: ServiceOptions, home: string): string => `${plist().build(plistObject(d, home))}\n`

/** The domain target: gui/<uid> of the user, or system for a daemon; `$sc_uu` in the probe. */
const domainOf = (d: ServiceOptions, uid: number | undefined): string => (isDaemon(d) ? 'system' : `gui/${uid}`)

export function launchdProbe(d: ServiceOptions): string {
  const r = d.resolved
  const label = quote(d.name)
  const dom = isDaemon(d) ? 'system' : '"gui/$sc_uu"'
  return [
    'echo "uid=$(id -u)"',
    `sc_uu=$(id -u ${quote(r?.user as string)} 2>/dev/null) || sc_uu=''`,
    'echo "useruid=$sc_uu"',
    `sc_f=${quote(r?.path as string)}`,
    `if [ -f "$sc_f" ]; then echo plist=file; printf 'text='; sc_hex < "$sc_f"; echo; else echo plist=absent; fi`,
    'if [ -n "$sc_uu" ]; then',
    ...(isDaemon(d) ? [] : [`  launchctl print ${dom} >/dev/null 2>&1; echo "domain=$?"`]),
    `  printf 'print='; launchctl print ${dom}/${label} 2>/dev/null | sc_hex; echo`,
    `  printf 'disabled='; launchctl print-disabled ${dom} 2>/dev/null | grep -F '"'${label}'"' | sc_hex; echo`,
    'fi',
  ].join('\n')
}

/** The top-level `key = value` lines of `launchctl print <domain>/<label>` (one tab deep). */
export function parseLaunchctlPrint(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^\t([a-z][a-z ]*[a-z]) = (.*)$/.exec(line)
    if (m && !(m[1] as string in out)) out[m[1] as string] = m[2] as string
  }
  return out
}

export function launchdParse(data: ProbeData, d: ServiceOptions): ServiceCurrent {
  const uu = data.get('useruid') ?? ''
  const c: ServiceCurrent = { backend: 'launchd', probeUid: Number(data.get('uid')), props: {}, loaded: false, running: false, enabled: true }
  if (uu === '') return { ...c, userMissing: true }
  c.userUid = Number(uu)
  if (data.get('plist') === 'file') c.text = decodeHex(data.get('text'))
  const printed = decodeHex(data.get('print'))
  c.props = parseLaunchctlPrint(printed)
  c.loaded = printed.trim() !== ''
  c.running = c.props.state === 'running'
  const pid = Number(c.props.pid)
  if (pid > 0) c.pid = pid
  // `"label" => disabled` (macOS 13 on), `=> true` before.
  c.enabled = !/=> (disabled|true)\s*$/m.test(decodeHex(data.get('disabled')))
  if (!isDaemon(d)) c.guiSession = data.get('domain') === '0'
  return c
}

/** The top-level keys whose values differ between the plist on the host and the one wanted. */
function plistKeys(before: string, after: string): string {
  let a: Record<string, unknown>
  try {
    a = plist().parse(before) as Record<string, unknown>
  } catch {
    return 'not the XML plist statecraft writes'
  }
  const b = plist().parse(after) as Record<string, unknown>
  if (a === null || typeof a !== 'object' || Array.isArray(a)) return 'not a dictionary'
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
  return keys.join(', ') || 'layout'
}

export function launchdDiff(d: ServiceOptions, c: ServiceCurrent): ServiceChange[] {
  const state = d.state ?? 'running'
  const who = d.resolved?.user as string
  if (c.userMissing) return state === 'absent' ? [] : [{ op: 'conflict', why: `service ${d.name}: the user ${who} does not exist on the host`, text: `define ${d.name}: user ${who} does not exist` }]
  const path = d.resolved?.path as string
  const target = `${domainOf(d, c.userUid)}/${d.name}`
  const out: ServiceChange[] = []
  if (state === 'absent') {
    if (c.loaded) out.push({ op: 'stop', text: `unload ${target} (launchctl bootout)` })
    if (c.text !== undefined) out.push({ op: 'remove', text: `remove ${path}` })
    return out
  }
  const want = d.resolved?.text as string
  const wrote = c.text !== want
  if (c.text === undefined) out.push({ op: 'write', text: `create ${path}`, ...contentOf(d, path, '', want) })
  else if (wrote) out.push({ op: 'write', text: `plist differs: ${plistKeys(c.text, want)} (${path})`, ...contentOf(d, path, c.text, want) })
  if (state === 'stopped') {
    if (c.enabled) out.push({ op: 'disable', text: `disable ${target} (launchctl disable: not loaded at the next login or boot)` })
    if (c.loaded) out.push({ op: 'stop', text: `unload ${target} (launchctl bootout)` })
    return out
  }
  if (!c.enabled) out.push({ op: 'enable', text: `enable ${target} (launchctl disable was set)` })
  if (!c.loaded) out.push({ op: 'start', text: `load ${target} (launchctl bootstrap; not loaded)` })
  else if (wrote) out.push({ op: 'restart', text: `reload ${target}: its plist changed (bootout, bootstrap)` })
  else if (!c.running) out.push({ op: 'restart', text: `start ${target} (state = ${c.props.state ?? 'unknown'}${c.props['last exit code'] ? `, last exit code = ${c.props['last exit code']}` : ''})` })
  if (!isDaemon(d) && !c.guiSession && (!c.loaded || wrote)) {
    out.push({
      op: 'conflict',
      text: `bootstrap into gui/${c.userUid}: ${who} has no GUI session`,
      why:
        `service ${d.name}: launchctl bootstrap gui/${c.userUid} needs a GUI (Aqua) session of ${who}, and there is none: over SSH with nobody logged in at the screen, that domain does not exist. ` +
        `Log in as ${who} at the Mac (or turn on automatic login) and run again, or declare domain: 'daemon' with become: true to run it as a LaunchDaemon with UserName ${who}, which needs no login`,
    })
  }
  return out
}

/**
 * Reload or start: bootout is asynchronous, so wait until the job is gone before bootstrapping the
 * new plist; then wait until launchd reports it running, so the verification reads a settled state.
 * Arguments: domain, label, plist path, 1 to unload first.
 */
const BOOT = [
  'if [ "$4" = 1 ]; then launchctl bootout "$1/$2" 2>/dev/null; i=0; while launchctl print "$1/$2" >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.2; i=$((i+1)); done; fi',
  'if launchctl print "$1/$2" >/dev/null 2>&1; then launchctl kickstart "$1/$2"; else launchctl bootstrap "$1" "$3"; fi',
  'i=0; while ! launchctl print "$1/$2" 2>/dev/null | grep -q "^[[:space:]]state = running" && [ $i -lt 50 ]; do sleep 0.2; i=$((i+1)); done',
].join('\n')

export function launchdApply(d: ServiceOptions, c: ServiceCurrent, changes: ServiceChange[]): Step[] {
  const ops = new Set(changes.map((ch) => ch.op))
  const dom = domainOf(d, c.userUid)
  const target = `${dom}/${d.name}`
  const path = d.resolved?.path as string
  const asRootForUser = !isDaemon(d) && c.probeUid === 0
  const steps: Step[] = []
  if (ops.has('stop')) steps.push({ argv: ['launchctl', 'bootout', target] })
  if (ops.has('disable')) steps.push({ argv: ['launchctl', 'disable', target] })
  if (ops.has('remove')) steps.push({ argv: ['rm', '-f', '--', path] })
  if (ops.has('write')) {
    if (asRootForUser) steps.push(mkdirsAs(d.resolved?.user as string, path.slice(0, path.lastIndexOf('/'))))
    // launchd refuses a daemon plist that is not root's; an agent's belongs to its user.
    steps.push(atomicWrite(path, d.resolved?.text as string, fileMode(d), isDaemon(d) ? 'root' : asRootForUser ? d.resolved?.user : undefined))
  }
  if (ops.has('enable')) steps.push({ argv: ['launchctl', 'enable', target] })
  if (ops.has('start') || ops.has('restart')) {
    const reload = ops.has('restart') && ops.has('write') ? '1' : '0'
    if (ops.has('restart') && !ops.has('write') && c.running) steps.push({ argv: ['launchctl', 'kickstart', '-k', target] })
    else steps.push({ argv: ['sh', '-c', BOOT, 'statecraft-launchd', dom, d.name, path, reload], label: `launchctl bootstrap ${dom} ${path}` })
  }
  return steps
}
