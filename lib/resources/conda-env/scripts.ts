import type { Step } from '../../core/types.ts'
import { quote } from '../../shell/posix/quote.ts'
import { psScriptStep } from '../../shell/powershell/lib.ts'
import { psQuote } from '../../shell/powershell/quote.ts'

/**
 * The host-side text of the condaEnv resource. Where the env lives is conda's answer, not a
 * guess: with `name`, the first prefix that `conda env list --json` reports as `…/envs/<name>`
 * (conda's own lookup order for `-n`); with `prefix`, that directory when it holds conda-meta/.
 * The record of the yml it was built from is a stamp inside the env, so removing the env
 * removes its record too. The platform an env was built for (when no stamp says it, as for an env
 * made by hand) is the subdir of the last python conda linked, from conda-meta/history's
 * `+channel/subdir::python-…` lines.
 */
export const STAMP = 'conda-meta/statecraft-env.json'

/** Largest yml the probe reads (hex doubles it); an environment file is a few KiB. */
export const YML_LIMIT = 256 * 1024

/**
 * Reads `conda env list --json` on stdin, prints the first env prefix named `$1`. conda prints
 * that JSON indented, one prefix per line; a prefix with `"` or `\` in it (escaped in JSON) is
 * not found, and the build then fails on conda's own check instead.
 */
const ENV_PREFIX_FN = `sc_env_prefix() {
  sed -n 's/^ *"\\(.*\\)",\\{0,1\\}$/\\1/p' | while IFS= read -r sc_l; do
    case "$sc_l" in */envs/"$1") printf '%s\\n' "$sc_l"; break ;; esac
  done
}`

export interface Where {
  conda: string
  name?: string
  prefix?: string
  file: string
}

export function posixProbe(w: Where): string {
  const find = w.prefix !== undefined
    ? `if [ -d ${quote(`${w.prefix}/conda-meta`)} ]; then sc_p=${quote(w.prefix)}; fi`
    : `sc_p=$(printf '%s\\n' "$sc_envs" | sc_env_prefix ${quote(w.name as string)})`
  return `${ENV_PREFIX_FN}
sc_c=${quote(w.conda)}
sc_p=
if [ -x "$sc_c" ]; then
  echo conda=1
  sc_envs=$("$sc_c" env list --json </dev/null 2>/dev/null)
  printf 'envs='; printf '%s' "$sc_envs" | sc_hex; echo
  ${find}
  if [ -n "$sc_p" ]; then
    sc_kv_hex envprefix "$sc_p"
    sc_s=$(sed -n 's|^+.*/\\([a-z0-9_-]*\\)::python-[0-9].*|\\1|p' "$sc_p/conda-meta/history" 2>/dev/null | tail -n 1)
    if [ -n "$sc_s" ]; then echo "pysubdir=$sc_s"; fi
    if [ -f "$sc_p/${STAMP}" ]; then printf 'stamp='; sc_hex < "$sc_p/${STAMP}"; echo; fi
  fi
else echo conda=0; fi
sc_f=${quote(w.file)}
if [ -f "$sc_f" ]; then
  sc_n=$(wc -c < "$sc_f" | tr -d ' ')
  echo ymlkind=file
  if [ "$sc_n" -le ${YML_LIMIT} ]; then printf 'yml='; sc_hex < "$sc_f"; echo; else echo "ymlsize=$sc_n"; fi
elif [ -e "$sc_f" ]; then echo ymlkind=other; else echo ymlkind=absent; fi`
}

/** Windows PowerShell turns a native program's redirected stderr (conda's warnings) into errors, which 'Stop' makes fatal. */
const PS_ENV_LIST = "& { $ErrorActionPreference = 'SilentlyContinue'; (& $c env list --json 2>$null) -join [char]10 }"

export function psProbe(w: Where): string {
  const find = w.prefix !== undefined
    ? `if (Test-Path -LiteralPath (Join-Path ${psQuote(w.prefix)} 'conda-meta')) { $p = ${psQuote(w.prefix)} }`
    : psFindByName('$j', w.name as string)
  const F = psQuote(w.file)
  return `$c = ${psQuote(w.conda)}
$p = $null
if (Test-Path -LiteralPath $c) {
  'conda=1'
  $j = ${PS_ENV_LIST}
  Sc-KvHex 'envs' $j
  ${find}
  if ($p) {
    Sc-KvHex 'envprefix' $p
    $m = Select-String -LiteralPath (Join-Path $p 'conda-meta\\history') -Pattern '^\\+.*/([a-z0-9_-]+)::python-[0-9]' -ErrorAction SilentlyContinue | Select-Object -Last 1
    if ($m) { 'pysubdir=' + $m.Matches[0].Groups[1].Value }
    $s = Join-Path $p ${psQuote(STAMP.replace('/', '\\'))}
    if (Test-Path -LiteralPath $s) { 'stamp=' + (Sc-Hex ([IO.File]::ReadAllBytes($s))) }
  }
} else { 'conda=0' }
$i = Get-Item -LiteralPath ${F} -Force -ErrorAction SilentlyContinue
if ($i -and -not $i.PSIsContainer) {
  'ymlkind=file'
  if ($i.Length -le ${YML_LIMIT}) { 'yml=' + (Sc-Hex ([IO.File]::ReadAllBytes(${F}))) } else { "ymlsize=$($i.Length)" }
} elseif ($i) { 'ymlkind=other' } else { 'ymlkind=absent' }`
}

function psFindByName(json: string, name: string): string {
  return `try {
    $p = @(((${json}) | ConvertFrom-Json).envs | Where-Object { (Split-Path -Leaf $_) -eq ${psQuote(name)} -and (Split-Path -Leaf (Split-Path -Parent $_)) -eq 'envs' })[0]
  } catch { $p = $null }`
}

/** Removes the src/<egg> checkouts pip left beside the yml; src/ itself only when that leaves it empty. */
export function cleanSrc(dir: string, dirs: string[]): Step {
  const script = `d=$1; shift
for e in "$@"; do rm -rf -- "$d/src/$e" || exit; done
rmdir -- "$d/src" 2>/dev/null || :`
  return { argv: ['sh', '-c', script, 'statecraft-conda-src', dir, ...dirs], label: `remove stale pip checkouts in ${dir}/src` }
}

export function psCleanSrc(dir: string, dirs: string[]): Step {
  const src = psQuote(`${dir}\\src`)
  return psScriptStep(`remove stale pip checkouts in ${dir}\\src`, `foreach ($e in @(${dirs.map(psQuote).join(', ')})) {
  $t = Join-Path ${src} $e
  if (Test-Path -LiteralPath $t) { Remove-Item -LiteralPath $t -Recurse -Force }
}
if ((Test-Path -LiteralPath ${src}) -and -not (Get-ChildItem -LiteralPath ${src} -Force)) { Remove-Item -LiteralPath ${src} -Force }`)
}

/** Writes the stamp into the env that conda now reports; fails when conda reports none. */
export function writeStamp(w: Where, json: string): Step {
  const script = `${ENV_PREFIX_FN}
c=$1 n=$2 p=$3
if [ -z "$p" ]; then p=$("$c" env list --json </dev/null | sc_env_prefix "$n"); fi
if [ -z "$p" ] || [ ! -d "$p/conda-meta" ]; then echo "statecraft: after the build, $c reports no env \${n:-$p}" >&2; exit 1; fi
printf '%s\\n' "$4" > "$p/${STAMP}.tmp" && mv -f -- "$p/${STAMP}.tmp" "$p/${STAMP}"`
  return { argv: ['sh', '-c', script, 'statecraft-conda-stamp', w.conda, w.name ?? '', w.prefix ?? '', json], label: `record the yml's sha256 in ${w.prefix ?? w.name}/${STAMP}` }
}

export function psWriteStamp(w: Where, json: string): Step {
  const find = w.prefix !== undefined ? `$p = ${psQuote(w.prefix)}` : `$j = ${PS_ENV_LIST}\n${psFindByName('$j', w.name as string)}`
  return psScriptStep(`record the yml's sha256 in ${w.prefix ?? w.name}\\${STAMP.replace('/', '\\')}`, `$c = ${psQuote(w.conda)}
$p = $null
${find}
if (-not $p -or -not (Test-Path -LiteralPath (Join-Path $p 'conda-meta'))) { [Console]::Error.WriteLine('statecraft: after the build, ' + $c + ' reports no env ' + ${psQuote(w.name ?? (w.prefix as string))}); exit 1 }
[IO.File]::WriteAllText((Join-Path $p ${psQuote(STAMP.replace('/', '\\'))}), ${psQuote(`${json}\n`)})`)
}
