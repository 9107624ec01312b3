import { quote } from './quote.ts'

/**
 * The fastest sha256 on the host: OpenSSL, else coreutils, else Perl's shasum (../shared/PERF.md).
 * The file is read on stdin: given a name with a newline or backslash, all three escape it and
 * put a backslash before the hash.
 */
export const SHA256_FN = `sc_sha256() {
  if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r < "$1" | cut -d' ' -f1
  elif command -v sha256sum >/dev/null 2>&1; then sha256sum < "$1" | cut -d' ' -f1
  else shasum -a 256 < "$1" | cut -d' ' -f1; fi
}`

/** Files up to this size are read back whole (hex); larger ones are hashed. */
export const CONTENT_READ_LIMIT = 1024 * 1024

/**
 * POSIX sh helpers shared by the facts script and the batched probe. `set -f` keeps unquoted
 * expansions from globbing; sc_hex encodes arbitrary bytes so no file can forge probe output.
 */
export const SHELL_LIB = `set -f
sc_hex() { od -An -v -tx1 | tr -d ' \\n'; }
sc_kv_hex() { printf '%s=' "$1"; printf '%s' "$2" | sc_hex; echo; }
${SHA256_FN}
sc_stat() {
  if [ -L "$1" ]; then k='link'; elif [ -d "$1" ]; then k='directory'; elif [ -f "$1" ]; then k='file'
  elif [ -e "$1" ]; then k='other'; else echo "kind=absent"; return 0; fi
  echo "kind=$k"
  set -- $(ls -ld -- "$1" 2>/dev/null | head -n 1)
  echo "perm=$1"
  echo "owner=$3"
}
sc_content() {
  if [ -f "$1" ] && [ ! -L "$1" ]; then sc_sz=$(wc -c < "$1" | tr -d ' '); echo "size=$sc_sz"
    if [ "$sc_sz" -le ${CONTENT_READ_LIMIT} ]; then printf 'content='; sc_hex < "$1"; echo; else echo "sha256=$(sc_sha256 "$1")"; fi
  fi
}
`

/**
 * Prints kind=, perm= and owner= for a path (parsed by shell/stat.ts). At the head of a probe,
 * the batch serves it for all paths with one `stat` (batch.ts); elsewhere sc_stat runs it.
 */
export function statSnippet(path: string): string {
  return `sc_stat ${quote(path)}`
}

/**
 * For a regular file (not a link): size=, then content= (hex) up to CONTENT_READ_LIMIT, else
 * sha256=. At the head of a probe the batch reads all such files with one `od` (batch.ts).
 */
export function contentSnippet(path: string): string {
  return `sc_content ${quote(path)}`
}
