import { createHash } from 'node:crypto'
import type { Step } from '../../core/types.ts'
import { SHA256_FN } from './lib.ts'

/**
 * Atomic replace: stdin goes to a temp file beside the target, which is renamed over the target
 * only when its length and sha256 are what the controller sent — a controller killed mid-write
 * ends stdin early, and end-of-input is not a complete file. Missing parent directories are
 * created; a symlink in the target's place is replaced, never followed (mv would move the file
 * into a linked directory); a directory there is refused. The temp file is removed on any exit,
 * also on a signal; temp files left by a writer that no longer runs (SIGKILL) are swept first.
 *
 * Arguments: target, mode, owner ('' to keep), byte count, sha256.
 */
export const WRITE_SCRIPT = [
  'set -e',
  SHA256_FN,
  'd=$(dirname -- "$1")',
  'mkdir -p -- "$d"',
  // The writer's pid is in the temp name, so a later run can tell a dead writer's file.
  'for s in "$d"/.statecraft.*.??????; do',
  '  [ -f "$s" ] || continue',
  '  p=${s##*/.statecraft.}; p=${p%.*}',
  '  case $p in *[!0-9]*|"") continue ;; esac',
  '  kill -0 "$p" 2>/dev/null || rm -f -- "$s"',
  'done',
  'if [ -d "$1" ] && [ ! -L "$1" ]; then echo "statecraft-write: $1 is a directory; remove it or choose another path" >&2; exit 3; fi',
  't=$(mktemp "$d/.statecraft.$$.XXXXXX")',
  'trap \'rm -f -- "$t"\' EXIT',
  "trap 'exit 130' INT TERM HUP PIPE",
  'cat > "$t"',
  'n=$(wc -c < "$t" | tr -d \' \')',
  'if [ "$n" != "$4" ]; then echo "statecraft-write: received $n of $4 bytes for $1 (the controller stopped sending); the old file is kept" >&2; exit 4; fi',
  'if [ "$(sc_sha256 "$t")" != "$5" ]; then echo "statecraft-write: the bytes received for $1 do not match their sha256; the old file is kept" >&2; exit 4; fi',
  'if [ -n "$3" ]; then chown -- "$3" "$t"; fi',
  'chmod -- "$2" "$t"',
  'if [ -L "$1" ]; then rm -f -- "$1"; fi',
  'mv -f -- "$t" "$1"',
  'trap - EXIT',
].join('\n')

/** `fresh`: the target was absent when probed (a batch may then create it in place, see apply-batch.ts). */
export function atomicWrite(path: string, content: string | Uint8Array, mode: string, owner?: string, o: { fresh?: boolean } = {}): Step {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content
  const sha = createHash('sha256').update(bytes).digest('hex')
  return {
    argv: ['sh', '-c', WRITE_SCRIPT, 'statecraft-write', path, mode, owner ?? '', String(bytes.byteLength), sha],
    stdin: content,
    label: `write ${path}`,
    write: { path, bytes, mode, ...(owner ? { owner } : {}), ...(o.fresh ? { fresh: true } : {}) },
  }
}
