import { createHash } from 'node:crypto'
import { StatecraftError } from '../core/errors.ts'
import { declare, type Change, type CommonOptions, type Facts, type ProbeData, type Resource, type ResourceType, type RunFlags, type Step } from '../core/types.ts'
import { decodeHex } from '../shell/protocol.ts'
import { quote } from '../shell/posix/quote.ts'
import { checkMode, checkPath, checkString, fail, rejectUnknown } from './common.ts'
import { curlConfig, DOWNLOAD_SCRIPT, HOST_TOKEN, STAMP_SCRIPT, STAT_FN } from './download-script.ts'
import { controllerSource, explainFailure, gatedError, headersOf, pushStep, transferDetails, urlHash, viaController } from './download-steps.ts'
import { psDownloadApply, psDownloadProbe, psStampScript } from './download-ps.ts'
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

const FIELDS = ['url', 'dest', 'sha256', 'size', 'headers', 'token', 'mode', 'via', 'hubToken', 'caBundle'] as const

export function stampPath(dest: string, facts: Facts): string {
  const sep = facts.os === 'windows' ? '\\' : '/'
  return [facts.home.replace(/[\\/]$/, ''), '.statecraft', 'stamps', createHash('sha1').update(dest).digest('hex')].join(sep)
}

/** What the file should hash to: the recipe's, else what the hub announced. */
function expected(d: DownloadOptions, c: DownloadCurrent): { sha256?: string; size?: number; from: string } {
  const sha256 = d.sha256 ?? c.head?.linkedEtag
  const size = d.size ?? c.head?.linkedSize ?? c.head?.contentLength
  return { ...(sha256 ? { sha256 } : {}), ...(size !== undefined ? { size } : {}), from: d.sha256 ? 'recipe' : c.head?.linkedEtag ? 'X-Linked-Etag' : 'none' }
}

const human = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${n} bytes`)

export const downloadType: ResourceType<DownloadOptions, DownloadCurrent> = {
  type: 'download',
  defaultId: (d) => `download:${d.dest}`,
  validate(d: DownloadOptions, facts: Facts): DownloadOptions {
    const w = `download ${String(d.dest)}`
    rejectUnknown(w, d, FIELDS)
    if (facts.dialect === 'powershell' && d.via !== undefined && d.via !== 'host') fail(w, 'via', 'the controller route is not available for Windows hosts yet; leave via out')
    const url = checkString(w, 'url', d.url) as string
    if (!/^https?:\/\/[^\s]+$/.test(url)) fail(w, 'url', `must be an http(s) URL without spaces (got ${JSON.stringify(url)})`)
    const out: DownloadOptions = { url, dest: checkPath(w, 'dest', d.dest, facts) }
    if (d.sha256 !== undefined) {
      if (typeof d.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(d.sha256)) fail(w, 'sha256', 'must be 64 hex digits')
      out.sha256 = d.sha256.toLowerCase()
    }
    if (d.size !== undefined) {
      if (!Number.isSafeInteger(d.size) || d.size < 0) fail(w, 'size', `must be a whole number of bytes (got ${JSON.stringify(d.size)})`)
      out.size = d.size
    }
    for (const [k, v] of Object.entries(d.headers ?? {})) {
      if (!/^[A-Za-z0-9-]+$/.test(k) || typeof v !== 'string' || /[\r\n]/.test(v)) fail(w, `headers.${k}`, 'must be a header name with a single-line string value')
    }
    if (d.headers) out.headers = d.headers
    if (d.token !== undefined) {
      if (typeof d.token !== 'string' || /[\s"\\]/.test(d.token)) fail(w, 'token', 'must be a single word (a bearer token)')
      if (d.token !== '') out.token = d.token
    }
    out.mode = checkMode(w, d.mode)
    if (d.via !== undefined && !['host', 'controller', 'auto'].includes(d.via)) fail(w, 'via', `must be 'host', 'controller' or 'auto' (got ${JSON.stringify(d.via)})`)
    if (d.via === 'controller' || d.via === 'auto') out.via = d.via
    if (d.hubToken ?? /^https:\/\/([a-z0-9-]+\.)*(huggingface\.co|hf\.co)\//.test(url)) out.hubToken = true
    if (d.caBundle !== undefined) out.caBundle = checkPath(w, 'caBundle', d.caBundle, facts)
    return out
  },
  paths: (d) => [{ path: d.dest, kind: 'file' }],
  probe(d: DownloadOptions, facts: Facts, run?: RunFlags): string {
    if (facts.dialect === 'powershell') {
      return psDownloadProbe({ dest: d.dest, stamp: stampPath(d.dest, facts), urlHash: urlHash(d.url), ...(d.sha256 ? { sha256: d.sha256 } : {}), config: curlConfig(d.url, headersOf(d), d.caBundle), verify: run?.verifyArtifacts === true, ...(d.hubToken ? { hubToken: true } : {}) })
    }
    const D = quote(d.dest)
    const S = quote(stampPath(d.dest, facts))
    const wantCheck = `${d.sha256 ? ` && [ "$h" = ${d.sha256} ]` : ''} && [ "$u" = ${urlHash(d.url)} ]`
    return `${STAT_FN}
if [ -f ${D} ]; then echo exists=1; fi
ok=0
if [ -f ${D} ] && [ -f ${S} ]; then read -r s m i h u < ${S}; if [ "$s $m $i" = "$(sc_st ${D})" ]${wantCheck}; then ok=1; fi; fi
echo "stampmatch=$ok"
${run?.verifyArtifacts ? 'ok=0' : ''}
echo "stampok=$ok"
if [ $ok = 0 ]; then
  if [ -f ${D} ]; then h=$(sc_sha256 ${D} 2>/dev/null); if [ -n "$h" ]; then echo "hash=$h"; else echo "unreadable=1"; fi; fi
  if [ -f ${D}.part ]; then echo "partsize=$(wc -c < ${D}.part | tr -d ' ')"; printf 'partsrc='; sc_hex < ${D}.part.source 2>/dev/null; echo; fi
  ${d.via === 'controller' ? 'if false; then' : 'if command -v curl >/dev/null 2>&1; then'}
    cfg=$(cat <<'SC_CURL_EOF'
${curlConfig(d.url, headersOf(d), d.caBundle)}SC_CURL_EOF
)
    hubtok=${d.hubToken ? 1 : 0}
${HOST_TOKEN}    printf 'head='; printf '%s\n' "$cfg" | curl -sS -I -L --max-redirs 10 --connect-timeout 20 --config - 2>&1 | sc_hex; echo
  ${d.via === 'controller' ? 'else :; fi' : 'else echo curl=missing; fi'}
  dir=$(dirname -- ${D}); while [ ! -d "$dir" ]; do dir=$(dirname -- "$dir"); done
  echo "avail=$(df -Pk "$dir" | awk 'NR==2 {print $4}')"
fi`
  },
  parse(data: ProbeData): DownloadCurrent {
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
  diff(d: DownloadOptions, c: DownloadCurrent): Change[] {
    if (c.stampOk) return []
    if (c.unreadable) return [{ text: `check ${d.dest}: it exists but cannot be read to verify it` }]
    const want = expected(d, c)
    if (c.stampMatched && c.hash && (!want.sha256 || c.hash === want.sha256)) return []
    if (c.exists && c.hash && want.sha256 && c.hash === want.sha256) return [{ text: `record the verified stamp of ${d.dest} (content checked, sha256 ${want.sha256.slice(0, 12)}…)` }]
    const size = want.size !== undefined ? ` (${human(want.size)})` : ''
    const check = want.from === 'recipe' ? 'sha256 from the recipe' : want.from === 'X-Linked-Etag' ? 'sha256 announced by the hub (X-Linked-Etag)' : 'no checksum: size only'
    const resume = c.partSize && c.head?.sourceId && c.partSource === c.head.sourceId ? `, resuming after ${human(c.partSize)}` : ''
    const verb = c.exists ? `replace ${d.dest}: its content does not match (sha256 ${c.hash?.slice(0, 12)}…); download` : 'download'
    if (viaController(d, c)) {
      const pushResume = c.partSize && c.partSource === controllerSource(d) ? `, resuming after ${human(c.partSize)}` : ''
      const sum = d.sha256 ? 'sha256 from the recipe' : 'checksum as the hub announces it'
      return [{ text: `${verb} ${d.url} into the controller's cache (once for all hosts) and push it to ${d.dest}${size}, ${sum}${pushResume}` }]
    }
    return [{ text: `${verb} ${d.url} to ${d.dest}${size}, ${check}${resume}` }]
  },
  apply(d: DownloadOptions, c: DownloadCurrent, changes: Change[], facts: Facts): Step[] {
    if (changes.length === 0) return []
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
    const stamp = stampPath(d.dest, facts)
    if (viaController(d, c) && !changes[0]?.text.startsWith('record the verified stamp')) return [pushStep(d, c, stamp)]
    if (facts.dialect === 'powershell' && changes[0]?.text.startsWith('record the verified stamp')) {
      return [{ argv: [], label: `stamp ${d.dest}`, psScript: psStampScript(d.dest, stamp, want.sha256 as string, urlHash(d.url)) }]
    }
    if (facts.dialect === 'powershell') {
      const size = want.size
      const script = psDownloadApply({ dest: d.dest, stamp, urlHash: urlHash(d.url), ...(want.sha256 ? { sha256: want.sha256 } : {}), ...(size !== undefined ? { size } : {}), config: curlConfig(d.url, headersOf(d), d.caBundle), verify: false, sourceId: head?.sourceId ?? '', ...(d.hubToken ? { hubToken: true } : {}) })
      return [{ argv: [], psScript: script, label: `download ${d.url} -> ${d.dest}`, explain: (r) => explainFailure(d, r.stderr), details: transferDetails(performance.now()) }]
    }
    if (changes[0]?.text.startsWith('record the verified stamp')) return [{ argv: ['sh', '-c', STAMP_SCRIPT, 'statecraft-stamp', d.dest, stamp, want.sha256 as string, urlHash(d.url)], label: `stamp ${d.dest}` }]
    return [
      {
        argv: ['sh', '-c', DOWNLOAD_SCRIPT, 'statecraft-download', d.dest, want.sha256 ?? '', want.size !== undefined ? String(want.size) : '', d.mode ?? '', stamp, head?.sourceId ?? '', urlHash(d.url), d.hubToken ? '1' : '0'],
        stdin: curlConfig(d.url, headersOf(d), d.caBundle),
        label: `download ${d.url} -> ${d.dest}`,
        explain: (r) => explainFailure(d, r.stderr),
        details: transferDetails(performance.now()),
      },
    ]
  },
  secrets: (d) => (d.token ? [d.token] : []),
}

/**
 * A large file fetched by the host itself: streamed to `<dest>.part`, resumed with Range after
 * an interruption, checked (size, sha256) and renamed into place; a stamp (size, mtime, inode,
 * sha256) makes the next run stat the file instead of hashing it.
 * @example
 * download({ url: 'https://huggingface.co/CompVis/stable-diffusion-v-1-4-original/resolve/main/sd-v1-4-full-ema.ckpt',
 *   dest: '~/InvokeAI/models/ldm/stable-diffusion-v1/model.ckpt', token: options.hfToken,
 *   sha256: '14749efc0ae8ef0329391ad4436feb781b402f4fece4883c7ad8d10556d8a36a', size: 7703807346 })
 */
export function download(opts: DownloadOptions & CommonOptions): Resource<DownloadOptions> {
  return declare(downloadType, opts)
}
