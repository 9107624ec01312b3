import * as v from 'valibot'
import { StatecraftError } from '../core/errors.ts'
import type { Change, Facts, Step } from '../core/types.ts'
import { decodeHex } from '../shell/protocol.ts'
import { psQuote } from '../shell/powershell/quote.ts'
import { quote } from '../shell/posix/quote.ts'
import { flag, normalisePath, path, text } from './fields.ts'
import { defineResource } from './kit.ts'

export interface GitOptions {
  /** Clone URL or path. */
  repo: string
  dest: string
  /** A branch (its remote tip), a tag, or a full 40-hex commit. */
  ref: string
  /** Shallow clone/fetch depth (ignored for a commit ref, which needs history to be found). */
  depth?: number
  /** Discard local changes to tracked files. Untracked and ignored files are never removed. */
  force?: boolean
  submodules?: boolean
}

interface GitCurrent {
  gitMissing?: boolean
  exists: 'repo' | 'no' | 'other'
  head?: string
  dirty?: boolean
  origin?: string
  /** The commit `ref` means now, and how it was resolved. */
  target?: string
  refKind?: 'commit' | 'tag' | 'branch'
  lsRemote?: string
  /** ls-remote could not reach the remote (offline): the branch tip is unknown, not missing. */
  unreachable?: string
}

/** 'conflict' and 'missing-ref': apply refuses them with the reason. */
type GitOp = { op: 'clone' } | { op: 'set-remote' } | { op: 'checkout' } | { op: 'conflict' } | { op: 'missing-ref' }

const SHA = /^[0-9a-f]{40}$/
/** What git prints when it cannot reach a remote at all (as opposed to a ref it does not have). */
const UNREACHABLE = /unable to access|Could not resolve host|Connection refused|Connection timed out|Network is unreachable|could not read from remote|does not appear to be a git repository|unable to connect/i

const short = (sha?: string): string => (sha ? sha.slice(0, 7) : 'nothing')

/**
 * A git checkout at a pinned ref: cloned if absent; moved to `ref` when it differs (a tag or commit
 * is resolved locally, a branch by one ls-remote); local changes to tracked files are refused
 * unless `force`, and untracked or ignored files (a model checkpoint inside the checkout) are
 * never removed.
 * @example
 * git({ repo: 'https://github.com/invoke-ai/InvokeAI.git', dest: '~/InvokeAI', ref: 'v2.0.2' })
 */
export const git = defineResource<GitOptions, GitCurrent, GitOp>({
  type: 'git',
  describe: (i) => `git ${String(i.dest)}`,
  fields: {
    repo: v.pipe(text(), v.minLength(1, 'must not be empty')),
    dest: path(),
    ref: v.pipe(
      text(),
      v.check((r) => !(r === '' || r.startsWith('-') || /[\s~^:?*[\\]|\.\.|@\{/.test(r)), (i) => `is not a valid branch, tag or commit name (got ${JSON.stringify(i.input)})`),
    ),
    depth: v.optional(v.custom<number>((x) => Number.isInteger(x) && (x as number) >= 1, (i) => `must be a whole number of at least 1 (got ${JSON.stringify(i.input)})`)),
    force: v.optional(flag()),
    submodules: v.optional(flag()),
  },
  normalise(d, facts, fail) {
    const out: GitOptions = { ...d, dest: normalisePath(d.dest, 'dest', facts, fail) }
    if (!d.force) delete out.force
    if (!d.submodules) delete out.submodules
    return out
  },
  defaultId: (d) => `git:${d.dest}`,
  paths: (d) => [{ path: d.dest, kind: 'directory' }],
  parse(data, d): GitCurrent {
    if (data.get('git') === 'missing') return { gitMissing: true, exists: 'no' }
    const c: GitCurrent = { exists: (data.get('exists') as GitCurrent['exists']) ?? 'no' }
    if (c.exists !== 'repo') return c
    c.head = data.get('head') || undefined
    c.dirty = (data.get('dirty') ?? '0') !== '0'
    c.origin = decodeHex(data.get('origin'))
    if (SHA.test(d.ref)) return { ...c, target: d.ref, refKind: 'commit' }
    const tag = data.get('tag')
    if (tag) return { ...c, target: tag, refKind: 'tag' }
    const ls = decodeHex(data.get('lsremote'))
    c.lsRemote = ls
    const lines = ls.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 2 && SHA.test(f[0] as string))
    const find = (name: string): string | undefined => lines.find((f) => f[1] === name)?.[0]
    const peeled = find(`refs/tags/${d.ref}^{}`) ?? find(`refs/tags/${d.ref}`)
    const branch = find(`refs/heads/${d.ref}`)
    if (branch) return { ...c, target: branch, refKind: 'branch' }
    if (peeled) return { ...c, target: peeled, refKind: 'tag' }
    const err = ls.split('\n').find((l) => UNREACHABLE.test(l))
    if (lines.length === 0 && err) c.unreachable = err.trim()
    return c
  },
  diff(d, c) {
    if (c.gitMissing) return [{ op: 'clone', text: `clone ${d.repo} to ${d.dest} at ${d.ref} (git is not installed on the host)` }]
    if (c.exists === 'no') return [{ op: 'clone', text: `clone ${d.repo} to ${d.dest} at ${d.ref}` }]
    if (c.exists === 'other') return [{ op: 'conflict', text: `clone ${d.repo} to ${d.dest}: the directory is not empty and not a git checkout` }]
    const out: Change<GitOp>[] = []
    if (c.origin !== d.repo) out.push({ op: 'set-remote', text: `set remote origin to ${d.repo} (was ${c.origin || 'none'})` })
    if (!c.target && c.unreachable) return out
    if (!c.target) out.push({ op: 'missing-ref', text: `check out ${d.ref}: not found on ${d.repo}${c.lsRemote ? ` (${c.lsRemote.trim().split('\n')[0]})` : ''}` })
    else if (c.head !== c.target) out.push({ op: 'checkout', text: `check out ${d.ref} (was ${short(c.head)})${c.dirty && d.force ? ', discarding local changes to tracked files' : ''}` })
    return out
  },
  warnings: (d, c) => (c.unreachable ? [`${d.repo} not checked (${c.unreachable}): where ${d.ref} points upstream is unknown, so the checkout was left at ${short(c.head)}`] : []),
  posix: { probe: (d) => posixProbe(d), apply: (d, c, _changes, facts) => gitSteps(d, c, facts) },
  powershell: { probe: (d) => psProbe(d), apply: (d, c, _changes, facts) => gitSteps(d, c, facts) },
  examples: ({ path, value }) => [
    { desired: { repo: `https://x/${value}`, dest: path, ref: 'v2.0.2' }, current: { exists: 'repo', head: 'a', dirty: false, origin: 'o', target: 'b'.repeat(40), refKind: 'tag' } },
    { desired: { repo: value, dest: path, ref: 'main' }, current: { exists: 'no' } },
    { desired: { repo: value, dest: path, ref: 'a'.repeat(40) }, current: { exists: 'no' } },
  ],
})

export const gitType = git.type

/**
 * The same steps on both dialects (git takes argv everywhere), decided by the probed state alone:
 * every change text is one view of that state, so there is no op to switch on.
 */
function gitSteps(d: GitOptions, c: GitCurrent, facts: Facts): Step[] {
  const git = (...args: string[]): Step => ({ argv: ['git', ...(facts.os === 'windows' ? ['-c', 'core.longpaths=true'] : []), ...args] })
  const inRepo = (...args: string[]): Step => git('-c', `safe.directory=${d.dest}`, '-C', d.dest, ...args)
  if (c.gitMissing) {
    throw new StatecraftError('E_MISSING_TOOL', `git ${d.dest}: git is not installed on the host. Install it first (Debian/Ubuntu: apt-get install git; macOS: xcode-select --install or brew install git; Windows: winget install Git.Git)`)
  }
  if (c.exists === 'other') throw new StatecraftError('E_CONFLICT', `git ${d.dest}: the directory exists, is not empty and is not a git checkout; move it away or choose another dest`)
  const isSha = SHA.test(d.ref)
  const depth = d.depth && !isSha ? ['--depth', String(d.depth)] : []
  const subs = d.submodules ? [inRepo('submodule', 'update', '--init', '--recursive', ...depth)] : []
  if (c.exists === 'no') {
    if (!isSha) return [git('clone', ...depth, ...(d.submodules ? ['--recurse-submodules'] : []), '--branch', d.ref, '--', d.repo, d.dest)]
    return [git('clone', '--no-checkout', '--', d.repo, d.dest), inRepo('checkout', '--detach', d.ref), ...subs]
  }
  if (!c.target) throw new StatecraftError('E_GIT_REF', `git ${d.dest}: ${d.ref} is neither a branch nor a tag on ${d.repo}, nor a full commit id`)
  if (c.dirty && !d.force && c.head !== c.target) {
    throw new StatecraftError('E_CONFLICT', `git ${d.dest}: local changes to tracked files would be lost by checking out ${d.ref}; commit or stash them, or set force: true (untracked and ignored files are never removed)`)
  }
  const out: Step[] = []
  if (c.origin !== d.repo) out.push(inRepo(...(c.origin ? ['remote', 'set-url'] : ['remote', 'add']), 'origin', d.repo))
  if (c.head !== c.target) {
    const refspec = c.refKind === 'branch' ? `+refs/heads/${d.ref}:refs/remotes/origin/${d.ref}` : c.refKind === 'tag' ? `+refs/tags/${d.ref}:refs/tags/${d.ref}` : (c.target as string)
    out.push(inRepo('fetch', ...depth, 'origin', refspec))
    // --force discards changes to tracked files only; git still refuses to overwrite untracked ones.
    const f = d.force ? ['--force'] : []
    out.push(c.refKind === 'branch' ? inRepo('checkout', ...f, '-B', d.ref, c.target as string) : inRepo('checkout', ...f, '--detach', c.target as string))
    out.push(...subs)
  }
  return out
}

function posixProbe(d: GitOptions): string {
  const D = quote(d.dest)
  const q = (prefix: string, suffix = ''): string => quote(`${prefix}${d.ref}${suffix}`)
  return `if ! command -v git >/dev/null 2>&1; then echo git=missing; exit 0; fi
g() { git -c safe.directory=${D} -C ${D} "$@"; }
if [ -e ${D}/.git ]; then
  echo exists=repo
  echo "head=$(g rev-parse -q --verify HEAD 2>/dev/null)"
  echo "dirty=$(g status --porcelain --untracked-files=no 2>/dev/null | head -c 1 | wc -c | tr -d ' ')"
  printf 'origin='; g config --get remote.origin.url | tr -d '\\n' | sc_hex; echo
  ${SHA.test(d.ref) ? ':' : `t=$(g rev-parse -q --verify ${q('refs/tags/', '^{commit}')} 2>/dev/null)
  if [ -n "$t" ]; then echo "tag=$t"
  else printf 'lsremote='; g ls-remote origin ${q('refs/heads/')} ${q('refs/tags/')} ${q('refs/tags/', '^{}')} 2>&1 | sc_hex; echo; fi`}
elif [ -e ${D} ] && [ -n "$(ls -A ${D} 2>/dev/null)" ]; then echo exists=other
else echo exists=no; fi`
}

function psProbe(d: GitOptions): string {
  const D = psQuote(d.dest)
  const ref = psQuote(d.ref)
  const g = `git -c core.longpaths=true -c "safe.directory=$(${D})" -C ${D}`
  return `if (-not (Get-Command git -ErrorAction SilentlyContinue)) { 'git=missing'; return }
$ErrorActionPreference = 'Continue'
if (Test-Path -LiteralPath (Join-Path ${D} '.git')) {
  'exists=repo'
  'head=' + (${g} rev-parse -q --verify HEAD 2>$null)
  $changed = @(${g} status --porcelain '--untracked-files=no' 2>$null)
  'dirty=' + $changed.Count
  Sc-KvHex 'origin' ([string](${g} config --get remote.origin.url))
  ${SHA.test(d.ref) ? '' : `$t = ${g} rev-parse -q --verify ("refs/tags/" + ${ref} + "^{commit}") 2>$null
  if ($t) { "tag=$t" } else { Sc-KvHex 'lsremote' ((${g} ls-remote origin ("refs/heads/" + ${ref}) ("refs/tags/" + ${ref}) ("refs/tags/" + ${ref} + "^{}") 2>&1) -join [char]10) }`}
} elseif ((Test-Path -LiteralPath ${D}) -and @(Get-ChildItem -LiteralPath ${D} -Force).Count -gt 0) {
  'exists=other'
} else {
  'exists=no'
}`
}
