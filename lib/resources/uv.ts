import * as v from 'valibot'
import type { Facts, Step } from '../core/types.ts'
import { decodeHex } from '../shell/protocol.ts'
import { quote, showArgv } from '../shell/posix/quote.ts'
import { psScriptStep } from '../shell/powershell/lib.ts'
import { psQuote } from '../shell/powershell/quote.ts'
import { normalisePath, path, text } from './fields.ts'
import { cleanupStep, computed, fetchStep, INSTALLER_IDLE_SECONDS, installerPath, installerFields, type Pinned, recipeInstaller, psCleanupStep, psFetchStep } from './installer.ts'
import { defineResource } from './kit.ts'

/**
 * Astral's standalone uv installers (cargo-dist's uv-installer.sh) statecraft runs, with their
 * sha256. Newest first: the first row is the default. This machine had no network when the table
 * was written; each digest is the one two or more public projects pin for that release's
 * installer (sha256 of the URL as given). Add a row only with a digest you computed yourself.
 * An installer that is not in this table runs only with `url` and `sha256` from the recipe.
 */
export const UV_INSTALLERS: readonly (Pinned & { version: string })[] = [
  { version: '0.12.17', url: 'https://github.com/astral-sh/uv/releases/download/0.12.17/uv-installer.sh', sha256: '37b82230b28617c6c24fa52364fa28aa37f2aa40c114809a623f6b064a9730e5', file: 'uv-installer-0.12.17.sh' },
  { version: '0.12.3', url: 'https://astral.sh/uv/0.12.3/install.sh', sha256: 'a7e3924ea1cd06bf1518c577d635c624ae2e2db030e0fc8ff8cf426224384e17', file: 'uv-installer-0.12.3.sh' },
]

export interface UvOptions {
  /** The uv release: a row of UV_INSTALLERS (default: its newest), or any version together with url + sha256. */
  version?: string
  /** Where the installer puts uv and uvx (UV_INSTALL_DIR); default ~/.local/bin. */
  dir?: string
  /** Another installer (a mirror, a stand-in; on Windows the vendor's uv-installer.ps1); needs sha256. */
  url?: string
  sha256?: string
  idleTimeout?: number
  resolved?: { uv: string; installer: Pinned & { path: string }; windows: boolean }
}

interface UvCurrent {
  present: boolean
  version?: string
}

type UvOp = { op: 'install' }

const VERSION = /^\d+\.\d+\.\d+(?:[-.+][A-Za-z0-9.]+)?$/

/** Where uv lands: `<dir>/uv` (`uv.exe` on Windows), `dir` defaulting to the vendor's ~/.local/bin. */
export function uvDir(facts: Pick<Facts, 'os' | 'home'>, dir?: string): string {
  if (dir !== undefined) return dir
  return facts.os === 'windows' ? `${facts.home.replace(/\\$/, '')}\\.local\\bin` : `${facts.home.replace(/\/$/, '')}/.local/bin`
}

export function uvBinary(facts: Pick<Facts, 'os' | 'home'>, dir?: string): string {
  return facts.os === 'windows' ? `${uvDir(facts, dir)}\\uv.exe` : `${uvDir(facts, dir)}/uv`
}

/** The installer's settings: where to install, and never edit the user's shell profiles (or the Windows PATH). */
const installEnv = (dir: string): Record<string, string> => ({ UV_INSTALL_DIR: dir, UV_NO_MODIFY_PATH: '1' })

/**
 * uv from Astral's standalone installer, for hosts whose package manager does not ship it (Debian
 * 12, Ubuntu; where brew, winget or pacman has it, use `pkg`). The installer is fetched into
 * ~/.statecraft/installers, its sha256 checked against the pinned table (or the recipe's
 * url + sha256) before it runs: a file that fails the check is discarded and nothing runs. It runs
 * non-interactively with UV_INSTALL_DIR and UV_NO_MODIFY_PATH, so it touches no shell profile.
 * A uv there in another version than the one asked for is installed over.
 * @example
 * uv({ dir: '~/.local/bin' })
 */
export const uv = defineResource<UvOptions, UvCurrent, UvOp>({
  type: 'uv',
  describe: () => 'uv',
  fields: {
    version: v.optional(v.pipe(text(), v.regex(VERSION, 'must be a uv release like 0.12.17'))),
    dir: v.optional(path()),
    ...installerFields(),
  },
  normalise(d, facts, fail) {
    const own = recipeInstaller(d, fail)
    const windows = facts.os === 'windows'
    let p: Pinned
    if (own) {
      p = own
    } else if (windows) {
      return fail('url', "is required on Windows: statecraft pins no uv-installer.ps1; install uv with pkg (winget 'astral-sh.uv'), or give the installer's url and sha256")
    } else {
      const row = d.version === undefined ? UV_INSTALLERS[0] : UV_INSTALLERS.find((r) => r.version === d.version)
      if (!row) return fail('version', `${JSON.stringify(d.version)} is not in statecraft's pinned table of uv installers (${UV_INSTALLERS.map((r) => r.version).join(', ')}); give url and sha256 from the release you checked`)
      p = row
    }
    const dir = d.dir !== undefined ? normalisePath(d.dir, 'dir', facts, fail) : undefined
    const version = d.version ?? (d.url === undefined ? UV_INSTALLERS[0]?.version : undefined)
    return {
      ...d,
      ...(dir !== undefined ? { dir } : {}),
      ...(version !== undefined ? { version } : {}),
      resolved: { uv: uvBinary(facts, dir), installer: { url: p.url, sha256: p.sha256, file: p.file, path: installerPath(p.file, facts) }, windows },
    }
  },
  defaultId: () => 'uv',
  paths: (d) => [{ path: d.resolved?.uv ?? 'uv', kind: 'file' }],
  parse(data): UvCurrent {
    if (data.get('present') !== '1') return { present: false }
    const version = /^uv (\S+)/.exec(decodeHex(data.get('version') ?? '').trim())?.[1]
    return version ? { present: true, version } : { present: true }
  },
  diff(d, c) {
    const i = d.resolved?.installer
    const what = `${i?.file} (sha256 ${i?.sha256.slice(0, 12)}…) into ${d.resolved ? d.resolved.uv.replace(/[\\/]uv(\.exe)?$/, '') : ''}`
    if (!c.present) return [{ op: 'install', text: `install uv${d.version ? ` ${d.version}` : ''} with ${what}` }]
    if (d.version !== undefined && c.version !== d.version) return [{ op: 'install', text: `install uv ${d.version} over ${c.version ?? 'an uv that printed no version'} with ${what}` }]
    return []
  },
  posix: {
    probe(d) {
      return `sc_uv=${quote(d.resolved?.uv as string)}
if [ -x "$sc_uv" ]; then
  echo present=1
  printf 'version='; "$sc_uv" --version </dev/null 2>/dev/null | sc_hex; echo
else echo present=0; fi`
    },
    apply(d, _c, changes, facts): Step[] {
      if (changes.length === 0) return []
      const r = d.resolved as NonNullable<UvOptions['resolved']>
      const argv = ['sh', r.installer.path]
      return [
        fetchStep('uv', r.installer, r.installer.path, facts),
        { argv, env: installEnv(uvDir(facts, d.dir)), idleTimeout: (d.idleTimeout ?? INSTALLER_IDLE_SECONDS) * 1000, label: showArgv(argv) },
        cleanupStep(r.installer.path, facts),
      ]
    },
  },
  powershell: {
    probe(d) {
      const U = psQuote(d.resolved?.uv as string)
      return `if (Test-Path -LiteralPath ${U}) {
  'present=1'
  Sc-KvHex 'version' ((& ${U} --version 2>$null) -join [char]10)
} else { 'present=0' }`
    },
    apply(d, _c, changes, facts): Step[] {
      if (changes.length === 0) return []
      const r = d.resolved as NonNullable<UvOptions['resolved']>
      const env = installEnv(uvDir(facts, d.dir))
      return [
        psFetchStep('uv', r.installer, r.installer.path, facts),
        psScriptStep(`run ${r.installer.path}`, [
          ...Object.entries(env).map(([k, val]) => `$env:${k} = ${psQuote(val)}`),
          `& powershell -NoProfile -ExecutionPolicy Bypass -File ${psQuote(r.installer.path)}`,
          'exit $LASTEXITCODE',
        ].join('\n')),
        psCleanupStep(r.installer.path, facts),
      ]
    },
  },
  examples: ({ path: p, value }) => [
    // Every example gives url + sha256: Windows has no pinned row.
    { desired: { dir: p, url: 'https://mirror.example/uv-installer.sh', sha256: 'c'.repeat(64) }, current: { present: false } },
    { desired: { version: '0.12.3', dir: p, url: `https://mirror.example/${encodeURIComponent(value)}.sh`, sha256: 'c'.repeat(64) }, current: { present: true, version: '0.9.0' } },
  ],
})

export const uvType = uv.type
