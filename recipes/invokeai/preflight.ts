import * as v from 'valibot'
import { decodeHex, defineResource, normalisePath, psQuote, quote, StatecraftError } from '../../lib/kit.ts'
import { curlConfig, HOST_TOKEN } from '../../lib/resources/download/script.ts'
import { parseHead, type HeadInfo } from '../../lib/resources/download/http-head.ts'

/**
 * Everything the recipe checks before it changes anything, in one resource that every other one
 * comes after: a failed preflight skips the whole run, and lists every problem at once.
 * Problems decided by facts alone (macOS version, the GPU driver) are computed by the recipe and
 * passed in; the rest is read by this probe (free disk, the port, Windows long paths, the conda's
 * platform, whether the checkpoint and a hub token are already there).
 */
export interface PreflightOptions {
  /** The install directory: its free space, its shape (spaces, depth). */
  root: string
  /** The checkpoint's path (in the model store): when it is there, no token and no room for it are needed. */
  checkpoint: string
  /**
   * Where the checkout links to it. A regular file there is a checkpoint an earlier install
   * downloaded into the checkout: it is reported (move it into the store), never deleted.
   */
  link?: string
  checkpointBytes: number
  /** Room for the env when it does not exist yet (bytes), plus a margin. */
  envBytes: number
  marginBytes: number
  /** The conda's prefix (its envs/ and conda-meta/ are read). */
  condaPrefix: string
  envName: string
  port: number
  /** A token comes from the recipe (HF_TOKEN on the controller). */
  token: boolean
  /** The conda must be arm64 (Apple Silicon). */
  appleSilicon: boolean
  /**
   * The checkpoint's URL: while it is missing, the probe sends it a HEAD with the token (POSIX
   * hosts), so a gated model stops the run before anything changes, not after the prerequisites.
   */
  checkpointUrl?: string
  /** The recipe's token (secret); without it, the host's own HF_TOKEN or token file. */
  hubToken?: string
  /** Problems the recipe found in the facts. */
  problems: string[]
  /** Warnings the recipe found in the facts (shown, never a failure). */
  notes: string[]
}

export interface PreflightCurrent {
  availKiB?: number
  checkpoint: boolean
  /** A regular file (not a link) stands where the checkout's link goes. */
  fileAtLink: boolean
  env: boolean
  hostToken: boolean
  /** Something listens on the port, and whether it answers like InvokeAI (then it is ours). */
  portUsed: boolean
  portOurs: boolean
  longPaths?: boolean
  condaX86: boolean
  head?: HeadInfo
}

type PreflightOp = { op: 'refuse'; problems: string[] }

const GiB = 1024 ** 3
const human = (b: number): string => `${(b / GiB).toFixed(1)} GB`
const HEALTH = '/flaskwebgui-keep-server-alive'

export const preflight = defineResource<PreflightOptions, PreflightCurrent, PreflightOp>({
  type: 'invokeaiPreflight',
  describe: () => 'invokeai preflight',
  fields: {
    root: v.string(),
    checkpoint: v.string(),
    link: v.optional(v.string()),
    checkpointBytes: v.number(),
    envBytes: v.number(),
    marginBytes: v.number(),
    condaPrefix: v.string(),
    envName: v.string(),
    port: v.number(),
    token: v.boolean(),
    appleSilicon: v.boolean(),
    checkpointUrl: v.optional(v.string()),
    hubToken: v.optional(v.string()),
    problems: v.array(v.string()),
    notes: v.array(v.string()),
  },
  normalise: (d, facts, fail) => ({
    ...d,
    root: normalisePath(d.root, 'root', facts, fail),
    checkpoint: normalisePath(d.checkpoint, 'checkpoint', facts, fail),
    ...(d.link !== undefined ? { link: normalisePath(d.link, 'link', facts, fail) } : {}),
    condaPrefix: normalisePath(d.condaPrefix, 'condaPrefix', facts, fail),
  }),
  defaultId: () => 'preflight',
  parse: (data) => {
    const c: PreflightCurrent = {
      checkpoint: data.get('ckpt') === '1',
      fileAtLink: data.get('fileatlink') === '1',
      env: data.get('env') === '1',
      hostToken: data.get('hosttoken') === '1',
      portUsed: data.get('portused') === '1',
      portOurs: data.get('portours') === '1',
      condaX86: data.get('condax86') === '1',
    }
    if (/^\d+$/.test(data.get('avail') ?? '')) c.availKiB = Number(data.get('avail'))
    if (data.has('longpaths')) c.longPaths = data.get('longpaths') === '1'
    if (data.has('head')) c.head = parseHead(decodeHex(data.get('head')))
    return c
  },
  diff(d, c) {
    const problems = [...d.problems, ...probedProblems(d, c)]
    return problems.length === 0 ? [] : [{ op: 'refuse', problems, text: `refuse to start: ${problems.length} problem${problems.length > 1 ? 's' : ''}: ${problems.map((p, i) => `(${i + 1}) ${p}`).join('; ')}` }]
  },
  warnings: (d) => d.notes,
  posix: {
    probe: (d) => `sc_p=${quote(d.root)}
while [ ! -e "$sc_p" ] && [ "$sc_p" != / ] && [ "$sc_p" != . ]; do sc_p=$(dirname -- "$sc_p"); done
printf 'avail=%s\\n' "$(df -Pk -- "$sc_p" 2>/dev/null | awk 'NR==2 {print $4}')"
if [ -f ${quote(d.checkpoint)} ]; then echo ckpt=1; else echo ckpt=0; fi${d.link ? `
if [ -f ${quote(d.link)} ] && [ ! -L ${quote(d.link)} ]; then echo fileatlink=1; fi` : ''}
if [ -d ${quote(`${d.condaPrefix}/envs/${d.envName}/conda-meta`)} ]; then echo env=1; else echo env=0; fi
if [ -n "\${HF_TOKEN:-}" ] || [ -s "$HOME/.cache/huggingface/token" ]; then echo hosttoken=1; else echo hosttoken=0; fi
if grep -q 'osx-64::python-' ${quote(`${d.condaPrefix}/conda-meta/history`)} 2>/dev/null; then echo condax86=1; else echo condax86=0; fi
sc_port=${quote(String(d.port))}
if command -v ss >/dev/null 2>&1; then sc_l=$(ss -ltnH 2>/dev/null | awk '{print $4}' | grep -c "[:.]$sc_port\\$")
elif command -v lsof >/dev/null 2>&1; then sc_l=$(lsof -nP -iTCP:"$sc_port" -sTCP:LISTEN 2>/dev/null | grep -c LISTEN)
else sc_l=$(netstat -an 2>/dev/null | grep LISTEN | grep -c "[:.]$sc_port ")
fi
if [ "\${sc_l:-0}" -gt 0 ]; then echo portused=1
  if curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$sc_port${HEALTH}" 2>/dev/null; then echo portours=1; fi
else echo portused=0; fi${d.checkpointUrl ? `
if [ ! -f ${quote(d.checkpoint)} ] && command -v curl >/dev/null 2>&1; then
  cfg=$(cat <<'SC_CURL_EOF'
${curlConfig(d.checkpointUrl, d.hubToken ? { Authorization: `Bearer ${d.hubToken}` } : {}, undefined, 15)}SC_CURL_EOF
)
  hubtok=1
${HOST_TOKEN}  printf 'head='; printf '%s\n' "$cfg" | curl -sS -I -L --max-redirs 10 --connect-timeout 10 --max-time 20 --config - 2>&1 | sc_hex; echo
fi` : ''}`,
    apply: (d, _c, changes) => refuse(changes),
  },
  powershell: {
    probe: (d) => `$sc_p = ${psQuote(d.root)}
while (-not (Test-Path -LiteralPath $sc_p) -and (Split-Path -Parent $sc_p)) { $sc_p = Split-Path -Parent $sc_p }
try { $sc_d = New-Object System.IO.DriveInfo ([System.IO.Path]::GetPathRoot($sc_p)); "avail=$([math]::Floor($sc_d.AvailableFreeSpace / 1024))" } catch { 'avail=' }
if (Test-Path -LiteralPath ${psQuote(d.checkpoint)} -PathType Leaf) { 'ckpt=1' } else { 'ckpt=0' }${d.link ? `
$sc_i = Get-Item -LiteralPath ${psQuote(d.link)} -Force -ErrorAction SilentlyContinue
if ($sc_i -and -not $sc_i.PSIsContainer -and -not ($sc_i.Attributes -band [IO.FileAttributes]::ReparsePoint)) { 'fileatlink=1' }` : ''}
if (Test-Path -LiteralPath ${psQuote(`${d.condaPrefix}\\envs\\${d.envName}\\conda-meta`)}) { 'env=1' } else { 'env=0' }
if ($env:HF_TOKEN -or (Test-Path -LiteralPath (Join-Path $HOME '.cache\\huggingface\\token'))) { 'hosttoken=1' } else { 'hosttoken=0' }
'condax86=0'
$sc_lp = (Get-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\FileSystem' -Name LongPathsEnabled -ErrorAction SilentlyContinue).LongPathsEnabled
if ($sc_lp -eq 1) { 'longpaths=1' } else { 'longpaths=0' }
if (Get-NetTCPConnection -State Listen -LocalPort ${d.port} -ErrorAction SilentlyContinue) { 'portused=1'
  try { $null = Invoke-WebRequest -UseBasicParsing -TimeoutSec 2 -Uri ${psQuote(`http://127.0.0.1:${d.port}${HEALTH}`)}; 'portours=1' } catch { }
} else { 'portused=0' }`,
    apply: (_d, _c, changes) => refuse(changes),
  },
  secrets: (d) => (d.hubToken ? [d.hubToken] : []),
  examples: ({ path, value }) => [
    {
      desired: { root: path, checkpoint: `${path}/model.ckpt`, checkpointBytes: 10, envBytes: 10, marginBytes: 1, condaPrefix: `${path}/${value}`, envName: 'invokeai', port: 9090, token: true, appleSilicon: false, problems: [], notes: [] },
      current: { checkpoint: false, fileAtLink: false, env: false, hostToken: false, portUsed: false, portOurs: false, condaX86: false },
    },
    {
      desired: { root: path, checkpoint: `${path}/m.ckpt`, link: `${path}/${value}/model.ckpt`, checkpointBytes: 1, envBytes: 1, marginBytes: 1, condaPrefix: path, envName: 'x', port: 1, token: true, appleSilicon: true, checkpointUrl: `https://hub.example/${encodeURIComponent(value)}`, hubToken: 'hf_x', problems: [], notes: [] },
      current: { checkpoint: true, fileAtLink: false, env: true, hostToken: true, portUsed: false, portOurs: false, condaX86: false },
    },
  ],
})

export const preflightType = preflight.type

function probedProblems(d: PreflightOptions, c: PreflightCurrent): string[] {
  const out: string[] = []
  const need = (c.checkpoint ? 0 : d.checkpointBytes) + (c.env ? 0 : d.envBytes) + d.marginBytes
  if (c.availKiB !== undefined && c.availKiB * 1024 < need) {
    out.push(`not enough free disk at ${d.root}: ${human(c.availKiB * 1024)} free, ${human(need)} needed (${c.checkpoint ? '' : `checkpoint ${human(d.checkpointBytes)}, `}${c.env ? '' : `conda env ~${human(d.envBytes)}, `}margin ${human(d.marginBytes)}); free some space or set root to another disk`)
  }
  if (!c.checkpoint && !d.token && !c.hostToken) {
    out.push('no Hugging Face token and the checkpoint is not there yet: accept the licence at https://huggingface.co/CompVis/stable-diffusion-v-1-4-original, create a read token, then run with HF_TOKEN=hf_… in the environment')
  }
  const h = c.head
  if (!c.checkpoint && d.checkpointUrl && (h?.status === 401 || h?.status === 403)) {
    const page = d.checkpointUrl.replace(/\/resolve\/.*$/, '')
    out.push(`${d.checkpointUrl} ${h.errorCode === 'GatedRepo' ? 'is gated' : `was refused (HTTP ${h.status})`}${h.errorMessage ? ` (${h.errorMessage})` : ''}: ${h.status === 401 ? 'the token was not accepted or there is none; ' : ''}accept the licence at ${page} with the account the token (HF_TOKEN) belongs to`)
  }
  if (c.fileAtLink && d.link) {
    out.push(c.checkpoint
      ? `${d.link} is a file from an earlier install, and the model store already holds the checkpoint (${d.checkpoint}): delete ${d.link} so the checkout links to the store, then run again`
      : `${d.link} is a checkpoint from an earlier install, not a link to the model store: move it there (mv ${quote(d.link)} ${quote(d.checkpoint)}) so it is not downloaded again, then run again; statecraft never deletes a checkpoint to make a link`)
  }
  if (c.portUsed && !c.portOurs) out.push(`port ${d.port} is taken by another program on the host; stop it or set port to a free one`)
  if (c.longPaths === false) {
    out.push('Windows long paths are off, and the env\'s packages nest deeper than 260 characters: as an administrator run `Set-ItemProperty HKLM:\\SYSTEM\\CurrentControlSet\\Control\\FileSystem LongPathsEnabled 1`, then run again')
  }
  if (d.appleSilicon && c.condaX86) {
    out.push(`the conda at ${d.condaPrefix} is an x86_64 (osx-64) one on Apple Silicon: it would build the env under Rosetta, without MPS; remove it (or set condaPrefix elsewhere) so the arm64 Miniforge is installed`)
  }
  return out
}

function refuse(changes: { op: string; problems?: string[] }[]): never {
  const problems = changes.flatMap((c) => c.problems ?? [])
  throw new StatecraftError('E_PREFLIGHT', `InvokeAI preflight found ${problems.length} problem${problems.length > 1 ? 's' : ''}; nothing was changed:\n${problems.map((p, i) => `  ${i + 1}. ${p}`).join('\n')}`)
}
