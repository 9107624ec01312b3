import * as v from 'valibot'
import type { Change, Facts, Step } from '../../core/types.ts'
import { StatecraftError } from '../../core/errors.ts'
import { decodeHex } from '../../shell/protocol.ts'
import { flag, mode, normalisePath, path, positive, text } from '../fields.ts'
import { defineResource } from '../kit.ts'
import { curlConfig, DOWNLOAD_SCRIPT, posixDownloadProbe, STAMP_SCRIPT } from './script.ts'
import { controllerSource, expected, explainFailure, gatedError, headersOf, human, pushStep, stampPath, transferDetails, urlHash, viaController } from './steps.ts'
import { psDownloadApply, psDownloadProbe, psStampScript, type PsDownload } from './ps.ts'
import { parseHead, type HeadInfo } from './http-head.ts'

export interface DownloadOptions {
  url: string
  dest: string
  /** Expected sha256 (hex). Without it, the hash a hub announces (X-Linked-Etag) is used. */
  sha256?: string
  /** Expected size in bytes. */
  size?: number
  headers?: Record<string, string>
  /** Bearer token (e.g. a Hugging Face token); secret: never in argv, logs, plans or reports. */
  token?: string
  mode?: string
  /**
   * Without `token`, use the target host's own hub token (its HF_TOKEN, else
   * ~/.cache/huggingface/token). Default: on for huggingface.co URLs, never sent elsewhere.
   */
  hubToken?: boolean
  /** A CA bundle on the host for TLS (on-host downloads). */
  caBundle?: string
  /**
   * 'host' (default): the target downloads it itself. 'controller': fetched once into the
   * controller's cache (~/.cache/statecraft/downloads, or $STATECRAFT_CACHE) and pushed to each
   * host over its connection — for hosts without internet access; N hosts, one download.
   * 'auto': the host when it has curl, else the controller route.
   */
  via?: 'host' | 'controller' | 'auto'
  /**
   * Seconds without progress (no bytes, or no answer to a request) before a transfer counts as
   * stalled: it is cut and resumed, up to 6 attempts. Default 60. There is no limit on the total.
   */
  stallTimeout?: number
}

export interface DownloadCurrent {
  stampOk: boolean
  /** The stamp matched, but --verify-artifacts asked for a full hash anyway. */
  stampMatched?: boolean
  exists: boolean
  /** sha256 of the existing file, computed only when its stamp did not match. */
  hash?: string
  /** The file exists but the login user cannot read it to check it. */
  unreadable?: boolean
  partSize?: number
  partSource?: string
  curlMissing?: boolean
  head?: HeadInfo
  availKiB?: number
}

type DownloadOp = { op: 'check' } | { op: 'stamp'; sha256: string } | { op: 'download' } | { op: 'push' }

const got = (x: unknown): string => JSON.stringify(x)
const HEADER = 'must be a header name with a single-line string value'

/**
 * A large file fetched by the host itself: streamed to `<dest>.part`, resumed with Range after
 * an interruption, checked (size, sha256) and renamed into place; a stamp (size, mtime, inode,
 * sha256) makes the next run stat the file instead of hashing it.
 * @example
 * download({ url: 'https://huggingface.co/CompVis/stable-diffusion-v-1-4-original/resolve/main/sd-v1-4-full-ema.ckpt',
 *   dest: '~/InvokeAI/models/ldm/stable-diffusion-v1/model.ckpt', token: options.hfToken,
 *   sha256: '14749efc0ae8ef0329391ad4436feb781b402f4fece4883c7ad8d10556d8a36a', size: 7703807346 })
 */
export const download = defineResource<DownloadOptions, DownloadCurrent, DownloadOp>({
  type: 'download',
  describe: (i) => `download ${String(i.dest)}`,
  fields: {
    url: v.pipe(text(), v.check((u) => /^https?:\/\/[^\s]+$/.test(u), (i) => `must be an http(s) URL without spaces (got ${got(i.input)})`)),
    dest: path(),
    sha256: v.optional(v.pipe(v.custom<string>((x) => typeof x === 'string' && /^[0-9a-fA-F]{64}$/.test(x), 'must be 64 hex digits'), v.toLowerCase())),
    size: v.optional(v.custom<number>((x) => Number.isSafeInteger(x) && (x as number) >= 0, (i) => `must be a whole number of bytes (got ${got(i.input)})`)),
    headers: v.optional(v.record(v.pipe(v.string(), v.regex(/^[A-Za-z0-9-]+$/, HEADER)), v.pipe(v.string(HEADER), v.check((h) => !/[\r\n]/.test(h), HEADER)), 'must be an object of header names to values')),
    // The message never shows the value: it is a secret.
    token: v.optional(v.custom<string>((x) => typeof x === 'string' && !/[\s"\\]/.test(x), 'must be a single word (a bearer token)')),
    mode: v.optional(mode()),
    hubToken: v.optional(flag()),
    caBundle: v.optional(path()),
    stallTimeout: v.optional(positive('seconds')),
    via: v.optional(v.picklist(['host', 'controller', 'auto'], (i) => `must be 'host', 'controller' or 'auto' (got ${got(i.input)})`)),
  },
  normalise(d, facts, fail) {
    if (facts.dialect === 'powershell' && d.via !== undefined && d.via !== 'host') fail('via', 'the controller route is not available for Windows hosts yet; leave via out')
    const out: DownloadOptions = { ...d, dest: normalisePath(d.dest, 'dest', facts, fail) }
    if (d.token === '') delete out.token
    if (d.via === 'host') delete out.via
    if (d.hubToken ?? /^https:\/\/([a-z0-9-]+\.)*(huggingface\.co|hf\.co)\//.test(d.url)) out.hubToken = true
    else delete out.hubToken
    if (d.caBundle !== undefined) out.caBundle = normalisePath(d.caBundle, 'caBundle', facts, fail)
    return out
  },
  defaultId: (d) => `download:${d.dest}`,
  paths: (d) => [{ path: d.dest, kind: 'file' }],
  parse(data): DownloadCurrent {
    const c: DownloadCurrent = { stampOk: data.get('stampok') === '1', exists: data.get('exists') === '1' }
    if (data.get('stampmatch') === '1') c.stampMatched = true
    if (data.has('hash')) c.hash = data.get('hash')
    if (data.get('unreadable') === '1') c.unreadable = true
    if (data.has('partsize')) c.partSize = Number(data.get('partsize'))
    if (data.has('partsrc')) c.partSource = decodeHex(data.get('partsrc'))
    if (data.get('curl') === 'missing') c.curlMissing = true
    if (data.has('head')) c.head = parseHead(decodeHex(data.get('head')))
    if (data.has('avail')) c.availKiB = Number(data.get('avail'))
    return c
  },
  diff(d, c) {
    if (c.stampOk) return []
    if (c.unreadable) return [{ op: 'check', text: `check ${d.dest}: it exists but cannot be read to verify it` }]
    const want = expected(d, c)
    if (c.stampMatched && c.hash && (!want.sha256 || c.hash === want.sha256)) return []
    if (c.exists && c.hash && want.sha256 && c.hash === want.sha256) return [{ op: 'stamp', sha256: want.sha256, text: `record the verified stamp of ${d.dest} (content checked, sha256 ${want.sha256.slice(0, 12)}…)` }]
    const size = want.size !== undefined ? ` (${human(want.size)})` : ''
    const check = want.from === 'recipe' ? 'sha256 from the recipe' : want.from === 'X-Linked-Etag' ? 'sha256 announced by the hub (X-Linked-Etag)' : 'no checksum: size only'
    const resume = c.partSize && c.head?.sourceId && c.partSource === c.head.sourceId ? `, resuming after ${human(c.partSize)}` : ''
    const verb = c.exists ? `replace ${d.dest}: its content does not match (sha256 ${c.hash?.slice(0, 12)}…); download` : 'download'
    if (viaController(d, c)) {
      const pushResume = c.partSize && c.partSource === controllerSource(d) ? `, resuming after ${human(c.partSize)}` : ''
      const sum = d.sha256 ? 'sha256 from the recipe' : 'checksum as the hub announces it'
      return [{ op: 'push', text: `${verb} ${d.url} into the controller's cache (once for all hosts) and push it to ${d.dest}${size}, ${sum}${pushResume}` }]
    }
    return [{ op: 'download', text: `${verb} ${d.url} to ${d.dest}${size}, ${check}${resume}` }]
  },
  posix: {
    probe: (d, facts, run) => posixDownloadProbe({ ...probeInput(d, facts, run?.verifyArtifacts === true), controller: d.via === 'controller' }),
    apply(d, c, changes, facts): Step[] {
      const stamp = stampPath(d.dest, facts)
      const want = refuse(d, c)
      if (changes.some((ch) => ch.op === 'push')) return [pushStep(d, c, stamp)]
      const recorded = stampChange(changes)
      if (recorded) return [{ argv: ['sh', '-c', STAMP_SCRIPT, 'statecraft-stamp', d.dest, stamp, recorded.sha256, urlHash(d.url)], label: `stamp ${d.dest}` }]
      return [
        {
          argv: ['sh', '-c', DOWNLOAD_SCRIPT, 'statecraft-download', d.dest, want.sha256 ?? '', want.size !== undefined ? String(want.size) : '', d.mode ?? '', stamp, c.head?.sourceId ?? '', urlHash(d.url), d.hubToken ? '1' : '0'],
          stdin: curlConfig(d.url, headersOf(d), d.caBundle, d.stallTimeout),
          label: `download ${d.url} -> ${d.dest}`,
          explain: (r) => explainFailure(d, r.stderr),
          details: transferDetails(performance.now()),
        },
      ]
    },
  },
  powershell: {
    probe: (d, facts, run) => psDownloadProbe(probeInput(d, facts, run?.verifyArtifacts === true)),
    apply(d, c, changes, facts): Step[] {
      const stamp = stampPath(d.dest, facts)
      const want = refuse(d, c)
      const recorded = stampChange(changes)
      if (recorded) return [{ argv: [], label: `stamp ${d.dest}`, psScript: psStampScript(d.dest, stamp, recorded.sha256, urlHash(d.url)) }]
      const script = psDownloadApply({ ...probeInput(d, facts, false), ...(want.sha256 ? { sha256: want.sha256 } : {}), ...(want.size !== undefined ? { size: want.size } : {}), sourceId: c.head?.sourceId ?? '' })
      return [{ argv: [], psScript: script, label: `download ${d.url} -> ${d.dest}`, explain: (r) => explainFailure(d, r.stderr), details: transferDetails(performance.now()) }]
    },
  },
  secrets: (d) => (d.token ? [d.token] : []),
  warnings(d, c) {
    if (c.stampOk || c.head === undefined || c.head.status !== undefined) return []
    const why = c.head.curlError ?? 'no answer'
    return [`${d.url} not checked (${why}): the gated access, size and checksum the hub announces are checked when the download starts`]
  },
  examples: ({ path, value }) => [
    { desired: { url: `https://hub.example/m/resolve/main/${encodeURIComponent(value)}`, dest: path, sha256: 'a'.repeat(64), size: 10, token: 'hf_x' }, current: { stampOk: false, exists: false, head: { status: 200 } } },
    { desired: { url: 'https://hub.example/x', dest: path, sha256: 'a'.repeat(64) }, current: { stampOk: false, exists: true, hash: 'a'.repeat(64) } },
    { desired: { url: 'https://huggingface.co/a/resolve/main/b', dest: path }, current: { stampOk: false, exists: false, head: { status: 200 } } },
  ],
})

export const downloadType = download.type

/** What both probes and the PowerShell apply share; the recipe's sha256 only (apply adds the hub's). */
function probeInput(d: DownloadOptions, facts: Facts, verify: boolean): PsDownload {
  return { dest: d.dest, stamp: stampPath(d.dest, facts), urlHash: urlHash(d.url), ...(d.sha256 ? { sha256: d.sha256 } : {}), config: curlConfig(d.url, headersOf(d), d.caBundle, d.stallTimeout), verify, ...(d.hubToken ? { hubToken: true } : {}) }
}

const stampChange = (changes: Change<DownloadOp>[]): { sha256: string } | undefined => changes.find((ch): ch is Change<{ op: 'stamp'; sha256: string }> => ch.op === 'stamp')

/** The refusals both dialects share (unreadable, no curl, gated, HTTP error, no space); returns what the file must be. */
function refuse(d: DownloadOptions, c: DownloadCurrent): ReturnType<typeof expected> {
  if (c.unreadable) throw new StatecraftError('E_PERMISSION', `download ${d.dest}: the file exists but cannot be read to check it; fix its permissions or use become`)
  if (c.curlMissing && !viaController(d, c)) {
    throw new StatecraftError('E_MISSING_TOOL', `download ${d.dest}: curl is not installed on the host; install it (Debian: apt-get install curl), or set via: 'auto' or 'controller' to push it from here`)
  }
  const head = c.head
  if (head?.status === 401 || head?.status === 403) throw gatedError(d, head)
  if (head?.status !== undefined && head.status >= 400) throw new StatecraftError('E_HTTP', `download ${d.dest}: ${d.url} answered HTTP ${head.status}${head.errorMessage ? ` (${head.errorMessage})` : ''}`)
  const want = expected(d, c)
  if (want.size !== undefined && c.availKiB !== undefined) {
    const need = want.size - (c.partSize ?? 0)
    if (need > c.availKiB * 1024) {
      throw new StatecraftError('E_NO_SPACE', `download ${d.dest}: needs ${human(need)} more but only ${human(c.availKiB * 1024)} is free there; free some space or choose another dest`)
    }
  }
  return want
}
