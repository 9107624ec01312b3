import { quote } from '../../shell/posix/quote.ts'

/**
 * The POSIX halves of `httpCheck`: curl on the host, so `127.0.0.1` is the host itself. The URL
 * reaches curl as a config on its stdin (printf is a builtin: it is in no process's argv), the
 * body lands in a temp file, and only hex leaves the host: status, curl's exit code, whether the
 * body holds the text (matched on the host over the whole body), a bounded prefix of the body and
 * curl's error line. Nothing the server sends can forge a key.
 */

/** Bytes of the body and of the logs that travel back for messages. */
export const BODY_PREFIX = 512
export const LOG_BYTES = 4000

/** Redirects are followed, as Invoke-WebRequest does by default, so both halves agree. */
const CURL = 'curl -sS -L --max-redirs 5'

/**
 * One attempt. $1: seconds curl may take (connect and total). Reads $sc_cfg, $sc_needle, $sc_tmp;
 * sets sc_status (000 without an answer), sc_exit (curl's) and sc_match (1 when the body holds
 * the needle, or no needle is asked for). The body file is emptied first: a failed attempt must
 * not leave the previous answer to be matched.
 */
const TRY_FN = `sc_http_try() {
  : > "$sc_tmp"
  sc_status=$(printf '%s\\n' "$sc_cfg" | ${CURL} --connect-timeout "$1" --max-time "$1" -o "$sc_tmp" -w '%{http_code}' -K - 2>"$sc_tmp.err")
  sc_exit=$?
  sc_match=1
  if [ -n "$sc_needle" ] && ! grep -qF -e "$sc_needle" "$sc_tmp" 2>/dev/null; then sc_match=0; fi
}`

/** The probe and the apply script print the same keys; the parser reads both. */
const REPORT_FN = `sc_http_report() {
  echo "exit=$sc_exit"
  echo "status=$sc_status"
  echo "match=$sc_match"
  printf 'body='; head -c ${BODY_PREFIX} "$sc_tmp" | sc_hex; echo
  printf 'err='; head -c 300 "$sc_tmp.err" | sc_hex; echo
}`

export interface PosixCheck {
  /** The curl config that names the URL. */
  config: string
  needle: string
  /** Seconds the probe's single attempt may take. */
  attemptSeconds: number
}

/** The batched probe's part: one quick attempt, never a wait. */
export function httpProbe(o: PosixCheck): string {
  return `if command -v curl >/dev/null 2>&1; then
  echo curl=1
  sc_cfg=${quote(o.config)}
  sc_needle=${quote(o.needle)}
  sc_tmp=$(mktemp "\${TMPDIR:-/tmp}/statecraft-http.XXXXXX") || exit 1
  ${TRY_FN.replaceAll('\n', '\n  ')}
  ${REPORT_FN.replaceAll('\n', '\n  ')}
  sc_http_try ${o.attemptSeconds}
  sc_http_report
  rm -f -- "$sc_tmp" "$sc_tmp.err"
else echo curl=0; fi`
}

/**
 * Milliseconds since the epoch: GNU date prints nanoseconds with %N; where it does not (macOS,
 * a busybox without it) the output holds a letter, and whole seconds are used.
 */
const MS_FN = `sc_ms() {
  t=$(date +%s%N 2>/dev/null)
  case $t in ''|*[!0-9]*) echo "$(($(date +%s) * 1000))" ;; *) echo "\${t%??????}" ;; esac
}
sc_sec() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }`

/**
 * Keys on stderr, each line prefixed, for the failure message (explain reads only stderr).
 * Logs: a systemd unit (a user's unit by its journal fields, since --user-unit matches the
 * caller's uid, root's under become) or the tail of a file.
 */
const LOGS = `case $lkind in
  unit)
    if [ -n "$luser" ]; then
      if uid=$(id -u "$luser" 2>&1); then sc_logs=$(journalctl "_SYSTEMD_USER_UNIT=$ltarget" "_UID=$uid" -n "$lines" --no-pager 2>&1)
      else sc_logs="no user $luser: $uid"; fi
    else sc_logs=$(journalctl -u "$ltarget" -n "$lines" --no-pager 2>&1); fi ;;
  file) sc_logs=$(tail -n "$lines" -- "$ltarget" 2>&1) ;;
  *) sc_logs= ;;
esac`

/**
 * $1 wanted statuses (space separated), $2 the body text or empty, $3 total milliseconds, $4
 * milliseconds per attempt, $5 logs kind (unit, file or empty), $6 unit or file, $7 the unit's user or empty,
 * $8 log lines. stdin: the curl config. Waits 0.5 s after a failed attempt, doubling to 5 s; a
 * line per attempt on stderr keeps the step from counting as idle. Exit 0 with
 * `statecraft-wait attempts=N` on stdout; 75 with `statecraft-http-check: key=value` lines on
 * stderr when the time is up; 127 without curl.
 */
export const WAIT_SCRIPT = `set -u
want=$1 sc_needle=$2 limit=$3 per=$4 lkind=$5 ltarget=$6 luser=$7 lines=$8
sc_cfg=$(cat)
sc_hex() { od -An -v -tx1 | tr -d ' \\n'; }
${MS_FN}
${TRY_FN}
${REPORT_FN}
command -v curl >/dev/null 2>&1 || { echo "statecraft-http-check: curl=0" >&2; exit 127; }
sc_tmp=$(mktemp "\${TMPDIR:-/tmp}/statecraft-http.XXXXXX") || exit 73
trap 'rm -f -- "$sc_tmp" "$sc_tmp.err"' EXIT
t0=$(sc_ms); end=$((t0 + limit)); n=0; pause=500
while :; do
  n=$((n + 1))
  left=$((end - $(sc_ms)))
  try=$per; if [ "$left" -lt "$try" ]; then try=$left; fi
  if [ "$try" -lt 200 ]; then try=200; fi
  sc_http_try "$(sc_sec "$try")"
  if [ "$sc_exit" = 0 ] && [ "$sc_match" = 1 ]; then
    case " $want " in *" $sc_status "*) echo "statecraft-wait attempts=$n"; exit 0 ;; esac
  fi
  if [ "$sc_exit" = 0 ]; then echo "statecraft-http-check attempt $n: HTTP $sc_status" >&2
  else echo "statecraft-http-check attempt $n: no answer (curl exit $sc_exit)" >&2; fi
  left=$((end - $(sc_ms)))
  if [ "$left" -le 0 ]; then break; fi
  if [ "$pause" -gt "$left" ]; then pause=$left; fi
  sleep "$(sc_sec "$pause")"
  pause=$((pause * 2)); if [ "$pause" -gt 5000 ]; then pause=5000; fi
done
${LOGS}
{
  echo "attempts=$n"
  echo "waitedms=$(($(sc_ms) - t0))"
  sc_http_report
  printf 'logs='; printf '%s\\n' "$sc_logs" | tail -c ${LOG_BYTES} | sc_hex; echo
} | sed 's/^/statecraft-http-check: /' >&2
exit 75
`
