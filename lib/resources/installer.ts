import * as v from 'valibot'
import { StatecraftError } from '../core/errors.ts'
import type { Facts, Step } from '../core/types.ts'
import { psScriptStep } from '../shell/powershell/lib.ts'
import { psQuote } from '../shell/powershell/quote.ts'
import { curlConfig, DOWNLOAD_SCRIPT, STAT_FN } from './download/script.ts'
import { psDownloadApply } from './download/ps.ts'
import { stampPath, urlHash } from './download/steps.ts'
import { type Fail, positive, text } from './fields.ts'

/**
 * A vendor's installer (Homebrew's install.sh, rustup-init, a conda .sh/.exe) fetched with the
 * `download` resource's machinery: into ~/.statecraft/installers/<file>.part, resumed with Range
 * after a cut, its sha256 checked before it is renamed into place, a stamp written. A stamped
 * installer from an earlier, failed run is used again without a byte of network. A file that
 * fails its check is discarded: nothing runs.
 */
export interface Pinned {
  url: string
  sha256: string
  /** The file name it is saved under. */
  file: string
}

const got = (x: unknown): string => JSON.stringify(x)

export const urlField = (): v.GenericSchema<unknown, string> =>
  v.pipe(text(), v.check((u) => /^https?:\/\/[^\s]+$/.test(u), (i) => `must be an http(s) URL without spaces (got ${got(i.input)})`))

export const sha256Field = (): v.GenericSchema<unknown, string> =>
  v.pipe(v.custom<string>((x) => typeof x === 'string' && /^[0-9a-fA-F]{64}$/.test(x), (i) => `must be 64 hex digits (got ${got(i.input)})`), v.toLowerCase())

/** A field statecraft fills in itself (from the facts); an author who sets it is told so. */
export const computed = (why: string): v.GenericSchema<unknown, any> => v.optional(v.custom<never>(() => false, why))

/**
 * The fields every installer-running resource takes: the recipe's own installer (`url` with its
 * `sha256`), the idle bound of a long install, and what statecraft resolves from the facts.
 */
export const installerFields = (): { url: v.GenericSchema<unknown, string | undefined>; sha256: v.GenericSchema<unknown, string | undefined>; idleTimeout: v.GenericSchema<unknown, number | undefined>; resolved: v.GenericSchema<unknown, any> } => ({
  url: v.optional(urlField()),
  sha256: v.optional(sha256Field()),
  idleTimeout: v.optional(positive('seconds')),
  resolved: computed('is filled in by statecraft; leave it out'),
})

/** The last path segment of a URL, for the saved file's name. */
export function fileOfUrl(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '')
  return /^[A-Za-z0-9._+-]+$/.test(name) ? name : 'installer'
}

/**
 * The recipe's own installer: `url` and `sha256` together (an installer is never run unchecked),
 * or undefined when it gave no url (the pinned table's). `sha256Alone`: the caller uses a hash
 * without a url itself (conda re-pins its table's file with it); elsewhere it is refused.
 */
export function recipeInstaller(d: { url?: string; sha256?: string }, fail: Fail, o: { sha256Alone?: boolean } = {}): Pinned | undefined {
  if (d.url !== undefined && d.sha256 === undefined) fail('sha256', 'is required with url: an installer is never run unchecked')
  if (d.url === undefined && d.sha256 !== undefined && !o.sha256Alone) fail('url', 'is required with sha256 (the hash of which file?)')
  return d.url !== undefined ? { url: d.url, sha256: d.sha256 as string, file: fileOfUrl(d.url) } : undefined
}

export function installerPath(file: string, facts: Facts): string {
  const sep = facts.os === 'windows' ? '\\' : '/'
  return [facts.home.replace(/[\\/]$/, ''), '.statecraft', 'installers', file].join(sep)
}

/** Skips the download when the stamp says this very file (same URL, same sha256) was verified. */
export const FETCH_SCRIPT = `${STAT_FN}
if [ -f "$1" ] && [ -f "$5" ]; then
  read -r s m i h u < "$5"
  if [ "$s $m $i" = "$(sc_st "$1")" ] && [ "$h" = "$2" ] && [ "$u" = "$7" ]; then echo "statecraft-stats bytes=0"; exit 0; fi
fi
${DOWNLOAD_SCRIPT}`

/** What a failed fetch means for the resource that needed it: said once, with the fix. */
function explainFetch(what: string, p: Pinned): (r: { stderr: string }) => string | undefined {
  return (r) => {
    const verify = /statecraft-verify: (.*)/.exec(r.stderr)
    if (verify) {
      return `${what}: the installer from ${p.url} failed its check (${verify[1]}): it was discarded and nothing was installed. ` +
        'If the vendor republished it, check the new file and give its sha256 (and url) in the recipe'
    }
    const http = /statecraft-http: (\d+)/.exec(r.stderr)
    if (http) return `${what}: ${p.url} answered HTTP ${http[1]}: nothing was installed; check the url (or version) in the recipe`
    if (/curl is not installed/.test(r.stderr)) return `${what}: curl is not installed on the host, so the installer cannot be fetched; install curl first`
    return undefined
  }
}

/** POSIX: the step that puts the checked installer at `dest`. */
export function fetchStep(what: string, p: Pinned, dest: string, facts: Facts): Step {
  return {
    argv: ['sh', '-c', FETCH_SCRIPT, 'statecraft-download', dest, p.sha256, '', '', stampPath(dest, facts), p.sha256, urlHash(p.url), '0'],
    stdin: curlConfig(p.url, {}),
    label: `fetch ${p.url} -> ${dest} (sha256 ${p.sha256.slice(0, 12)}…)`,
    explain: explainFetch(what, p),
  }
}

/** POSIX: removes the installer and its stamp once it has done its work. */
export function cleanupStep(dest: string, facts: Facts): Step {
  return { argv: ['rm', '-f', '--', dest, stampPath(dest, facts)] }
}

/** Windows: the same fetch, curl.exe in PowerShell (download's Windows half). */
export function psFetchStep(what: string, p: Pinned, dest: string, facts: Facts): Step {
  const step = psScriptStep(
    `fetch ${p.url} -> ${dest}`,
    psDownloadApply({ dest, stamp: stampPath(dest, facts), urlHash: urlHash(p.url), sha256: p.sha256, config: curlConfig(p.url, {}), verify: false, sourceId: p.sha256 }),
  )
  step.explain = explainFetch(what, p)
  return step
}

export function psCleanupStep(dest: string, facts: Facts): Step {
  return psScriptStep(`remove ${dest}`, `Remove-Item -LiteralPath ${psQuote(dest)}, ${psQuote(stampPath(dest, facts))} -Force -ErrorAction SilentlyContinue`)
}

/** Refuses a change this resource will not make: E_CONFLICT with its reason (directory.ts's convention). */
export function refuseConflicts(changes: { op: string; why?: string }[]): void {
  for (const ch of changes) if (ch.op === 'conflict') throw new StatecraftError('E_CONFLICT', ch.why ?? 'conflict')
}

/** Seconds without output before an installer counts as hung (the command resource's default). */
export const INSTALLER_IDLE_SECONDS = 30 * 60
