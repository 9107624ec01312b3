import { posix } from 'node:path'
import type { Step } from '../../core/types.ts'
import { decodeHex, marker, parseKv, splitSections } from '../protocol.ts'
import { chunks } from './batch.ts'
import { SHELL_LIB } from './lib.ts'
import { commandLine, quote } from './quote.ts'

/**
 * The steps of many independent resources in one exec, so that a first converge costs round
 * trips and program launches in proportion to the data, not one exec (and a dozen programs) per
 * resource. Three kinds of members:
 * - quick steps of programs whose operands are alike (mkdir, chmod, chown, rm, rmdir) are merged:
 *   one `mkdir -p -- a b c…`, one `chmod -- 0755 a b…` per mode, per round of steps;
 * - other quick steps (Step.quick: ln…) run one after another, each member's chain with its own
 *   exit status and stderr;
 * - atomic writes of small files (Step.write): see writeLines. The bytes are written by the
 *   shell's printf, a builtin, so they are in no argv; a file is complete before it is renamed,
 *   as the script reaches the host whole or not at all: a command line only runs once the shell
 *   has read all of it.
 * Whether a merged member's part took is for the engine's verify to tell: it re-reads every
 * member with one batched probe, and a member that still differs fails with what the shared
 * launches printed on stderr.
 */
/** Bytes up to which a write joins a batch (printf escapes take four bytes per byte). */
export const BATCH_WRITE_LIMIT = 64 * 1024

export type BatchMember = { kind: 'quick'; steps: Step[] } | { kind: 'write'; write: NonNullable<Step['write']> }

export interface MemberResult {
  ok: boolean
  /** The member's stderr (quick), or what the batch's shared write commands printed (write). */
  stderr: string
  /** For a failed quick member: the step that failed and its exit code. */
  failed?: { label: string; code: number }
}

export interface ApplyBatchPlan {
  script: string
  parse(stdout: string, host: string): MemberResult[]
}

/** Whether `steps` can join a batch, and as what. */
export function batchMember(steps: Step[]): BatchMember | undefined {
  if (steps.length === 0) return undefined
  const [only] = steps
  if (steps.length === 1 && only?.write && only.write.bytes.byteLength <= BATCH_WRITE_LIMIT && !only.prepare) return { kind: 'write', write: only.write }
  const quick = steps.every((s) => s.quick && s.stdin === undefined && !s.prepare && !s.rebootExitCodes && !s.askpass && s.psScript === undefined)
  return quick ? { kind: 'quick', steps } : undefined
}

function octal(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += `\\${b.toString(8).padStart(3, '0')}`
  return out
}


/** Programs whose operands all mean the same thing: `mkdir -p -- a b` makes both, so steps merge. */
const MERGEABLE = new Set(['mkdir', 'chmod', 'chown', 'rm', 'rmdir'])

/** The step without its last operand (the path), when it can share one launch with others like it. */
function mergeKey(s: Step): string | undefined {
  const dd = s.argv.indexOf('--')
  if (!MERGEABLE.has(s.argv[0] ?? '') || s.cwd !== undefined || s.env !== undefined || dd < 0 || dd > s.argv.length - 2) return undefined
  return s.argv.slice(0, -1).map(quote).join(' ')
}

/** Launch lines for `cmd` over `words`, a chunk at a time; a failure marks the shared status. */
function chunked(cmd: string, words: string[], tail = ''): string[] {
  return chunks(words).map((c) => `${cmd} ${c.words.join(' ')}${tail} 2>>"$sc_e" || sc_wrc=1`)
}

/** Lines that run every step of `groups` (one list of steps per member), each round merged by kind. */
function mergedLines(groups: Step[][]): string[] {
  const out: string[] = []
  const rounds = Math.max(0, ...groups.map((g) => g.length))
  for (let k = 0; k < rounds; k++) {
    const byKey = new Map<string, string[]>()
    for (const g of groups) {
      const s = g[k]
      if (!s) continue
      const key = mergeKey(s) as string
      byKey.set(key, [...(byKey.get(key) ?? []), quote(s.argv[s.argv.length - 1] as string)])
    }
    for (const [key, paths] of byKey) out.push(...chunked(key, paths))
  }
  return out
}

/**
 * Removes the staging directories a killed batch left in `$1` (SIGKILL, a dropped connection: no
 * trap runs), as the atomic write sweeps its temp files: the batch shell's pid is in the name, and
 * a directory of a shell that no longer runs is stale. A pid reused by another process keeps its
 * directory only for a day. Only our own directories: in a shared directory another user's
 * batch may be running (kill -0 fails on another user's live pid). Builtins only, but for the `rm`
 * of what is stale and the `find` that reads a live pid's directory's age: nothing launches when
 * there is nothing left behind. The glob needs globbing, which the batch's `set -f` turned off.
 */
const SWEEP_FN = `sc_sweep() {
  set +f
  for sc_s in "$1"/.statecraft.*.s?????; do
    [ -d "$sc_s" ] && [ ! -L "$sc_s" ] && [ -O "$sc_s" ] || continue
    sc_p=\${sc_s##*/.statecraft.}; sc_p=\${sc_p%.*}
    case $sc_p in *[!0-9]*|'') continue ;; esac
    [ "$sc_p" != "$$" ] || continue
    if kill -0 "$sc_p" 2>/dev/null && [ -z "$(find "$sc_s" -prune -mtime +0 2>/dev/null)" ]; then continue; fi
    rm -rf -- "$sc_s"
  done
  set -f
}`

/** A new file's mode that creation under a umask gives exactly (read/write bits only). */
const plainMode = (mode: string): boolean => (parseInt(mode, 8) & 0o7111) === 0

/**
 * Small files. A new one (absent when probed) is created in place, with noclobber so that nothing
 * that appeared meanwhile is overwritten, under the umask that gives it its mode (0640: umask
 * 0137), so it is never more open than asked; a mode creation cannot give (exec or set-id bits)
 * and an owner are set after, for all such files at once, and only if every creation succeeded:
 * a file that appeared meanwhile is not ours to change, and the verify names what is left.
 * One that replaces a file is staged beside it (one staging directory per target directory,
 * named like the atomic write's temp files, umask 077), given its owner and mode with one
 * chown/chmod per value, and renamed into place with one `mv` per directory.
 */
function writeLines(writes: NonNullable<Step['write']>[]): string[] {
  type W = NonNullable<Step['write']>
  const replace = writes.filter((w) => !w.fresh)
  const dirs = [...new Set(replace.map((w) => posix.dirname(w.path)))]
  const stage = new Map(dirs.map((d, k) => [d, `${quote(d)}/.statecraft."$$".s${String(k).padStart(5, '0')}`]))
  const at = (w: W): string => (w.fresh ? quote(w.path) : `${stage.get(posix.dirname(w.path))}/${quote(posix.basename(w.path))}`)
  const umaskOf = (w: W): string => (w.fresh && plainMode(w.mode) ? (~parseInt(w.mode, 8) & 0o777).toString(8).padStart(4, '0') : '0077')
  const out = ['sc_um=$(umask)', 'sc_xrc=0']
  out.push(...chunked('mkdir -p --', [...new Set(writes.map((w) => quote(posix.dirname(w.path))))]))
  if (dirs.length > 0) out.push(SWEEP_FN, ...dirs.map((d) => `sc_sweep ${quote(d)}`))
  out.push('umask 0077', ...chunked('mkdir --', dirs.map((d) => stage.get(d) as string)))
  out.push('set -C')
  for (const u of [...new Set(writes.map(umaskOf))]) {
    out.push(`umask ${u}`, ...writes.filter((w) => umaskOf(w) === u).map((w) => `printf '${octal(w.bytes)}' > ${at(w)} 2>>"$sc_e" || sc_xrc=1`))
  }
  out.push('set +C', 'umask 0077')
  const group = (list: W[], key: (w: W) => string | undefined): Map<string, string[]> => {
    const m = new Map<string, string[]>()
    for (const w of list) {
      const k = key(w)
      if (k !== undefined) m.set(k, [...(m.get(k) ?? []), at(w)])
    }
    return m
  }
  // chown before chmod: changing the owner clears set-id bits.
  const attrs = (list: W[], modes: (w: W) => string | undefined): string[] => [
    ...[...group(list, (w) => w.owner)].flatMap(([o, files]) => chunked(`chown -- ${quote(o)}`, files)),
    ...[...group(list, modes)].flatMap(([m, files]) => chunked(`chmod -- ${quote(m)}`, files)),
  ]
  const fresh = attrs(writes.filter((w) => w.fresh), (w) => (plainMode(w.mode) ? undefined : w.mode))
  if (fresh.length > 0) out.push('if [ "$sc_xrc" = 0 ]; then :', ...fresh, 'fi')
  out.push(...attrs(replace, (w) => w.mode))
  // A link in a target's place is replaced, never followed (as the single atomic write does).
  for (const w of replace) out.push(`if [ -L ${quote(w.path)} ]; then rm -f -- ${quote(w.path)}; fi`)
  for (const d of dirs) out.push(...chunked('mv -f --', replace.filter((w) => posix.dirname(w.path) === d).map(at), ` ${quote(d)}/`))
  out.push(...chunked('rm -rf --', dirs.map((d) => stage.get(d) as string)), 'umask "$sc_um"', '[ "$sc_xrc" = 0 ] || sc_wrc=1')
  return out
}

export function applyBatchScript(members: BatchMember[], nonce: string): ApplyBatchPlan {
  const parts = [SHELL_LIB, `sc_e=$(mktemp "\${TMPDIR:-/tmp}/statecraft-batch.XXXXXX") || exit 1`, `trap 'rm -f -- "$sc_e"' EXIT`]
  const shared: boolean[] = members.map((m) => m.kind === 'write' || m.steps.every((s) => mergeKey(s) !== undefined))
  const writes = members.flatMap((m) => (m.kind === 'write' ? [m.write] : []))
  const merged = members.flatMap((m, i) => (m.kind === 'quick' && shared[i] ? [m.steps] : []))
  // The shared launches first: they make directories (mkdir -p), which a link or a command of the
  // same wave may need, as they found them when resources ran one by one in declaration order.
  if (writes.length + merged.length > 0) {
    parts.push(`echo '${marker(nonce, 'shared')}'`, ': > "$sc_e"', 'sc_wrc=0', ...mergedLines(merged))
    if (writes.length > 0) parts.push(...writeLines(writes))
    parts.push('echo "rc=$sc_wrc"', 'if [ "$sc_wrc" != 0 ]; then printf \'err=\'; tail -c 2000 "$sc_e" | sc_hex; echo; fi')
  }
  members.forEach((m, i) => {
    parts.push(`echo '${marker(nonce, String(i))}'`)
    if (shared[i] || m.kind === 'write') return
    // Each member's own exit status and stderr, so that a failure names its step.
    const chain = m.steps.map((s) => `{ ${commandLine(s)}; } </dev/null >/dev/null`).join(' && ')
    parts.push(`: > "$sc_e"`, `( ${chain} ) 2>"$sc_e"; sc_rc=$?`, 'echo "rc=$sc_rc"', 'if [ "$sc_rc" != 0 ]; then printf \'err=\'; tail -c 2000 "$sc_e" | sc_hex; echo; fi')
  })
  parts.push(`echo '${marker(nonce, 'end')}'`)
  return {
    script: `${parts.join('\n')}\n`,
    parse(stdout, host) {
      const sections = splitSections(stdout, nonce, host)
      const w = parseKv(sections.get('shared') ?? '')
      if (shared.some(Boolean) && !w.has('rc')) throw new Error(`host ${host}: the batched apply printed no status`)
      const sharedErr = decodeHex(w.get('err'))
      return members.map((m, i) => {
        const kv = parseKv(sections.get(String(i)) ?? '')
        // Shared launches: whether each member's part took is for the verify probe to tell.
        if (m.kind === 'write' || shared[i]) return { ok: true, stderr: sharedErr }
        const rc = Number(kv.get('rc') ?? -1)
        const err = decodeHex(kv.get('err'))
        if (rc === 0) return { ok: true, stderr: '' }
        return { ok: false, stderr: err, failed: { label: m.steps.map((s) => s.label ?? s.argv.join(' ')).join(' && '), code: rc } }
      })
    },
  }
}
