import { TransportError } from '../../core/errors.ts'
import type { ProbeData } from '../../core/types.ts'
import { marker, parseKv, splitSections } from '../protocol.ts'
import { CONTENT_READ_LIMIT, SHELL_LIB } from './lib.ts'
import { unquote } from './quote.ts'

/**
 * The batched probe, built so that its cost grows with the data, not with the resources: a
 * probe's leading `sc_stat <path>` and `sc_content <path>` lines (lib.ts) are not run one by one
 * (an `ls`, a `head`, a `wc`, an `od` and a subshell per file) but served for all resources at
 * once, by one `stat` and one `od` per chunk of paths (2,000); the engine merges what they print into each
 * resource's section. What is left of a probe runs in its own subshell, as before.
 */

/**
 * Paths per `stat`/`od` launch, and bytes of their words: few launches (each one waits for a CPU
 * on a loaded host), argv far below ARG_MAX (1 MiB on macOS), the shell's list work small.
 */
const CHUNK = 2000
const CHUNK_BYTES = 128 * 1024

/** `words` cut into runs of at most CHUNK words and CHUNK_BYTES bytes (at least one word each). */
export function chunks(words: string[]): { at: number; words: string[] }[] {
  const out: { at: number; words: string[] }[] = []
  let cur: string[] = []
  let bytes = 0
  let at = 0
  words.forEach((w, i) => {
    const n = Buffer.byteLength(w) + 1
    if (cur.length > 0 && (cur.length >= CHUNK || bytes + n > CHUNK_BYTES)) {
      out.push({ at, words: cur })
      cur = []
      bytes = 0
      at = i
    }
    cur.push(w)
    bytes += n
  })
  if (cur.length > 0) out.push({ at, words: cur })
  return out
}

/**
 * sc_st picks the stat flavour once: GNU/busybox `-c`, BSD/macOS `-f`, else `ls -ld` per path.
 * sc_stats prints `<perm> <size> <owner> <name>` for each path that exists, in argument order
 * (the engine matches each line to the name it asked for). sc_contents prints, for each regular
 * file of its arguments, `s <index> <size>` (read below) or `h <index> <size> <sha256>` (too big
 * to read), then `=` and one `od` of all the small ones together, split by size on the controller.
 */
const BATCH_LIB = `sc_stat_how() {
  if stat -c %n / >/dev/null 2>&1; then sc_st='gnu'; elif stat -f %N / >/dev/null 2>&1; then sc_st='bsd'; else sc_st='ls'; fi
}
sc_lsrec() {
  if [ -e "$1" ] || [ -L "$1" ]; then sc_n=$1; set -- $(ls -ld -- "$1" 2>/dev/null | head -n 1); printf '%s %s %s %s\\n' "$1" "$5" "$3" "$sc_n"; fi
}
sc_stats() {
  case $sc_st in
  gnu) stat -c '%A %s %U %n' -- "$@" 2>/dev/null ;;
  bsd) stat -f '%Sp %z %Su %N' -- "$@" 2>/dev/null ;;
  *) for sc_p; do sc_lsrec "$sc_p"; done ;;
  esac
  return 0
}
sc_sizes() {
  case $sc_st in
  gnu) stat -c %s -- "$@" 2>/dev/null ;;
  bsd) stat -f %z -- "$@" 2>/dev/null ;;
  *) for sc_p; do wc -c < "$sc_p" | tr -d ' '; done ;;
  esac
  return 0
}
sc_contents() {
  sc_b=$1; shift
  sc_sel='' sc_idx='' sc_i=0
  for sc_p; do
    sc_i=$((sc_i + 1))
    if [ -f "$sc_p" ] && [ ! -L "$sc_p" ]; then sc_sel="$sc_sel \\"\\\${$sc_i}\\""; sc_idx="$sc_idx$((sc_b + sc_i)) "; fi
  done
  eval "set -- $sc_sel"
  if [ $# -gt 0 ]; then
    sc_szs=$(sc_sizes "$@")
    sc_sel='' sc_i=0
    { for sc_p; do
        sc_i=$((sc_i + 1)); sc_j=\${sc_idx%% *}; sc_idx=\${sc_idx#* }
        read -r sc_n || sc_n=''
        case $sc_n in
        ''|*[!0-9]*) echo "x $sc_j" ;;
        *) if [ "$sc_n" -le ${CONTENT_READ_LIMIT} ]; then echo "s $sc_j $sc_n"; sc_sel="$sc_sel \\"\\\${$sc_i}\\""
           else echo "h $sc_j $sc_n $(sc_sha256 "$sc_p")"; fi ;;
        esac
      done; } <<SC_EOF
$sc_szs
SC_EOF
    eval "set -- $sc_sel"
  fi
  echo '='
  if [ $# -gt 0 ]; then od -An -v -tx1 -- "$@"; fi
  return 0
}
`

/** A request read ahead of the probes: which section it belongs to, the path, and its quoted word. */
interface Ahead {
  section: number
  path: string
  word: string
}

const AHEAD = /^sc_(stat|content) ((?:'[^']*'|\\'|[A-Za-z0-9_@%+=:,./-])+)(?:\n|$)/

/** A leading `sc_stat <word>` or `sc_content <word>` line (the word may span lines), and its length. */
function leading(s: string): { what: string; path: string; word: string; length: number } | undefined {
  const m = AHEAD.exec(s)
  const path = m ? unquote(m[2] as string) : undefined
  return m && path !== undefined ? { what: m[1] as string, path, word: m[2] as string, length: m[0].length } : undefined
}

export interface BatchPlan {
  script: string
  /** Splits the output into one ProbeData per snippet, with the served stat and content merged in. */
  parse(stdout: string, host: string): ProbeData[]
}

export function posixBatch(snippets: string[], nonce: string): BatchPlan {
  const stats: Ahead[] = []
  const contents: Ahead[] = []
  const parts = [SHELL_LIB]
  snippets.forEach((s, section) => {
    // Only leading lines: they are surely at the top level of the snippet, not inside an `if`.
    let rest = s
    for (let m = leading(rest); m; m = leading(rest)) {
      ;(m.what === 'stat' ? stats : contents).push({ section, path: m.path, word: m.word })
      rest = rest.slice(m.length)
    }
    parts.push(`echo '${marker(nonce, String(section))}'`)
    if (rest.trim() !== '') parts.push(`(\n${rest}\n)`)
  })
  // A file several resources read (many `line`s in one profile) is read once, for all of them.
  const byWord = new Map<string, Ahead[]>()
  for (const a of contents) byWord.set(a.word, [...(byWord.get(a.word) ?? []), a])
  const reads = [...byWord.values()]
  if (stats.length + contents.length > 0) {
    parts.push(BATCH_LIB, 'sc_stat_how', `echo '${marker(nonce, 'stat')}'`)
    for (const c of chunks(stats.map((a) => a.word))) parts.push(`sc_stats ${c.words.join(' ')}`)
    parts.push(`echo '${marker(nonce, 'content')}'`)
    for (const c of chunks(reads.map((r) => (r[0] as Ahead).word))) parts.push(`sc_contents ${c.at} ${c.words.join(' ')}`)
  }
  parts.push(`echo '${marker(nonce, 'end')}'`)
  return {
    script: `${parts.join('\n')}\n`,
    parse(stdout, host) {
      const sections = splitSections(stdout, nonce, host)
      const out = snippets.map((_, i) => {
        const body = sections.get(String(i))
        if (body === undefined) throw cutShort(host, i, snippets.length)
        return parseKv(body)
      })
      if (stats.length + contents.length === 0) return out
      const stat = sections.get('stat')
      const content = sections.get('content')
      if (stat === undefined || content === undefined) throw cutShort(host, snippets.length, snippets.length)
      mergeStats(stat, stats, out, host)
      mergeContents(content, reads, out, host)
      return out
    },
  }
}

function cutShort(host: string, got: number, count: number): TransportError {
  return new TransportError(
    `host ${host}: the probe script's output was cut short (${got} of ${count} sections); ` +
      'the connection may have dropped or the shell may not be POSIX sh. Run again with --verbose to see its stderr.',
  )
}

function changedWhileProbed(host: string, what: string): TransportError {
  return new TransportError(`host ${host}: ${what} changed while the probe read it (or the host's stat printed something unexpected); nothing was changed: run again`)
}

const KIND: Record<string, string> = { '-': 'file', d: 'directory', l: 'link' }

/** Each asked path's line, in order; a path without one is absent. Names are matched exactly. */
function mergeStats(text: string, reqs: Ahead[], out: ProbeData[], host: string): void {
  const head = /(\S+) (\d+) (\S+) /y
  let pos = 0
  for (const r of reqs) {
    head.lastIndex = pos
    const m = head.exec(text)
    const data = out[r.section] as ProbeData
    // What the snippet printed itself wins; the line is used up either way.
    const mine = !data.has('kind')
    if (m && text.startsWith(`${r.path}\n`, head.lastIndex)) {
      const perm = m[1] as string
      if (mine) {
        data.set('kind', KIND[perm[0] as string] ?? 'other')
        data.set('perm', perm)
        data.set('owner', m[3] as string)
      }
      pos = head.lastIndex + r.path.length + 1
    } else if (mine) {
      data.set('kind', 'absent')
    }
  }
  if (pos !== text.length) throw changedWhileProbed(host, 'a path')
}

/** `s`/`h`/`x` records, then `=` and the hex of every `s` file since the last `=`, in order; each read's result goes to every section that asked for it. */
function mergeContents(text: string, reqs: Ahead[][], out: ProbeData[], host: string): void {
  const lines = text.split('\n')
  let pending: { req: Ahead[]; size: number }[] = []
  let hex: string[] | null = null
  const flush = (): void => {
    if (hex === null) return
    const all = hex.join('').replace(/\s+/g, '')
    const want = pending.reduce((n, p) => n + p.size, 0)
    if (all.length !== want * 2) throw changedWhileProbed(host, 'a file')
    let at = 0
    for (const p of pending) {
      for (const r of p.req) {
        const data = out[r.section] as ProbeData
        data.set('size', String(p.size))
        data.set('content', all.slice(at, at + p.size * 2))
      }
      at += p.size * 2
    }
    pending = []
    hex = null
  }
  for (const line of lines) {
    if (hex !== null && /^[\s0-9a-f]*$/.test(line)) {
      hex.push(line)
      continue
    }
    flush()
    const f = line.split(' ')
    const req = reqs[Number(f[1]) - 1]
    if (line === '=') hex = []
    else if (line === '') continue
    else if (f[0] === 's' && req && f.length === 3) pending.push({ req, size: Number(f[2]) })
    else if (f[0] === 'h' && req && f.length === 4) {
      for (const r of req) {
        const data = out[r.section] as ProbeData
        data.set('size', f[2] as string)
        data.set('sha256', f[3] as string)
      }
    } else throw changedWhileProbed(host, 'a file')
  }
  flush()
}
