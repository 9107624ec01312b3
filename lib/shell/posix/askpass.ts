import type { Step } from '../../core/types.ts'
import { showArgv } from './quote.ts'

/** The variable that carries the become password to the helper; only the step's process tree has it. */
export const ASKPASS_ENV = 'STATECRAFT_ASKPASS'

/**
 * Runs the step's command with SUDO_ASKPASS pointing at a helper, so a tool that calls `sudo -A`
 * itself (Homebrew's install.sh, which runs `sudo -A` when SUDO_ASKPASS is set) gets the run's become password
 * instead of a prompt nobody answers.
 *
 * The password is never on disk and never in argv: it reaches this script as an environment
 * assignment on the watched exec's stdin (see watch.ts and quote.ts commandLine), and the helper
 * only prints that variable — sudo runs the helper as the login user with the user's environment,
 * and its env_reset keeps the variable from the commands it runs as root. The helper lives in a
 * fresh 0700 directory, is itself 0700, and the directory goes on any exit, also on a signal. A
 * SIGKILL (the watcher ending a timed-out step) skips the trap: the directory then holds no
 * secret, and the next askpass step removes such leftovers of processes that no longer run.
 *
 * Arguments: the step's argv.
 */
export const ASKPASS_SCRIPT = [
  'sc_base=${TMPDIR:-/tmp}',
  // The pid of the step that made a directory is in its name: a later step can tell a dead one's.
  'for sc_s in "$sc_base"/statecraft-askpass.*.??????; do',
  '  [ -d "$sc_s" ] || continue',
  '  sc_p=${sc_s##*/statecraft-askpass.}; sc_p=${sc_p%.*}',
  '  case $sc_p in *[!0-9]*|"") continue ;; esac',
  // Gone, or a zombie nobody reaped (a container whose pid 1 does not): ps must say so positively.
  '  if kill -0 "$sc_p" 2>/dev/null; then case $(ps -o stat= -p "$sc_p" 2>/dev/null) in Z*) ;; *) continue ;; esac; fi',
  '  rm -rf -- "$sc_s" 2>/dev/null',
  'done',
  'umask 077',
  'sc_d=$(mktemp -d "$sc_base/statecraft-askpass.$$.XXXXXX") || { echo "statecraft-askpass: cannot create a private directory in $sc_base (set TMPDIR to a writable one)" >&2; exit 125; }',
  'trap \'rm -rf -- "$sc_d"\' EXIT',
  "trap 'exit 130' INT TERM HUP",
  `printf '%s\\n' '#!/bin/sh' 'printf "%s\\n" "$${ASKPASS_ENV}"' > "$sc_d/askpass"`,
  'chmod 700 "$sc_d/askpass"',
  'SUDO_ASKPASS=$sc_d/askpass',
  'export SUDO_ASKPASS',
  '"$@"',
  'exit $?',
].join('\n')

/** The step wrapped so that its `sudo -A` calls get `password`; labelled as the step itself. */
export function withAskpass(step: Step, password: string): Step {
  if (ASKPASS_ENV in (step.env ?? {})) throw new Error(`the step sets ${ASKPASS_ENV} itself`)
  return {
    ...step,
    argv: ['sh', '-c', ASKPASS_SCRIPT, 'statecraft-askpass', ...step.argv],
    env: { ...step.env, [ASKPASS_ENV]: password },
    label: step.label ?? showArgv(step.argv),
  }
}
