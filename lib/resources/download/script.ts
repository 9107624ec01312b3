import { SHA256_FN } from '../../shell/posix/lib.ts'
import { quote } from '../../shell/posix/quote.ts'

/**
 * The on-host halves of `download`, POSIX sh with curl. Nothing secret is ever an argument:
 * the URL and headers (a token) reach curl as a config on its stdin.
 */

/** Seconds without progress before a transfer counts as stalled. */
export const DEFAULT_STALL_SECONDS = 60

/**
 * A curl config (`--config -`): values in double quotes, with \ and " escaped. A transfer (the
 * HEAD of a probe, or the body) that moves under 1 byte a second for `stallSeconds` is cut and,
 * for the body, retried from where it stopped: a stalled server bounds the run, not its size.
 */
export function curlConfig(url: string, headers: Record<string, string>, caBundle?: string, stallSeconds = DEFAULT_STALL_SECONDS): string {
  const q = (s: string): string => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
  const lines = [`url = ${q(url)}`, ...Object.entries(headers).map(([k, v]) => `header = ${q(`${k}: ${v}`)}`), 'speed-limit = 1', `speed-time = ${stallSeconds}`]
  if (caBundle) lines.push(`cacert = ${q(caBundle)}`)
  return `${lines.join('\n')}\n`
}

/**
 * For a model hub with no token given by the recipe: the host's own HF_TOKEN, else its
 * $HF_HOME/token (default ~/.cache/huggingface/token), added to the curl config in $cfg.
 */
export const HOST_TOKEN = `if [ "$hubtok" = 1 ] && ! printf '%s' "$cfg" | grep -qi '^header = "Authorization:'; then
  t=\${HF_TOKEN:-}
  tf="\${HF_HOME:-$HOME/.cache/huggingface}/token"
  if [ -z "$t" ] && [ -f "$tf" ]; then t=$(tr -d ' \\r\\n' < "$tf"); fi
  if [ -n "$t" ]; then cfg="$cfg
header = \\"Authorization: Bearer $t\\""; fi
fi
`

export const STAT_FN = `sc_st() { stat -c '%s %Y %i' "$1" 2>/dev/null || stat -f '%z %m %i' "$1" 2>/dev/null; }`

const HELPERS = `${SHA256_FN}
${STAT_FN}
`

/**
 * Reports the .part's size on stderr every 2 s while the transfer runs (stopped at exit). Only the
 * loop itself holds stderr, so killing it closes the pipe at once (a sleeping child would not).
 */
const PROGRESS = `from=$(wc -c < "$P" 2>/dev/null | tr -d ' '); from=\${from:-0}
( while :; do sleep 2 2>/dev/null; if [ -f "$P" ]; then echo "statecraft-progress $(wc -c < "$P" | tr -d ' ') $size" >&2; fi; done ) </dev/null >/dev/null &
pp=$!
trap 'kill $pp 2>/dev/null' EXIT
`

/** Checks the finished .part (size, sha256), renames it into place and writes the stamp. */
const VERIFY_AND_PLACE = `kill $pp 2>/dev/null
got=$(wc -c < "$P" | tr -d ' ')
echo "statecraft-stats bytes=$((got - from))"
if [ -n "$size" ] && [ "$got" != "$size" ]; then
  echo "statecraft-verify: got $got bytes, expected $size" >&2; rm -f -- "$P" "$M"; exit 65
fi
h=$(sc_sha256 "$P")
if [ -n "$want" ] && [ "$h" != "$want" ]; then
  echo "statecraft-verify: sha256 $h, expected $want" >&2; rm -f -- "$P" "$M"; exit 65
fi
if [ -n "$mode" ]; then chmod -- "$mode" "$P"; fi
mv -f -- "$P" "$D" && rm -f -- "$M" || exit 73
printf '%s %s %s\\n' "$(sc_st "$D")" "$h" "$u" > "$S.tmp" && mv -f -- "$S.tmp" "$S"
`

/**
 * $1 dest, $2 wanted sha256 (or empty), $3 wanted size (or empty), $4 mode (or empty),
 * $5 stamp file, $6 source id (a changed source discards an old .part), $7 the URL's sha1
 * (recorded in the stamp, so a new URL is never taken for the old file), $8 1 to use the host's
 * hub token when the config has none. stdin: curl config.
 * Exit 22 with "statecraft-http: CODE ERROR-CODE" on a refused request, 65 on a failed check.
 */
export const DOWNLOAD_SCRIPT = `set -u
D=$1 want=$2 size=$3 mode=$4 S=$5 src=$6 u=$7 hubtok=$8
P="$D.part" M="$D.part.source"
cfg=$(cat)
${HOST_TOKEN}${HELPERS}command -v curl >/dev/null 2>&1 || { echo "statecraft-download: curl is not installed on the host" >&2; exit 127; }
mkdir -p -- "$(dirname -- "$D")" "$(dirname -- "$S")" || exit 73
if [ -f "$P" ] && [ "$(cat "$M" 2>/dev/null)" != "$src" ]; then rm -f -- "$P"; fi
printf '%s' "$src" > "$M"
${PROGRESS}n=0
# Retries are this loop's, not curl's --retry: curl restarts a timed-out transfer from byte 0,
# while each pass here resumes from the end of the .part.
while :; do
  code=$(printf '%s' "$cfg" | curl -sS -f -L --max-redirs 10 --connect-timeout 20 -C - -o "$P" -D "$P.headers" -w '%{http_code}' --config -)
  rc=$?
  [ $rc -eq 0 ] && break
  if [ "$code" = 416 ]; then break; fi
  if [ $rc -eq 33 ]; then rm -f -- "$P"; fi
  case "$code" in 4[0-9][0-9])
    if [ "$code" != 408 ] && [ "$code" != 429 ]; then
      echo "statecraft-http: $code $(grep -i '^x-error-code:' "$P.headers" 2>/dev/null | tail -n 1 | cut -d: -f2- | tr -d ' \\r')" >&2
      rm -f -- "$P.headers"; exit 22
    fi;;
  esac
  n=$((n + 1))
  if [ $n -ge 6 ]; then echo "statecraft-download: gave up after $n attempts (curl exit $rc, HTTP $code)" >&2; exit 75; fi
  sleep $n
done
rm -f -- "$P.headers"
${VERIFY_AND_PLACE}`

/** $1 dest, $2 stamp, $3 sha256 already verified, $4 the URL's sha1: records the stamp only. */
export const STAMP_SCRIPT = `${STAT_FN}
mkdir -p -- "$(dirname -- "$2")" && printf '%s %s %s\\n' "$(sc_st "$1")" "$3" "$4" > "$2.tmp" && mv -f -- "$2.tmp" "$2"
`

/**
 * The controller route's receiving end: $1..$7 as DOWNLOAD_SCRIPT, $8 the offset the controller
 * streams from (the bytes of a matching .part already on the host). stdin: the file's bytes.
 */
export const RECEIVE_SCRIPT = `set -u
D=$1 want=$2 size=$3 mode=$4 S=$5 src=$6 u=$7 off=$8
P="$D.part" M="$D.part.source"
${HELPERS}mkdir -p -- "$(dirname -- "$D")" "$(dirname -- "$S")" || exit 73
if [ "$off" = 0 ]; then : > "$P"
elif [ ! -f "$P" ] || [ "$(wc -c < "$P" | tr -d ' ')" != "$off" ]; then
  echo "statecraft-download: the partial file changed during the run; run again" >&2; cat > /dev/null; exit 75
fi
printf '%s' "$src" > "$M"
${PROGRESS}cat >> "$P" || exit 74
${VERIFY_AND_PLACE}`

/** What either dialect's probe of a download needs. */
export interface DownloadProbeInput {
  dest: string
  stamp: string
  urlHash: string
  sha256?: string
  /** The curl config: URL and headers, a token included. */
  config: string
  /** Hash in full even when the stamp matches (--verify-artifacts). */
  verify: boolean
  /** Use the host's own hub token when the config carries none. */
  hubToken?: boolean
}

/** Stamp check, then (only when it fails) the hash, the .part, a HEAD with curl and the free space. */
export interface ProbeInput extends DownloadProbeInput {
  /** The controller route: no HEAD from the host. */
  controller: boolean
}

export function posixDownloadProbe(o: ProbeInput): string {
  const D = quote(o.dest)
  const S = quote(o.stamp)
  const wantCheck = `${o.sha256 ? ` && [ "$h" = ${o.sha256} ]` : ''} && [ "$u" = ${o.urlHash} ]`
  return `${STAT_FN}
if [ -f ${D} ]; then echo exists=1; fi
ok=0
if [ -f ${D} ] && [ -f ${S} ]; then read -r s m i h u < ${S}; if [ "$s $m $i" = "$(sc_st ${D})" ]${wantCheck}; then ok=1; fi; fi
echo "stampmatch=$ok"
${o.verify ? 'ok=0' : ''}
echo "stampok=$ok"
if [ $ok = 0 ]; then
  if [ -f ${D} ]; then h=$(sc_sha256 ${D} 2>/dev/null); if [ -n "$h" ]; then echo "hash=$h"; else echo "unreadable=1"; fi; fi
  if [ -f ${D}.part ]; then echo "partsize=$(wc -c < ${D}.part | tr -d ' ')"; printf 'partsrc='; sc_hex < ${D}.part.source 2>/dev/null; echo; fi
  ${o.controller ? 'if false; then' : 'if command -v curl >/dev/null 2>&1; then'}
    cfg=$(cat <<'SC_CURL_EOF'
${o.config}SC_CURL_EOF
)
    hubtok=${o.hubToken ? 1 : 0}
${HOST_TOKEN}    printf 'head='; printf '%s\n' "$cfg" | curl -sS -I -L --max-redirs 10 --connect-timeout 20 --config - 2>&1 | sc_hex; echo
  ${o.controller ? 'else :; fi' : 'else echo curl=missing; fi'}
  dir=$(dirname -- ${D}); while [ ! -d "$dir" ]; do dir=$(dirname -- "$dir"); done
  echo "avail=$(df -Pk "$dir" | awk 'NR==2 {print $4}')"
fi`
}
