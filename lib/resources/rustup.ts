import * as v from 'valibot'
import type { Change, Facts, Step } from '../core/types.ts'
import { decodeHex } from '../shell/protocol.ts'
import { quote, showArgv } from '../shell/posix/quote.ts'
import { psQuote } from '../shell/powershell/quote.ts'
import { text } from './fields.ts'
import { cleanupStep, computed, fetchStep, INSTALLER_IDLE_SECONDS, installerPath, installerFields, type Pinned, recipeInstaller, psCleanupStep, psFetchStep } from './installer.ts'
import { defineResource } from './kit.ts'

/**
 * rustup's installer, pinned. POSIX hosts run rustup-init.sh (what sh.rustup.rs serves) from
 * rust-lang/rustup's tag 1.28.2, hash computed from that tag's file; Windows runs rustup-init.exe
 * 1.28.2 (hashes from microsoft/winget-pkgs manifests/r/Rustlang/Rustup/1.28.2).
 */
export const RUSTUP_INIT = {
  posix: { url: 'https://raw.githubusercontent.com/rust-lang/rustup/1.28.2/rustup-init.sh', sha256: '17247e4bcacf6027ec2e11c79a72c494c9af69ac8d1abcc1b271fa4375a106c2', file: 'rustup-init-1.28.2.sh' },
  'windows-x64': { url: 'https://static.rust-lang.org/rustup/archive/1.28.2/x86_64-pc-windows-msvc/rustup-init.exe', sha256: '88d8258dcf6ae4f7a80c7d1088e1f36fa7025a1cfd1343731b4ee6f385121fc0', file: 'rustup-init-1.28.2-x86_64.exe' },
  'windows-arm64': { url: 'https://static.rust-lang.org/rustup/archive/1.28.2/aarch64-pc-windows-msvc/rustup-init.exe', sha256: 'de9f7d29ccd39efa59a3dda3ec363b396e09b92681229b9b8f6aaa4c84285e9c', file: 'rustup-init-1.28.2-aarch64.exe' },
} as const satisfies Record<string, Pinned>

export interface RustupOptions {
  /** The default toolchain ('stable' when rustup is installed here; compared only when set). */
  toolchain?: string
  /** rustup's profile for the toolchains it installs (default 'minimal'). */
  profile?: 'minimal' | 'default' | 'complete'
  /** More toolchains beside the default, e.g. ['1.72.1'] for a build that needs an old rustc. */
  toolchains?: string[]
  /** Another rustup-init (a mirror, a stand-in): an .sh script on POSIX, the .exe on Windows; needs sha256. */
  url?: string
  sha256?: string
  idleTimeout?: number
  resolved?: { rustup: string; installer: Pinned & { path: string }; windows: boolean }
}

interface RustupCurrent {
  present: boolean
  version?: string
  /** Installed toolchains, as `rustup toolchain list` names them (`1.72.1-aarch64-apple-darwin`). */
  toolchains: string[]
  default?: string
}

type RustupOp = { op: 'install' } | { op: 'toolchain'; toolchain: string } | { op: 'default'; toolchain: string }

const TOOLCHAIN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const toolchain = (): v.GenericSchema<unknown, string> => v.pipe(text(), v.regex(TOOLCHAIN, "must be a toolchain name like 'stable', '1.72.1' or 'nightly-2023-09-01'"))

/** `1.72.1` is installed as `1.72.1-<host triple>`: a name matches itself or itself plus a triple. */
const has = (names: string[], t: string): boolean => names.some((n) => n === t || n.startsWith(`${t}-`))

function rustupPath(facts: Facts): string {
  return facts.os === 'windows' ? `${facts.home.replace(/\\$/, '')}\\.cargo\\bin\\rustup.exe` : `${facts.home.replace(/\/$/, '')}/.cargo/bin/rustup`
}

/**
 * The argv prefix that runs one step with a given toolchain, leaving the default alone:
 * `command({ argv: rustupRun('1.72.1', ['pip', 'install', 'tokenizers==0.13.3'], ctx.facts), … })`.
 * @example
 * rustupRun('1.72.1', ['cargo', 'build'], ctx.facts) // ['/Users/ana/.cargo/bin/rustup', 'run', '1.72.1', 'cargo', 'build']
 */
export function rustupRun(toolchainName: string, argv: string[], facts: Pick<Facts, 'os' | 'home'>): string[] {
  return [rustupPath(facts as Facts), 'run', toolchainName, ...argv]
}

/**
 * Rust through rustup, for the login user: rustup-init (pinned, checked) with `-y --profile
 * minimal --default-toolchain <toolchain>` when ~/.cargo/bin/rustup is missing, then any extra
 * toolchains with `rustup toolchain install`.
 * @example
 * rustup({ toolchain: 'stable', toolchains: ['1.72.1'] })
 */
export const rustup = defineResource<RustupOptions, RustupCurrent, RustupOp>({
  type: 'rustup',
  describe: () => 'rustup',
  fields: {
    toolchain: v.optional(toolchain()),
    profile: v.optional(v.picklist(['minimal', 'default', 'complete'], (i) => `must be 'minimal', 'default' or 'complete' (got ${JSON.stringify(i.input)})`)),
    toolchains: v.optional(v.array(toolchain(), 'must be an array of toolchain names')),
    ...installerFields(),
  },
  normalise(d, facts, fail) {
    const own = recipeInstaller(d, fail)
    const key = facts.os !== 'windows' ? 'posix' : facts.arch === 'arm64' ? 'windows-arm64' : 'windows-x64'
    const p: Pinned = own ?? RUSTUP_INIT[key]
    return { ...d, resolved: { rustup: rustupPath(facts), installer: { ...p, path: installerPath(p.file, facts) }, windows: facts.os === 'windows' } }
  },
  defaultId: () => 'rustup',
  parse(data): RustupCurrent {
    if (data.get('present') !== '1') return { present: false, toolchains: [] }
    const version = /^rustup (\S+)/.exec(decodeHex(data.get('version') ?? ''))?.[1]
    const c: RustupCurrent = { present: true, toolchains: [] }
    if (version) c.version = version
    for (const line of decodeHex(data.get('toolchains') ?? '').split(/\r?\n/)) {
      const m = /^(\S+)(?: \(([^)]*)\))?\s*$/.exec(line)
      if (!m || line.startsWith('no installed toolchains')) continue
      c.toolchains.push(m[1] as string)
      if (m[2]?.split(', ').includes('default')) c.default = m[1] as string
    }
    return c
  },
  diff(d, c) {
    const profile = d.profile ?? 'minimal'
    const first = d.toolchain ?? 'stable'
    const wanted = [...new Set([...(d.toolchain ? [d.toolchain] : []), ...(d.toolchains ?? [])])]
    if (!c.present) {
      const i = d.resolved?.installer
      return [
        { op: 'install', text: `install rustup (${i?.file}, sha256 ${i?.sha256.slice(0, 12)}…) with the ${first} toolchain, profile ${profile}` },
        ...wanted.filter((t) => t !== first).map((t): Change<RustupOp> => ({ op: 'toolchain', toolchain: t, text: `install the ${t} toolchain beside ${first} (rustup toolchain install ${t})` })),
      ]
    }
    const out: Change<RustupOp>[] = wanted.filter((t) => !has(c.toolchains, t)).map((t) => ({ op: 'toolchain', toolchain: t, text: `install the ${t} toolchain (rustup toolchain install ${t})` }))
    const want = d.toolchain
    if (want && !(c.default === want || c.default?.startsWith(`${want}-`))) out.push({ op: 'default', toolchain: want, text: `make ${want} the default toolchain (was ${c.default ?? 'none'})` })
    return out
  },
  posix: {
    probe(d) {
      return `sc_rustup=${quote(d.resolved?.rustup as string)}
if [ -x "$sc_rustup" ]; then
  echo present=1
  printf 'version='; "$sc_rustup" --version </dev/null 2>/dev/null | sc_hex; echo
  printf 'toolchains='; "$sc_rustup" toolchain list </dev/null 2>/dev/null | sc_hex; echo
else echo present=0; fi`
    },
    apply(d, _c, changes, facts): Step[] {
      const r = d.resolved as NonNullable<RustupOptions['resolved']>
      const idle = (d.idleTimeout ?? INSTALLER_IDLE_SECONDS) * 1000
      const profile = d.profile ?? 'minimal'
      const steps: Step[] = []
      if (changes.some((ch) => ch.op === 'install')) {
        steps.push(fetchStep('rustup', r.installer, r.installer.path, facts))
        const argv = ['sh', r.installer.path, '-y', '--profile', profile, '--default-toolchain', d.toolchain ?? 'stable']
        steps.push({ argv, idleTimeout: idle, label: showArgv(argv) }, cleanupStep(r.installer.path, facts))
      }
      return [...steps, ...rustupSteps(r.rustup, changes, profile, idle)]
    },
  },
  powershell: {
    probe(d) {
      const R = psQuote(d.resolved?.rustup as string)
      return `if (Test-Path -LiteralPath ${R}) {
  'present=1'
  Sc-KvHex 'version' ((& ${R} --version 2>$null) -join [char]10)
  Sc-KvHex 'toolchains' ((& ${R} toolchain list 2>$null) -join [char]10)
} else { 'present=0' }`
    },
    apply(d, _c, changes, facts): Step[] {
      const r = d.resolved as NonNullable<RustupOptions['resolved']>
      const idle = (d.idleTimeout ?? INSTALLER_IDLE_SECONDS) * 1000
      const profile = d.profile ?? 'minimal'
      const steps: Step[] = []
      if (changes.some((ch) => ch.op === 'install')) {
        steps.push(psFetchStep('rustup', r.installer, r.installer.path, facts))
        steps.push({ argv: [r.installer.path, '-y', '-q', '--profile', profile, '--default-toolchain', d.toolchain ?? 'stable'], idleTimeout: idle }, psCleanupStep(r.installer.path, facts))
      }
      return [...steps, ...rustupSteps(r.rustup, changes, profile, idle)]
    },
  },
  examples: ({ value }) => [
    { desired: { toolchains: ['1.72.1'], url: `https://mirror.example/${encodeURIComponent(value)}`, sha256: 'b'.repeat(64) }, current: { present: false, toolchains: [] } },
    { desired: { toolchain: '1.72.1' }, current: { present: true, toolchains: ['stable-x86_64-unknown-linux-gnu'], default: 'stable-x86_64-unknown-linux-gnu' } },
  ],
})

export const rustupType = rustup.type

function rustupSteps(bin: string, changes: { op: string; toolchain?: string }[], profile: string, idle: number): Step[] {
  return changes.flatMap((ch): Step[] => {
    if (ch.op === 'toolchain') return [{ argv: [bin, 'toolchain', 'install', ch.toolchain as string, '--profile', profile], idleTimeout: idle }]
    if (ch.op === 'default') return [{ argv: [bin, 'default', ch.toolchain as string] }]
    return []
  })
}
