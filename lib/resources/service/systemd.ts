import type { ProbeData, Step } from '../../core/types.ts'
import { atomicWrite } from '../../shell/posix/write.ts'
import { quote } from '../../shell/posix/quote.ts'
import { decodeHex } from '../../shell/protocol.ts'
import { contentOf, differingKeys, fileMode, has, type ServiceChange, type ServiceCurrent, type ServiceOptions } from './types.ts'

/**
 * systemd: a unit file generated from the declaration, compared as text with the one on the host;
 * `systemctl show` gives the manager's view (loaded, active, enabled, needs a daemon-reload).
 * A user unit lives in the user's ~/.config/systemd/user, runs under that user's manager, and
 * lingering keeps that manager up without a login session (and starts it at boot).
 */

const PROPS = 'LoadState,ActiveState,SubState,UnitFileState,MainPID,NeedDaemonReload'

/** A word of ExecStart: quoted, with C escapes, `%` specifiers and `$` expansion neutralised. */
const execWord = (s: string): string => `"${s.replace(/[\\"]/g, (m) => `\\${m}`).replaceAll('%', '%%').replaceAll('$', '$$$$')}"`
/** An Environment= assignment: quoted, escaped; systemd does not expand `$` there. */
const envWord = (k: string, v: string): string => `"${`${k}=${v}`.replace(/[\\"]/g, (m) => `\\${m}`).replaceAll('%', '%%')}"`
const spec = (s: string): string => s.replaceAll('%', '%%')

export const unitName = (d: ServiceOptions): string => `${d.name}.service`

export function unitText(d: ServiceOptions): string {
  const system = d.scope !== 'user'
  const restart = d.restart ?? 'always'
  const lines = [
    `# Written by statecraft (service ${d.name}): a change made here is undone on its next run.`,
    '[Unit]',
    `Description=${spec(d.description ?? d.name)}`,
    ...(system ? ['Wants=network-online.target', 'After=network-online.target'] : []),
    '',
    '[Service]',
    'Type=simple',
    ...(system && d.user ? [`User=${d.user}`] : []),
    ...(d.cwd ? [`WorkingDirectory=${spec(d.cwd)}`] : []),
    ...Object.keys(d.env ?? {})
      .sort()
      .map((k) => `Environment=${envWord(k, d.env?.[k] as string)}`),
    `ExecStart=${d.argv.map(execWord).join(' ')}`,
    ...(d.logs?.stdout ? [`StandardOutput=append:${spec(d.logs.stdout)}`] : []),
    ...(d.logs?.stderr ?? d.logs?.stdout ? [`StandardError=append:${spec((d.logs?.stderr ?? d.logs?.stdout) as string)}`] : []),
    `Restart=${restart}`,
    ...(restart === 'no' ? [] : ['RestartSec=5']),
    '',
    '[Install]',
    `WantedBy=${system ? 'multi-user.target' : 'default.target'}`,
  ]
  return `${lines.join('\n')}\n`
}

/** Where the unit is: fixed for a system unit, under the home the probe read for a user unit. */
export function unitPath(d: ServiceOptions, home: string | undefined): string {
  if (d.scope !== 'user') return `/etc/systemd/system/${unitName(d)}`
  return `${(home ?? '~').replace(/\/$/, '')}/.config/systemd/user/${unitName(d)}`
}

export function systemdProbe(d: ServiceOptions): string {
  const unit = quote(unitName(d))
  const lines = ['sc_u=$(id -u)', 'echo "uid=$sc_u"']
  if (d.scope === 'user') {
    const u = quote(d.resolved?.user as string)
    lines.push(
      `sc_uu=$(id -u ${u} 2>/dev/null) || sc_uu=''`,
      'echo "useruid=$sc_uu"',
      `sc_home=$(getent passwd ${u} | cut -d: -f6)`,
      'sc_kv_hex home "$sc_home"',
      `if [ -e /var/lib/systemd/linger/${u} ]; then echo linger=1; else echo linger=0; fi`,
      `sc_f="$sc_home/.config/systemd/user/"${unit}`,
      `sc_w="$sc_home/.config/systemd/user/default.target.wants/"${unit}`,
      `if [ -L "$sc_w" ]; then echo wants=1; else echo wants=0; fi`,
      // Root reaches the user's manager as that user, through its private socket: no D-Bus needed.
      `if [ "$sc_u" = 0 ]; then sc_sd() { runuser -u ${u} -- env XDG_RUNTIME_DIR="/run/user/$sc_uu" systemctl --user "$@"; }`,
      'else sc_sd() { XDG_RUNTIME_DIR="/run/user/$sc_u" systemctl --user "$@"; }; fi',
    )
  } else {
    if (d.user) lines.push(`sc_uu=$(id -u ${quote(d.user)} 2>/dev/null) || sc_uu=''`, 'echo "useruid=$sc_uu"')
    lines.push(`sc_f=${quote(unitPath(d, undefined))}`, 'sc_sd() { systemctl "$@"; }')
  }
  lines.push(
    `if [ -f "$sc_f" ]; then echo unit=file; printf 'text='; sc_hex < "$sc_f"; echo; else echo unit=absent; fi`,
    `printf 'show='; sc_sd show ${unit} -p ${PROPS} </dev/null 2>/dev/null | sc_hex; echo`,
  )
  return lines.join('\n')
}

export function systemdParse(data: ProbeData, d: ServiceOptions): ServiceCurrent {
  const props: Record<string, string> = {}
  for (const line of decodeHex(data.get('show')).split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) props[line.slice(0, eq)] = line.slice(eq + 1)
  }
  const c: ServiceCurrent = {
    backend: 'systemd',
    probeUid: Number(data.get('uid')),
    props,
    loaded: props.LoadState === 'loaded',
    running: props.ActiveState === 'active' || props.ActiveState === 'reloading',
    // No answer from the user's manager (not running yet): the [Install] symlink says it.
    enabled: props.UnitFileState !== undefined ? props.UnitFileState === 'enabled' : data.get('wants') === '1',
    needReload: props.NeedDaemonReload === 'yes',
  }
  if (data.get('unit') === 'file') c.text = decodeHex(data.get('text'))
  if (d.scope === 'user' || d.user) {
    const uu = data.get('useruid') ?? ''
    if (uu === '') c.userMissing = true
    else c.userUid = Number(uu)
  }
  if (d.scope === 'user') {
    c.home = decodeHex(data.get('home'))
    c.linger = data.get('linger') === '1'
  }
  const pid = Number(props.MainPID ?? 0)
  if (pid > 0) c.pid = pid
  return c
}

const unitKey = (l: string): string | undefined => /^([A-Za-z]+)=/.exec(l)?.[1]

export function systemdDiff(d: ServiceOptions, c: ServiceCurrent): ServiceChange[] {
  const unit = unitName(d)
  const state = d.state ?? 'running'
  if (c.userMissing) {
    return state === 'absent' ? [] : [{ op: 'conflict', why: `service ${d.name}: the user ${d.resolved?.user ?? d.user} does not exist on the host; create it first (and order this service after that resource)`, text: `define ${unit}: user ${d.resolved?.user ?? d.user} does not exist` }]
  }
  const path = unitPath(d, c.home)
  const out: ServiceChange[] = []
  const state_ = `${c.props.ActiveState ?? 'unknown'}${c.props.SubState && c.props.SubState !== c.props.ActiveState ? `/${c.props.SubState}` : ''}`
  if (state === 'absent') {
    if (c.running) out.push({ op: 'stop', text: `stop ${unit} (running${c.pid ? `, pid ${c.pid}` : ''})` })
    if (c.enabled) out.push({ op: 'disable', text: `disable ${unit}` })
    if (c.text !== undefined) out.push({ op: 'remove', text: `remove unit ${path}` })
    return out
  }
  const want = d.resolved?.text as string
  let wrote = false
  if (c.text === undefined) {
    out.push({ op: 'write', text: `create unit ${path}`, ...contentOf(d, path, '', want) })
    wrote = true
  } else if (c.text !== want) {
    const keys = differingKeys(c.text, want, unitKey)
    out.push({ op: 'write', text: `unit text differs: ${keys.join(', ') || 'comments or layout'} (${path})`, ...contentOf(d, path, c.text, want) })
    wrote = true
  } else if (c.needReload) {
    out.push({ op: 'reload', text: `reload ${unit}: its file changed on disk since systemd read it (daemon-reload)` })
  }
  if (d.scope === 'user' && !c.linger) out.push({ op: 'linger', text: `enable lingering for ${d.resolved?.user} (loginctl enable-linger), so the user unit runs without a login session and starts at boot` })
  if (state === 'stopped') {
    if (c.enabled) out.push({ op: 'disable', text: `disable ${unit}` })
    if (c.running) out.push({ op: 'stop', text: `stop ${unit} (running${c.pid ? `, pid ${c.pid}` : ''})` })
    return out
  }
  if (!c.enabled) out.push({ op: 'enable', text: `enable ${unit} (${c.props.UnitFileState ? `was ${c.props.UnitFileState}` : 'not enabled'})` })
  if (!c.running) out.push({ op: 'start', text: `start ${unit} (not running: ${state_})` })
  else if (wrote || c.needReload) out.push({ op: 'restart', text: `restart ${unit}: its definition changed` })
  return out
}

/** Creates the missing directories of $2 one by one, each owned by $1: never a root-owned dir in a user's home. */
const MKDIRS = 'd=$2; set --; while [ ! -d "$d" ]; do set -- "$d" "$@"; d=$(dirname -- "$d"); done; for x do mkdir -- "$x" && chown -- "$U" "$x"; done'
export const mkdirsAs = (user: string, dir: string): Step => ({ argv: ['sh', '-c', `U=$1; ${MKDIRS}`, 'statecraft-mkdirs', user, dir], label: `create ${dir} (owned by ${user})` })

/**
 * loginctl needs logind over D-Bus; a host without D-Bus gets the flag file logind itself reads
 * at boot. The user's manager is then started now, so the steps after this one can reach it.
 */
const LINGER = 'loginctl enable-linger "$1" 2>/dev/null || { mkdir -p /var/lib/systemd/linger && : > "/var/lib/systemd/linger/$1"; }; systemctl start "user@$2.service"'

/** Why enabling lingering as the user failed, and the two ways out. */
export function lingerRefused(user: string, stderr: string): string {
  const said = stderr.trim().split('\n').pop() ?? ''
  return `service: enabling lingering for ${user} needs root on this host (loginctl: ${said || 'refused'}; without polkit only root may): declare the service with become: true (it stays ${user}'s own user unit), or run \`sudo loginctl enable-linger ${user}\` once`
}

export function systemdApply(d: ServiceOptions, c: ServiceCurrent, changes: ServiceChange[]): Step[] {
  const user = d.resolved?.user
  const unit = unitName(d)
  const path = unitPath(d, c.home)
  const root = c.probeUid === 0
  const sd = (...args: string[]): Step => {
    if (d.scope !== 'user') return { argv: ['systemctl', ...args] }
    const xdg = `XDG_RUNTIME_DIR=/run/user/${c.userUid}`
    if (root) return { argv: ['runuser', '-u', user as string, '--', 'env', xdg, 'systemctl', '--user', ...args] }
    return { argv: ['systemctl', '--user', ...args], env: { XDG_RUNTIME_DIR: `/run/user/${c.userUid}` } }
  }
  const steps: Step[] = []
  const ops = new Set(changes.map((ch) => ch.op))
  if (ops.has('linger')) {
    // As the user itself, only logind can say yes (through polkit, which many servers lack); the
    // session it logged in with already runs the user's manager.
    steps.push(root ? { argv: ['sh', '-c', LINGER, 'statecraft-linger', user as string, String(c.userUid)], label: `loginctl enable-linger ${user}` } : { argv: ['loginctl', 'enable-linger', user as string], explain: (r) => lingerRefused(user as string, r.stderr) })
  }
  if (ops.has('stop')) steps.push(sd('stop', unit))
  if (ops.has('disable')) steps.push(sd('disable', unit))
  if (ops.has('remove')) steps.push({ argv: ['rm', '-f', '--', path] }, sd('daemon-reload'))
  if (ops.has('write')) {
    const dir = path.slice(0, path.lastIndexOf('/'))
    if (d.scope === 'user' && root) steps.push(mkdirsAs(user as string, dir))
    steps.push(atomicWrite(path, d.resolved?.text as string, fileMode(d), d.scope === 'user' && root ? user : undefined))
  }
  if (has(changes, 'write', 'reload')) steps.push(sd('daemon-reload'))
  if (ops.has('enable')) steps.push(sd('enable', unit))
  if (ops.has('restart')) steps.push(sd('restart', unit))
  else if (ops.has('start')) steps.push(sd('start', unit))
  return steps
}
