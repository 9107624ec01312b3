import type { Step } from '../../core/types.ts'

/**
 * Atomic replace: write stdin to a temp file in the same directory, set mode and owner on it,
 * then rename over the target (missing parent directories are created first). A failed write leaves the old file untouched and no temp behind.
 */
const WRITE_SCRIPT = [
  'set -e',
  'd=$(dirname -- "$1")',
  'mkdir -p -- "$d"',
  't=$(mktemp "$d/.statecraft.XXXXXX")',
  'trap \'rm -f -- "$t"\' EXIT',
  'cat > "$t"',
  'if [ -n "$3" ]; then chown -- "$3" "$t"; fi',
  'chmod -- "$2" "$t"',
  'mv -f -- "$t" "$1"',
  'trap - EXIT',
].join('\n')

export function atomicWrite(path: string, content: string | Uint8Array, mode: string, owner?: string): Step {
  return { argv: ['sh', '-c', WRITE_SCRIPT, 'statecraft-write', path, mode, owner ?? ''], stdin: content, label: `write ${path}` }
}
