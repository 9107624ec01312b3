import { createHash } from 'node:crypto'
import { StatecraftError } from '../../core/errors.ts'
import type { Facts, Step } from '../../core/types.ts'
import { fetchToCache } from './controller-fetch.ts'
import type { DownloadCurrent, DownloadOptions } from './download.ts'
import { RECEIVE_SCRIPT, DEFAULT_STALL_SECONDS } from './script.ts'

/** Pieces of `download` that are not the resource contract: routes, figures, messages. */

export const urlHash = (url: string): string => createHash('sha1').update(url).digest('hex')

export function headersOf(d: DownloadOptions): Record<string, string> {
  return { ...(d.headers ?? {}), ...(d.token ? { Authorization: `Bearer ${d.token}` } : {}) }
}

/** The report's figures: bytes that travelled (a resumed transfer counts only the rest) and rate. */
export function transferDetails(t0: number): (stdout: string) => Record<string, number> {
  return (stdout) => {
    const m = /statecraft-stats bytes=(\d+)/.exec(stdout)
    if (!m) return {} as Record<string, number>
    const bytes = Number(m[1])
    const seconds = Math.max((performance.now() - t0) / 1000, 0.001)
    return { bytes, seconds: Math.round(seconds * 10) / 10, bytesPerSecond: Math.round(bytes / seconds) }
  }
}

/** The controller route: asked for, or chosen because the host has no downloader. */
export const viaController = (d: DownloadOptions, c: DownloadCurrent): boolean => d.via === 'controller' || (d.via === 'auto' && c.curlMissing === true)

export const controllerSource = (d: DownloadOptions): string => `controller:${urlHash(d.url)}:${d.sha256 ?? ''}`

/** Fills the controller's cache (once per run for all hosts), then streams the missing bytes. */
export function pushStep(d: DownloadOptions, c: DownloadCurrent, stamp: string): Step {
  const src = controllerSource(d)
  const offset = c.partSize && c.partSource === src ? c.partSize : 0
  const step: Step = {
    argv: [],
    label: `push ${d.url} -> ${d.dest} (via the controller)`,
    explain: (r) => explainFailure(d, r.stderr),
    details: transferDetails(performance.now()),
    prepare: async () => {
      const want = { ...(d.sha256 ? { sha256: d.sha256 } : {}), ...(d.size !== undefined ? { size: d.size } : {}) }
      const cached = await fetchToCache(d.url, headersOf(d), want, undefined, (b, t) => step.progress?.(b, t), (d.stallTimeout ?? DEFAULT_STALL_SECONDS) * 1000)
      const start = offset <= cached.size ? offset : 0
      step.argv = ['sh', '-c', RECEIVE_SCRIPT, 'statecraft-receive', d.dest, cached.sha256, String(cached.size), d.mode ?? '', stamp, src, urlHash(d.url), String(start)]
      step.stdin = { file: cached.path, start }
    },
  }
  return step
}

export function gatedError(d: DownloadOptions, head: { status?: number; errorCode?: string; errorMessage?: string }): StatecraftError {
  const page = d.url.replace(/\/resolve\/.*$/, '')
  const fix = head.status === 401 ? 'provide a token (the token option, e.g. from HF_TOKEN)' : 'accept the licence on the model page with the account the token belongs to'
  const gated = head.errorCode === 'GatedRepo' ? 'is gated' : `was refused (HTTP ${head.status})`
  return new StatecraftError('E_GATED', `download ${d.dest}: ${d.url} ${gated}: accept the licence at ${page} and provide a token; here: ${fix}`)
}

export function explainFailure(d: DownloadOptions, stderr: string): string | undefined {
  const http = /statecraft-http: (\d+) (\S*)/.exec(stderr)
  if (http) {
    const status = Number(http[1])
    if (status === 401 || status === 403) return gatedError(d, { status, errorCode: http[2] ?? '' }).message
    return `download ${d.dest}: ${d.url} answered HTTP ${status}`
  }
  const v = /statecraft-verify: (.*)/.exec(stderr)
  if (v) return `download ${d.dest}: the downloaded file failed its check (${v[1]}); it was discarded and ${d.dest} was left as it was`
  return undefined
}


export function stampPath(dest: string, facts: Facts): string {
  const sep = facts.os === 'windows' ? '\\' : '/'
  return [facts.home.replace(/[\\/]$/, ''), '.statecraft', 'stamps', createHash('sha1').update(dest).digest('hex')].join(sep)
}

/** What the file should hash to: the recipe's, else what the hub announced. */
export function expected(d: DownloadOptions, c: DownloadCurrent): { sha256?: string; size?: number; from: string } {
  const sha256 = d.sha256 ?? c.head?.linkedEtag
  const size = d.size ?? c.head?.linkedSize ?? c.head?.contentLength
  return { ...(sha256 ? { sha256 } : {}), ...(size !== undefined ? { size } : {}), from: d.sha256 ? 'recipe' : c.head?.linkedEtag ? 'X-Linked-Etag' : 'none' }
}

export const human = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${n} bytes`)
