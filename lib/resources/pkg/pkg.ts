import { validRange } from '../../core/semver.ts'
import * as v from 'valibot'
import { StatecraftError } from '../../core/errors.ts'
import type { Change, Example } from '../../core/types.ts'
import { decodeHex } from '../../shell/protocol.ts'
import { flag, positive, state, text } from '../fields.ts'
import { defineResource } from '../kit.ts'
import { brewPrefix } from '../homebrew.ts'
import { newestFirst, parseAvailable, parseInstalled, parseWingetList, parseWingetShow, pick, satisfied, shortVersion } from './parse.ts'
import { posixApply, posixProbe } from './posix.ts'
import { psApply, psProbe } from './powershell.ts'
import { MANAGERS, namesFor, POSIX_MANAGERS, WINDOWS_MANAGERS, type Manager, type PkgCurrent, type PkgOp, type PkgOptions } from './types.ts'

const got = (x: unknown): string => JSON.stringify(x)

/** Package names and ids as the managers spell them: no option-like or blank names reach a command line. */
const NAME = /^[A-Za-z0-9@+_][A-Za-z0-9@+_.\/-]*$/
const okName = (x: unknown): boolean => typeof x === 'string' && NAME.test(x)
const nameError = 'must be a package name or id (letters, digits, and @ + _ . / - not first), e.g. \'git\' or \'Git.Git\''

const oneName = (): v.GenericSchema<unknown, string> => v.custom<string>(okName, (i) => `${nameError} (got ${got(i.input)})`)
const nameList = (): v.GenericSchema<unknown, string[]> =>
  v.custom<string[]>((x) => Array.isArray(x) && x.length > 0 && x.every(okName), (i) => `must be a non-empty array of package names: each ${nameError} (got ${got(i.input)})`)
const perManager = (): v.GenericSchema<unknown, string | string[] | undefined> => v.optional(v.union([oneName(), nameList()], (i) => `must be a package name or an array of them (got ${got(i.input)})`))

function refuseConflict(changes: Change<PkgOp>[]): void {
  for (const ch of changes) if (ch.op === 'conflict') throw new StatecraftError('E_CONFLICT', ch.why)
}

const label = (d: PkgOptions): string => (d.names ?? [d.name ?? '?']).join(', ')

/**
 * Packages from the host's package manager: apt, dnf, pacman, Homebrew (as the login user, never
 * root), winget (exact ids) or Chocolatey, chosen by what the host has or by `manager`. `version`
 * is a semver range; an unsatisfied one installs the newest version offered that satisfies it.
 * A winget step that fails for want of the user's logon session (SSH) runs again as a scheduled
 * task in the user's interactive session; the report's `details.route` says which ran.
 * @example
 * pkg({ name: 'git', winget: 'Git.Git', version: '>=2.35', acceptAgreements: true })
 * pkg({ names: ['git', 'curl'] })
 * pkg({ name: 'telnet', state: 'absent' })
 */
export const pkg = defineResource<PkgOptions, PkgCurrent, PkgOp>({
  type: 'pkg',
  describe: (i) => `pkg ${Array.isArray(i.names) ? i.names.join(', ') : String(i.name)}`,
  fields: {
    name: v.optional(oneName()),
    names: v.optional(nameList()),
    apt: perManager(),
    dnf: perManager(),
    pacman: perManager(),
    brew: perManager(),
    winget: perManager(),
    choco: perManager(),
    version: v.optional(v.custom<string>((x) => typeof x === 'string' && validRange(x) !== null, (i) => `must be a semver range like '>=2.35' or '^2.39' (got ${got(i.input)})`)),
    state: state(),
    manager: v.optional(v.picklist(MANAGERS, (i) => `must be one of ${MANAGERS.join(', ')} (got ${got(i.input)})`)),
    acceptAgreements: v.optional(flag()),
    aptOptions: v.optional(
      v.record(
        v.pipe(v.string(), v.regex(/^[A-Za-z0-9_:-]+$/, "is not an apt configuration key like 'Dir::Etc::sourcelist'")),
        v.pipe(text(), v.check((s) => !s.includes('\n') && !s.includes('\0'), 'must be one line')),
        (i) => `must be an object of apt configuration keys and values (got ${got(i.input)})`,
      ),
    ),
    idleTimeout: v.optional(positive('seconds')),
    brewPrefix: v.optional(text()),
  },
  normalise(d, facts, fail) {
    if (d.brewPrefix !== undefined) fail('brewPrefix', 'is filled in by statecraft (the prefix the hardware decides); leave it out')
    if ((d.name === undefined) === (d.names === undefined)) fail('name/names', d.name === undefined ? 'are both missing: give name: \'git\' or names: [\'git\', \'curl\']' : 'are both set: give one of them')
    const windows = facts.os === 'windows'
    const fits: readonly Manager[] = windows ? WINDOWS_MANAGERS : POSIX_MANAGERS
    if (d.manager && !fits.includes(d.manager)) fail('manager', `${d.manager} does not run on ${facts.os} hosts; there use ${fits.join(' or ')}`)
    if (d.manager === 'brew' && facts.os !== 'darwin') fail('manager', 'brew is managed on macOS hosts only')
    if (d.manager && !namesFor(d, d.manager)) fail(d.manager, `is missing: winget installs only by exact id, e.g. winget: 'Git.Git'`)
    if (d.manager === 'winget' && d.state !== 'absent' && d.acceptAgreements !== true) fail('acceptAgreements', winget)
    const brew = d.manager === 'brew' || (!d.manager && facts.os === 'darwin')
    if (brew && facts.uid === 0) fail('manager', 'Homebrew refuses to run as root, and this host is connected to as root: connect as the user who owns Homebrew')
    // The prefix as a used path: a homebrew() resource manages it, so the graph orders this after it.
    return brew ? { ...d, brewPrefix: brewPrefix(facts.appleSilicon) } : d
  },
  defaultId: (d) => `pkg:${label(d)}`,
  paths: (d) => (d.brewPrefix ? [{ path: d.brewPrefix, kind: 'uses' as const }] : []),
  parse(data, d) {
    const m = data.get('manager')
    if (!m || !(MANAGERS as readonly string[]).includes(m)) return { installed: {} }
    const manager = m as Manager
    const names = namesFor(d, manager) ?? []
    if (manager === 'winget') {
      const c: PkgCurrent = { manager, installed: {} }
      const path = decodeHex(data.get('wingetpath'))
      if (path !== '') c.wingetPath = path
      names.forEach((id, i) => {
        const version = parseWingetList(decodeHex(data.get(`installed_${i}`)), id)
        if (version !== undefined) c.installed[id] = version
        if (data.has(`available_${i}`)) (c.available ??= {})[id] = parseWingetShow(decodeHex(data.get(`available_${i}`)))
      })
      return c
    }
    const c: PkgCurrent = { manager, installed: parseInstalled(manager, decodeHex(data.get('installed')), names) }
    if (data.has('available')) c.available = parseAvailable(manager, decodeHex(data.get('available')), names)
    return c
  },
  diff(d, c) {
    const m = c.manager
    if (!m) {
      const looked = d.manager ?? 'a supported package manager'
      return [{ op: 'conflict', why: `pkg ${label(d)}: ${looked} was not found on the host; install it first (or order this after the resource that does)`, text: `${d.state === 'absent' ? 'remove' : 'install'} ${label(d)}: no package manager found` }]
    }
    const names = namesFor(d, m) ?? []
    const out: Change<PkgOp>[] = []
    for (const n of names) {
      const have = c.installed[n]
      if (d.state === 'absent') {
        if (have !== undefined) out.push({ op: 'remove', name: n, text: `remove ${n} (${m})` })
        continue
      }
      if (have !== undefined && (d.version === undefined || satisfied(have, d.version))) continue
      const offered = c.available?.[n] ?? []
      const want = pick(offered, d.version)
      const goal = have === undefined ? `install ${n}${d.version ? ` ${d.version}` : ''} (${m})` : `upgrade ${n} ${shortVersion(have)} to satisfy ${d.version} (${m})`
      if (want === undefined) {
        const listed = newestFirst(offered).map(shortVersion)
        const why =
          listed.length === 0
            ? `pkg ${n}: ${m} offers no package named ${n}; check the name${m === 'apt' ? ' and that apt-get update has run' : ''}`
            : `pkg ${n}: no version ${m} offers satisfies ${d.version} (available: ${[...new Set(listed)].join(', ')}); change the range or add a source that has one`
        out.push({ op: 'conflict', why, text: `${goal}: ${listed.length === 0 ? 'not offered' : `no version satisfies it (available: ${[...new Set(listed)].join(', ')})`}` })
        continue
      }
      if (m === 'winget' && d.acceptAgreements !== true) {
        out.push({ op: 'conflict', why: `pkg ${n}: ${winget}`, text: `${goal}: needs acceptAgreements: true` })
        continue
      }
      if (have === undefined) {
        out.push({ op: 'install', name: n, version: want, text: `install ${n} ${shortVersion(want)} (${m})` })
        continue
      }
      const down = newestFirst([have, want])[0] === have && shortVersion(have) !== shortVersion(want)
      out.push({ op: 'install', name: n, version: want, from: have, down, text: `${down ? 'downgrade' : 'upgrade'} ${n} ${shortVersion(have)} → ${shortVersion(want)} to satisfy ${d.version} (${m})` })
    }
    return out
  },
  posix: {
    probe: (d, facts) => posixProbe(d, facts),
    apply(d, c, changes, facts) {
      refuseConflict(changes)
      return posixApply(d, c, changes, facts)
    },
  },
  powershell: {
    probe: (d) => psProbe(d),
    apply(d, c, changes) {
      refuseConflict(changes)
      return psApply(d, c, changes)
    },
  },
  examples: ({ value }): Example<PkgOptions, PkgCurrent>[] => [
    { desired: { name: 'git', version: '>=2.35', aptOptions: { 'Dir::Etc::sourcelist': value.replaceAll('\n', ' ') } }, current: { manager: 'apt', installed: { git: '1:2.30.2-1' }, available: { git: ['1:2.39.5-0+deb12u1'] } } },
    { desired: { names: ['git', 'curl'], brew: ['git', 'user/tap/curl'], state: 'absent' }, current: { manager: 'apt', installed: { git: '1:2.39.5-0+deb12u1', curl: '7.88.1-10' } } },
    { desired: { name: 'git', winget: 'Git.Git', acceptAgreements: true }, current: { manager: 'winget', wingetPath: `C:\\Program Files\\WindowsApps\\${value}\\winget.exe`, installed: {}, available: { 'Git.Git': ['2.43.0'] } } },
    { desired: { names: ['git', 'curl'], version: '<9' }, current: { manager: 'choco', installed: { git: '2.42.0' }, available: { git: ['2.43.0'], curl: ['8.5.0'] } } },
    { desired: { name: 'git', winget: 'Git.Git', state: 'absent' }, current: { manager: 'winget', installed: { 'Git.Git': '2.43.0' } } },
  ],
})

const winget = 'winget installs need the recipe to accept the package and source agreements: set acceptAgreements: true (it adds --accept-package-agreements --accept-source-agreements)'

export const pkgType = pkg.type
