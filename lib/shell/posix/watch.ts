/**
 * How a command runs on a POSIX host so that it never outlives the run that started it, and its
 * arguments and environment (secrets among them) never appear in any process's argv.
 *
 * The program started on the host is always this same fixed script. It reads the real command
 * line from the first line of stdin, starts a watcher that reads the rest of stdin, and runs the
 * command with stdin from /dev/null. The controller keeps stdin open until the command exits, then
 * closes it; stdin also closes when the controller dies, the connection drops, a timeout or
 * Ctrl-C ends the run. Then the watcher kills the process group — the command and whatever it left
 * running in the background (`sleep 100 &`), which would otherwise hold the output pipes open and
 * keep the run waiting, or run on beside the next run's copy of the same step.
 */
const WATCH_SCRIPT = [
  '# shellcheck disable=SC2034 # sc_nl is read by the eval below',
  "sc_nl='",
  "'",
  'IFS= read -r sc_cmd || exit 125',
  'IFS= read -r sc_in || exit 125',
  // An asynchronous list's stdin is /dev/null unless redirected explicitly: hand it the pipe as fd 3.
  'exec 3<&0 </dev/null',
  '(cat <&3 >/dev/null; kill -KILL 0) >/dev/null 2>&1 &',
  'exec 3<&-',
  // The command's own input, if any, was sent octal-escaped on the second line: printf is a
  // builtin, so it is in no process's argv.
  '# shellcheck disable=SC2059',
  'if [ -n "$sc_in" ]; then printf "$sc_in" | eval "$sc_cmd"; else eval "$sc_cmd"; fi',
].join('\n')

/**
 * Input small enough to travel on the watcher's second line (a curl config with a token, a small
 * file); larger input goes unwatched, as a plain stdin stream whose receiver checks it (the atomic
 * write's length and sha256).
 */
export const WATCHED_INPUT_LIMIT = 16 * 1024

/** Every byte as a printf octal escape: one line, no `%`, nothing the shell expands. */
function octal(data: string | Uint8Array): string {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
  let out = ''
  for (const b of bytes) out += `\\${b.toString(8).padStart(3, '0')}`
  return out
}

/**
 * The exec for a command line: the wrapper above, with the command line (and the command's own
 * input, when it has some) on the held stdin.
 */
export function watched(commandLine: string, input?: string | Uint8Array): { command: string; stdin: string; raw: true; hold: true } {
  // The line must be one line: a newline can only occur inside a single-quoted word of a command
  // line built by quote(), so it becomes close-quote, the newline variable, reopen-quote.
  const line = commandLine.replaceAll('\n', `'"$sc_nl"'`)
  return { command: `sh -c '${WATCH_SCRIPT.replaceAll("'", `'\\''`)}'`, stdin: `${line}\n${input === undefined ? '' : octal(input)}\n`, raw: true, hold: true }
}
