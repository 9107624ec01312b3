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
  // An asynchronous list's stdin is /dev/null unless redirected explicitly: hand it the pipe as fd 3.
  'exec 3<&0 </dev/null',
  '(cat <&3 >/dev/null; kill -KILL 0) >/dev/null 2>&1 &',
  'exec 3<&-',
  'eval "$sc_cmd"',
].join('\n')

/** The exec for a command line: the wrapper above, with the command line on the held stdin. */
export function watched(commandLine: string): { command: string; stdin: string; raw: true; hold: true } {
  // The line must be one line: a newline can only occur inside a single-quoted word of a command
  // line built by quote(), so it becomes close-quote, the newline variable, reopen-quote.
  const line = commandLine.replaceAll('\n', `'"$sc_nl"'`)
  return { command: `sh -c '${WATCH_SCRIPT.replaceAll("'", `'\\''`)}'`, stdin: `${line}\n`, raw: true, hold: true }
}
