import * as v from 'valibot'
import type { Facts, Step } from '../../core/types.ts'
import { decodeHex } from '../../shell/protocol.ts'
import { quote } from '../../shell/posix/quote.ts'
import { psScriptStep } from '../../shell/powershell/lib.ts'
import { psQuote } from '../../shell/powershell/quote.ts'
import { flag, normalisePath, path, text } from '../fields.ts'
import { cleanupStep, fetchStep, INSTALLER_IDLE_SECONDS, installerPath, installerFields, type Pinned, recipeInstaller, psCleanupStep, psFetchStep, refuseConflicts } from '../installer.ts'
import { defineResource } from '../kit.ts'
import { condaPlatform, type Flavor, installerFile, installerUrl, pinnedInstaller, SUBDIR } from './installers.ts'

export interface CondaOptions {
  /** 'miniforge' (default: conda-forge only, no channel Terms of Service), 'miniconda' or 'anaconda'. */
  flavor?: Flavor
  /** Where it is installed; default ~/miniforge3, ~/miniconda3 or ~/anaconda3. */
  prefix?: string
  /** An installer version: a row of the pinned table, or any version together with `sha256`. */
  version?: string
  /** The installer's URL (a mirror, a stand-in); needs `sha256`. */
  url?: string
  sha256?: string
  /** Anaconda and Miniconda only: accept the Terms of Service of Anaconda's default channels. Required for them. */
  acceptTos?: boolean
  /** Seconds the installer may print nothing before it counts as hung (default 1800). */
  idleTimeout?: number
  /** Filled in by statecraft from the facts. */
  resolved?: Resolved
}

interface Resolved extends Pinned {
  /** What the plan says about the installer: `Miniforge3 25.3.0-3 (sha256 from statecraft's pinned table)`. */
  what: string
  installer: string
  /** `platform` a usable conda reports (`osx-arm64` on an Apple Silicon Mac). */
  subdir: string
  appleSilicon: boolean
  /** A conda on PATH counts only when the recipe did not ask for a prefix. */
  pathCounts: boolean
}

interface CondaCurrent {
  found: 'prefix' | 'path' | 'none'
  /** Something other than a conda stands at the prefix. */
  prefixExists: boolean
  info?: { prefix?: string; platform?: string; version?: string }
  /** `conda info --json` printed no JSON. */
  broken?: boolean
}

type CondaOp = { op: 'install' } | { op: 'conflict'; why: string }

const TOS_CHANNELS = ['https://repo.anaconda.com/pkgs/main', 'https://repo.anaconda.com/pkgs/r']
/** Where each flavor installs by default, under the home directory. */
export const CONDA_DIRS: Record<Flavor, string> = { miniforge: 'miniforge3', miniconda: 'miniconda3', anaconda: 'anaconda3' }
const DIRS = CONDA_DIRS

/** The conda executable of an installation at `prefix`: bin/conda, or Scripts\conda.exe on Windows. */
export function condaExecutable(prefix: string, facts: Pick<Facts, 'os'>): string {
  return facts.os === 'windows' ? `${prefix.replace(/\\$/, '')}\\Scripts\\conda.exe` : `${prefix.replace(/\/$/, '')}/bin/conda`
}

/**
 * A conda base installation with the vendor's silent installer for the host's OS and hardware,
 * its sha256 checked against statecraft's pinned table (lib/resources/conda/installers.ts) before
 * it runs. An existing conda at the prefix (or, without a prefix, on PATH) is used as it is. On an
 * Apple Silicon Mac an x86_64 conda is refused: it would build x86 environments under Rosetta.
 * @example
 * conda({ prefix: '~/miniforge3' })
 * conda({ flavor: 'anaconda', acceptTos: true })
 */
export const conda = defineResource<CondaOptions, CondaCurrent, CondaOp>({
  type: 'conda',
  describe: (i) => `conda ${String(i.prefix ?? i.flavor ?? 'miniforge')}`,
  fields: {
    flavor: v.optional(v.picklist(['miniforge', 'miniconda', 'anaconda'], (i) => `must be 'miniforge', 'miniconda' or 'anaconda' (got ${JSON.stringify(i.input)})`)),
    prefix: v.optional(path()),
    version: v.optional(v.pipe(text(), v.regex(/^[A-Za-z0-9._-]+$/, 'must be a version like 25.3.0-3 or py313_25.5.1-1'))),
    acceptTos: v.optional(flag()),
    ...installerFields(),
  },
  normalise(d, facts, fail) {
    const flavor = d.flavor ?? 'miniforge'
    if (flavor !== 'miniforge' && d.acceptTos !== true) {
      fail('acceptTos', `must be true for ${flavor}: Anaconda's default channels require accepting their Terms of Service (https://www.anaconda.com/legal), and conda stops with CondaToSNonInteractiveError otherwise. Set acceptTos: true if you accept them, or use flavor: 'miniforge' (conda-forge, no Terms of Service)`)
    }
    const own = recipeInstaller(d, fail, { sha256Alone: true })
    const platform = condaPlatform(facts)
    const row = platform && (d.url === undefined ? pinnedInstaller(flavor, platform, d.version) : undefined)
    let pinned: Pinned & { what: string }
    if (own) {
      pinned = { ...own, what: `${own.file} from ${own.url} (sha256 from the recipe)` }
    } else if (!platform) {
      return fail('url', `is required on ${facts.os}/${facts.arch}: statecraft pins installers for macOS (arm64, x86_64), Linux (x86_64, aarch64) and Windows (x86_64); give url and sha256`)
    } else if (d.sha256 !== undefined || row) {
      const version = row?.version ?? d.version
      if (version === undefined) return fail('version', 'is required with sha256 (which installer is it the hash of?)')
      const file = installerFile(flavor, version, platform)
      const from = d.sha256 !== undefined ? 'sha256 from the recipe' : "sha256 from statecraft's pinned table"
      pinned = { url: installerUrl(flavor, version, platform), sha256: d.sha256 ?? (row as { sha256: string }).sha256, file, what: `${file} (${from})` }
    } else {
      return fail('version', `${JSON.stringify(d.version)} of ${flavor} for ${platform} is not in statecraft's pinned table (lib/resources/conda/installers.ts); give its sha256 from the vendor's release page`)
    }
    const prefix = normalisePath(d.prefix ?? `~/${DIRS[flavor]}`, 'prefix', facts, fail)
    const out: CondaOptions = { ...d, flavor, prefix }
    out.resolved = {
      ...pinned,
      installer: installerPath(pinned.file, facts),
      subdir: platform ? SUBDIR[platform] : '',
      appleSilicon: facts.appleSilicon,
      pathCounts: d.prefix === undefined,
    }
    return out
  },
  defaultId: (d) => `conda:${d.prefix}`,
  paths: (d) => [{ path: d.prefix as string, kind: 'directory' }],
  parse(data): CondaCurrent {
    const found = (data.get('found') ?? 'none') as CondaCurrent['found']
    const c: CondaCurrent = { found, prefixExists: data.get('exists') === '1' }
    if (found !== 'none') {
      try {
        const j = JSON.parse(decodeHex(data.get('info') ?? '')) as Record<string, unknown>
        const s = (k: string): string | undefined => (typeof j[k] === 'string' ? (j[k] as string) : undefined)
        const info: CondaCurrent['info'] = {}
        const prefix = s('conda_prefix') ?? s('root_prefix')
        if (prefix) info.prefix = prefix
        if (s('platform')) info.platform = s('platform')
        if (s('conda_version')) info.version = s('conda_version')
        c.info = info
      } catch {
        c.broken = true
      }
    }
    return c
  },
  diff(d, c) {
    const r = d.resolved as Resolved
    if (c.found === 'none') {
      if (c.prefixExists) return [{ op: 'conflict', why: `conda ${d.prefix}: the directory exists but holds no conda (no bin/conda); the installer will not write into it: remove it, or choose another prefix`, text: `install conda at ${d.prefix}: the directory exists without a conda in it` }]
      return [{ op: 'install', text: `install ${r.what} at ${d.prefix}${d.flavor !== 'miniforge' ? ', accepting the Terms of Service of Anaconda\'s default channels' : ''}` }]
    }
    const where = c.found === 'prefix' ? d.prefix : `${c.info?.prefix ?? '?'} (on PATH)`
    if (c.broken) return [{ op: 'conflict', why: `conda ${d.prefix}: the conda at ${where} does not answer 'conda info --json'; repair or remove it`, text: `use the conda at ${where}: it does not answer` }]
    const platform = c.info?.platform
    if (platform && r.subdir && platform !== r.subdir) {
      const why = r.appleSilicon && platform === 'osx-64'
        ? `conda ${d.prefix}: the conda at ${where} is an x86_64 build (platform osx-64) on an Apple Silicon Mac: it would build x86 environments that run under Rosetta, without MPS (the GPU). Remove it (rm -rf ${c.info?.prefix ?? where}) and run again, or give another prefix for an arm64 conda${c.found === 'path' ? ' and take the old one off PATH' : ''}`
        : `conda ${d.prefix}: the conda at ${where} is built for ${platform}, this host needs ${r.subdir}; remove it or give another prefix`
      return [{ op: 'conflict', why, text: `use the conda at ${where}: built for ${platform}, not ${r.subdir}` }]
    }
    return []
  },
  posix: {
    probe(d) {
      const P = quote(d.prefix as string)
      const onPath = (d.resolved as Resolved).pathCounts
        ? `elif command -v conda >/dev/null 2>&1; then echo found=path; printf 'info='; conda info --json </dev/null 2>/dev/null | sc_hex; echo\n`
        : ''
      return `sc_conda=${P}/bin/conda
if [ -x "$sc_conda" ]; then echo found=prefix; printf 'info='; "$sc_conda" info --json </dev/null 2>/dev/null | sc_hex; echo
${onPath}else echo found=none; fi
if [ -e ${P} ] || [ -L ${P} ]; then echo exists=1; else echo exists=0; fi`
    },
    apply(d, _c, changes, facts): Step[] {
      refuseConflicts(changes)
      const r = d.resolved as Resolved
      const what = `conda ${d.prefix}`
      // The arm64 installer under arch -arm64: a Rosetta shell would otherwise run it as x86_64.
      const arch = r.appleSilicon ? ['/usr/bin/arch', '-arm64'] : []
      const steps: Step[] = [
        fetchStep(what, r, r.installer, facts),
        { argv: [...arch, 'bash', r.installer, '-b', '-p', d.prefix as string], idleTimeout: (d.idleTimeout ?? INSTALLER_IDLE_SECONDS) * 1000, label: `${r.file} -b -p ${d.prefix}` },
      ]
      if (d.flavor !== 'miniforge') steps.push(tosStep(d.prefix as string))
      return [...steps, cleanupStep(r.installer, facts)]
    },
  },
  powershell: {
    probe(d) {
      const P = psQuote(d.prefix as string)
      const onPath = (d.resolved as Resolved).pathCounts
        ? `elseif (Get-Command conda -ErrorAction SilentlyContinue) { 'found=path'; Sc-KvHex 'info' ((& conda info --json 2>$null) -join [char]10) }\n`
        : ''
      return `$c = Join-Path ${P} 'Scripts\\conda.exe'
if (Test-Path -LiteralPath $c) { 'found=prefix'; Sc-KvHex 'info' ((& $c info --json 2>$null) -join [char]10) }
${onPath}else { 'found=none' }
if (Test-Path -LiteralPath ${P}) { 'exists=1' } else { 'exists=0' }`
    },
    apply(d, _c, changes, facts): Step[] {
      refuseConflicts(changes)
      const r = d.resolved as Resolved
      // NSIS reads /D= raw, as the last argument, spaces and all: one argument string, not an argv.
      const args = `/InstallationType=JustMe /AddToPath=0 /RegisterPython=0 /S /D=${d.prefix}`
      const install = `$p = Start-Process -FilePath ${psQuote(r.installer)} -ArgumentList ${psQuote(args)} -Wait -PassThru -NoNewWindow
exit $p.ExitCode`
      const steps: Step[] = [psFetchStep(`conda ${d.prefix}`, r, r.installer, facts), { ...psScriptStep(`${r.file} /S /D=${d.prefix}`, install), idleTimeout: (d.idleTimeout ?? INSTALLER_IDLE_SECONDS) * 1000 }]
      if (d.flavor !== 'miniforge') {
        const conda = psQuote(`${d.prefix}\\Scripts\\conda.exe`)
        const accept = [...TOS_CHANNELS, 'https://repo.anaconda.com/pkgs/msys2'].map((ch) => `  & ${conda} tos accept --override-channels --channel ${psQuote(ch)}\n  if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }`).join('\n')
        steps.push(psScriptStep('accept the Terms of Service of the default channels', `& ${conda} tos --help *> $null\nif ($LASTEXITCODE -eq 0) {\n${accept}\n}`))
      }
      return [...steps, psCleanupStep(r.installer, facts)]
    },
  },
  examples: ({ path, value }) => [
    { desired: { prefix: path }, current: { found: 'none', prefixExists: false } },
    { desired: { prefix: path, flavor: 'anaconda', acceptTos: true, url: `https://mirror.example/${encodeURIComponent(value)}.sh`, sha256: 'a'.repeat(64) }, current: { found: 'none', prefixExists: false } },
  ],
})

export const condaType = conda.type

/**
 * Accepts the default channels' Terms of Service when this conda has the ToS plugin (conda
 * 25.5 and later); an older conda does not enforce them.
 */
function tosStep(prefix: string): Step {
  const script = `c=$1; shift
if "$c" tos --help >/dev/null 2>&1; then
  for ch in "$@"; do "$c" tos accept --override-channels --channel "$ch" || exit; done
fi`
  return { argv: ['sh', '-c', script, 'statecraft-tos', `${prefix}/bin/conda`, ...TOS_CHANNELS], label: 'accept the Terms of Service of the default channels' }
}
