import * as v from 'valibot'
import { StatecraftError } from '../../core/errors.ts'
import type { Example, Facts, Step } from '../../core/types.ts'
import { argv, env, flag, normalisePath, owner, path, text } from '../fields.ts'
import { defineResource } from '../kit.ts'
import { launchdApply, launchdDiff, launchdParse, launchdProbe, plistPath, plistText } from './launchd.ts'
import { schtaskApply, schtaskDiff, schtaskParse, schtaskProbe } from './schtask.ts'
import { systemdApply, systemdDiff, systemdParse, systemdProbe, unitPath, unitText } from './systemd.ts'
import type { Resolved, ServiceChange, ServiceCurrent, ServiceOp, ServiceOptions } from './types.ts'

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]*$/
/** XML (a plist, a task's definition) cannot hold these control characters; tab and line ends it can. */
const XML_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/
/** A unit file is read line by line: a line end would cut the value short. */
const UNIT_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/

const pick = <T extends string>(values: readonly T[]): v.GenericSchema<unknown, T> =>
  v.picklist(values, (i) => `must be ${values.map((x) => `'${x}'`).join(', ')} (got ${JSON.stringify(i.input)})`) as v.GenericSchema<unknown, T>

function plain(d: ServiceOptions, facts: Facts, fail: (field: string, problem: string) => never): void {
  const unit = facts.os === 'linux'
  const check = (field: string, s: string | undefined): void => {
    if (s === undefined) return
    if (unit && UNIT_CONTROL.test(s)) fail(field, 'must not contain control characters or line ends: a systemd unit file cannot hold them')
    if (XML_CONTROL.test(s)) fail(field, 'must not contain control characters: the service definition is XML, which cannot hold them')
  }
  d.argv.forEach((a, i) => check(`argv.${i}`, a))
  for (const [k, val] of Object.entries(d.env ?? {})) check(`env.${k}`, val)
  check('description', d.description)
  check('cwd', d.cwd)
}

function resolve(d: ServiceOptions, facts: Facts, fail: (field: string, problem: string) => never): Resolved {
  if (facts.os === 'linux') {
    if (d.domain !== undefined) fail('domain', "is macOS only (launchd's gui or daemon domain); on Linux choose scope: 'system' or 'user'")
    if (d.scope === 'user') {
      const user = d.user ?? facts.user
      if (user === 'root') fail('user', "is root: root's services are system units; use scope: 'system'")
      return { backend: 'systemd', user, text: unitText(d) }
    }
    return { backend: 'systemd', ...(d.user ? { user: d.user } : {}), path: unitPath(d, undefined), text: unitText(d) }
  }
  if (d.scope !== undefined) fail('scope', "is Linux only (a systemd system or user unit); on macOS choose domain: 'gui' or 'daemon'")
  if (facts.os === 'darwin') {
    const user = d.user ?? facts.user
    if (d.domain !== 'daemon' && user === 'root') fail('user', "is root, which has no GUI session: use domain: 'daemon'")
    // The login user's home is known; another user's is where macOS puts homes.
    const home = user === facts.user ? facts.home : `/Users/${user}`
    return { backend: 'launchd', user, path: plistPath(d, home), text: plistText({ ...d, ...(d.domain === 'daemon' && user !== 'root' ? { user } : {}) }, home) }
  }
  if (d.domain !== undefined) fail('domain', 'is macOS only; a Windows service here is a scheduled task')
  if (d.logs !== undefined) fail('logs', 'cannot be set on Windows: a scheduled task has no output redirection; let the program write its own log file')
  return { backend: 'schtask', user: d.user ?? facts.user }
}

/** Who must run the probe and apply: root for a system unit or LaunchDaemon, root or the user for the rest. */
function privilege(d: ServiceOptions, c: ServiceCurrent): string | undefined {
  const b = d.resolved?.backend
  if (b === 'schtask' || c.probeUid === 0) return undefined
  const needsRoot = (b === 'systemd' && d.scope !== 'user') || (b === 'launchd' && d.domain === 'daemon')
  if (needsRoot) return `service ${d.name}: ${b === 'systemd' ? 'a system unit' : 'a LaunchDaemon'} is managed as root: declare it with become: true (or connect as root)`
  if (c.userUid !== undefined && c.probeUid !== c.userUid) return `service ${d.name}: it belongs to ${d.resolved?.user}, and this run is neither that user nor root: declare it with become: true`
  return undefined
}

function diffOf(d: ServiceOptions, c: ServiceCurrent): ServiceChange[] {
  const b = d.resolved?.backend
  const changes = b === 'systemd' ? systemdDiff(d, c) : b === 'launchd' ? launchdDiff(d, c) : schtaskDiff(d, c)
  const why = changes.length > 0 && !changes.some((ch) => ch.op === 'conflict') ? privilege(d, c) : undefined
  return why ? [...changes, { op: 'conflict', why, text: `${d.name}: needs become (root)` }] : changes
}

function applyOf(d: ServiceOptions, c: ServiceCurrent, changes: ServiceChange[]): Step[] {
  for (const ch of changes) if (ch.op === 'conflict') throw new StatecraftError('E_CONFLICT', ch.why)
  // Notified while it is meant to be stopped or absent: nothing to restart.
  const list = (d.state ?? 'running') === 'running' ? changes : changes.filter((ch) => ch.op !== 'restart')
  if (list.length === 0) return []
  if (d.resolved?.backend === 'systemd') return systemdApply(d, c, list)
  if (d.resolved?.backend === 'launchd') return launchdApply(d, c, list)
  return schtaskApply(d, c, list)
}

/**
 * A long-running program kept running by the system's service manager, one declaration for
 * every system: a systemd unit on Linux (system, or a user unit with lingering), a LaunchAgent
 * (or LaunchDaemon) on macOS, a scheduled task at logon on Windows. Enabled and started; restarted
 * when its definition changes or a resource that `notify`s it changed.
 * @example
 * service({ name: 'invokeai', argv: ['/home/ana/invokeai/.venv/bin/python', 'scripts/invoke.py', '--web'], cwd: '~/invokeai', env: { PYTORCH_ENABLE_MPS_FALLBACK: '1' }, scope: 'user' })
 */
export const service = defineResource<ServiceOptions, ServiceCurrent, ServiceOp>({
  type: 'service',
  describe: (i) => `service ${String(i.name)}`,
  fields: {
    name: v.pipe(text(), v.regex(NAME, "must be letters, digits and . _ @ - (a unit name without '.service', a launchd label, a task name)")),
    argv: argv(),
    cwd: v.optional(path()),
    env: v.optional(env()),
    user: v.optional(owner()),
    scope: v.optional(pick(['system', 'user'] as const)),
    state: v.optional(pick(['running', 'stopped', 'absent'] as const)),
    restart: v.optional(pick(['always', 'on-failure', 'no'] as const)),
    description: v.optional(text()),
    logs: v.optional(v.strictObject({ stdout: v.optional(path()), stderr: v.optional(path()) }, 'must be { stdout?, stderr? } paths')),
    domain: v.optional(pick(['gui', 'daemon'] as const)),
    sensitive: v.optional(flag()),
    resolved: v.optional(v.custom<Resolved>(() => false, 'is filled in by statecraft; leave it out')),
  },
  normalise(d, facts, fail) {
    if (d.name.endsWith('.service')) fail('name', `must not end in .service (got ${JSON.stringify(d.name)}): the unit is named <name>.service`)
    const out: ServiceOptions = { ...d }
    if (d.cwd !== undefined) out.cwd = normalisePath(d.cwd, 'cwd', facts, fail)
    if (d.logs) {
      out.logs = {}
      if (d.logs.stdout !== undefined) out.logs.stdout = normalisePath(d.logs.stdout, 'logs.stdout', facts, fail)
      if (d.logs.stderr !== undefined) out.logs.stderr = normalisePath(d.logs.stderr, 'logs.stderr', facts, fail)
    }
    plain(out, facts, fail)
    return { ...out, resolved: resolve(out, facts, fail) }
  },
  defaultId: (d) => `service:${d.name}`,
  paths: (d) => (d.cwd ? [{ path: d.cwd, kind: 'uses' as const }] : []),
  parse(data, d) {
    const b = d.resolved?.backend
    return b === 'systemd' ? systemdParse(data, d) : b === 'launchd' ? launchdParse(data, d) : schtaskParse(data, d)
  },
  diff: (d, c) => diffOf(d, c),
  posix: {
    probe: (d) => (d.resolved?.backend === 'launchd' ? launchdProbe(d) : systemdProbe(d)),
    apply: (d, c, changes) => applyOf(d, c, changes),
  },
  powershell: {
    probe: (d) => schtaskProbe(d),
    apply: (d, c, changes) => applyOf(d, c, changes),
  },
  secrets: (d) => (d.sensitive ? Object.values(d.env ?? {}) : []),
  notified: (d, by) =>
    (d.state ?? 'running') === 'running'
      ? { op: 'restart', text: `restart service ${d.name} (notified by ${by.join(', ')})` }
      : { op: 'restart', text: `leave service ${d.name} ${d.state} (notified by ${by.join(', ')})` },
  examples: ({ path: p, value }): Example<ServiceOptions, ServiceCurrent>[] => [
    // [desired, current] pairs: a first install, a changed definition to stop, a removal
    // (on every OS the lint tests run: Linux-only and macOS-only fields are linted in service.test.ts).
    { desired: { name: 'web', argv: [p, value, `--x=${value}`], cwd: p, env: { V: value }, description: value }, current: { backend: 'systemd', probeUid: 0, props: {}, loaded: false, running: false, enabled: false } },
    { desired: { name: 'web', argv: [p, value], user: 'ana', state: 'stopped' }, current: { backend: 'systemd', probeUid: 0, userUid: 1000, props: { ActiveState: 'active' }, text: value, loaded: true, running: true, enabled: true } },
    { desired: { name: 'web', argv: [p], state: 'absent' }, current: { backend: 'systemd', probeUid: 0, props: {}, text: value, loaded: true, running: true, enabled: true } },
  ],
})

export const serviceType = service.type
