import { describe, expect, it } from 'vitest'
import { gitType, type GitOptions } from '../../../lib/resources/git.ts'
import { hex, linuxFacts, macFacts, probe, psHex, type Printed, type StrictProbe, windowsFacts } from '../../helpers/facts.ts'
import { runCase, type Case } from '../../helpers/table.ts'

const A = 'a'.repeat(40)
const B = 'b'.repeat(40)
const C = 'c'.repeat(40)
const repo = 'https://github.com/invoke-ai/InvokeAI.git'
const inRepo = (dest: string, ...args: string[]): string[] => ['git', '-c', `safe.directory=${dest}`, '-C', dest, ...args]
const checkout = (extra: Printed): StrictProbe => probe({ git: undefined, exists: 'repo', head: A, dirty: '0', origin: hex(repo), ...extra })

/** The Windows probe: 'dirty=' is a count, hex is upper case, ls-remote lines are joined with LF. */
const winCheckout = (extra: Printed): StrictProbe => probe({ git: undefined, exists: 'repo', head: A, dirty: '0', origin: psHex(repo), ...extra })
const W = 'C:\\Users\\ana\\InvokeAI'
const psGit = (...args: string[]): string => `& 'git' '-c' 'core.longpaths=true' ${args.map((a) => `'${a}'`).join(' ')}\nexit $LASTEXITCODE`
const psInRepo = (...args: string[]): string => psGit('-c', `safe.directory=${W}`, '-C', W, ...args)

const cases: Case<GitOptions>[] = [
  { name: 'absent: clone at the tag', facts: macFacts, desired: { repo, dest: '~/InvokeAI', ref: 'v2.0.2', depth: 1 }, current: probe({ git: undefined, exists: 'no' }), changes: [`clone ${repo} to /Users/ana/InvokeAI at v2.0.2`], steps: [['git', 'clone', '--depth', '1', '--branch', 'v2.0.2', '--', repo, '/Users/ana/InvokeAI']] },
  { name: 'absent, commit ref: full clone, then detach', facts: linuxFacts, desired: { repo, dest: '/srv/ai', ref: A, depth: 1 }, current: probe({ git: undefined, exists: 'no' }), changes: [`clone ${repo} to /srv/ai at ${A}`], steps: [['git', 'clone', '--no-checkout', '--', repo, '/srv/ai'], inRepo('/srv/ai', 'checkout', '--detach', A)] },
  { name: 'at the tag already (resolved locally): no-op', facts: linuxFacts, desired: { repo, dest: '/srv/ai', ref: 'v2.0.2' }, current: checkout({ tag: A, lsremote: undefined }), changes: [] },
  { name: 'other tag: fetch it, detach', facts: linuxFacts, desired: { repo, dest: '/srv/ai', ref: 'v2.0.2' }, current: checkout({ tag: B, lsremote: undefined }), changes: ['check out v2.0.2 (was aaaaaaa)'], steps: [inRepo('/srv/ai', 'fetch', 'origin', '+refs/tags/v2.0.2:refs/tags/v2.0.2'), inRepo('/srv/ai', 'checkout', '--detach', B)] },
  {
    name: 'branch tip from ls-remote moved',
    facts: linuxFacts,
    desired: { repo, dest: '/srv/ai', ref: 'main' },
    current: checkout({ tag: undefined, lsremote: hex(`${C}\trefs/heads/main\n`) }),
    changes: ['check out main (was aaaaaaa)'],
    steps: [inRepo('/srv/ai', 'fetch', 'origin', '+refs/heads/main:refs/remotes/origin/main'), inRepo('/srv/ai', 'checkout', '-B', 'main', C)],
  },
  { name: 'annotated tag only upstream: peeled commit wins', facts: linuxFacts, desired: { repo, dest: '/srv/ai', ref: 'v3' }, current: checkout({ tag: undefined, lsremote: hex(`${B}\trefs/tags/v3\n${A}\trefs/tags/v3^{}\n`) }), changes: [] },
  { name: 'force with local changes', facts: linuxFacts, desired: { repo, dest: '/srv/ai', ref: 'v2', force: true }, current: checkout({ tag: B, lsremote: undefined, dirty: '1' }), changes: ['check out v2 (was aaaaaaa), discarding local changes to tracked files'], steps: [inRepo('/srv/ai', 'fetch', 'origin', '+refs/tags/v2:refs/tags/v2'), inRepo('/srv/ai', 'checkout', '--force', '--detach', B)] },
  { name: 'origin changed (fork to upstream): set-url, same commit', facts: linuxFacts, desired: { repo, dest: '/srv/ai', ref: A }, current: probe({ git: undefined, exists: 'repo', head: A, dirty: '0', origin: hex('https://github.com/nunocoracao/InvokeAI') }), changes: [`set remote origin to ${repo} (was https://github.com/nunocoracao/InvokeAI)`], steps: [inRepo('/srv/ai', 'remote', 'set-url', 'origin', repo)] },
  { name: 'git missing: planned, apply names the fix', facts: linuxFacts, desired: { repo, dest: '/srv/ai', ref: 'main' }, current: probe({ git: 'missing' }), changes: [`clone ${repo} to /srv/ai at main (git is not installed on the host)`], applyError: /git is not installed on the host. Install it first \(Debian\/Ubuntu: apt-get install git/ },
  { name: 'local changes without force: refused', facts: linuxFacts, desired: { repo, dest: '/srv/ai', ref: 'v2' }, current: checkout({ tag: B, lsremote: undefined, dirty: '1' }), changes: ['check out v2 (was aaaaaaa)'], applyError: /local changes to tracked files would be lost by checking out v2; commit or stash them, or set force: true/ },
  { name: 'not empty, not a checkout: refused', facts: linuxFacts, desired: { repo, dest: '/srv/ai', ref: 'main' }, current: probe({ git: undefined, exists: 'other' }), changes: [`clone ${repo} to /srv/ai: the directory is not empty and not a git checkout`], applyError: /move it away or choose another dest/ },
  // Windows
  { name: 'Windows: absent: clone with long paths on', facts: windowsFacts, desired: { repo, dest: '~/InvokeAI', ref: 'v2.0.2' }, current: probe({ git: undefined, exists: 'no' }), changes: [`clone ${repo} to ${W} at v2.0.2`], steps: [psGit('clone', '--branch', 'v2.0.2', '--', repo, W)] },
  { name: 'Windows: at the tag already (upper-case hex origin): no-op', facts: windowsFacts, desired: { repo, dest: '~/InvokeAI', ref: 'v2.0.2' }, current: winCheckout({ tag: A, lsremote: undefined }), changes: [] },
  { name: 'Windows: other tag: fetch it, detach', facts: windowsFacts, desired: { repo, dest: '~/InvokeAI', ref: 'v2.0.2' }, current: winCheckout({ tag: B, lsremote: undefined }), changes: ['check out v2.0.2 (was aaaaaaa)'], steps: [psInRepo('fetch', 'origin', '+refs/tags/v2.0.2:refs/tags/v2.0.2'), psInRepo('checkout', '--detach', B)] },
  { name: 'Windows: branch tip from ls-remote moved', facts: windowsFacts, desired: { repo, dest: '~/InvokeAI', ref: 'main' }, current: winCheckout({ tag: undefined, lsremote: psHex(`${B}\trefs/heads/dev\n${C}\trefs/heads/main`) }), changes: ['check out main (was aaaaaaa)'], steps: [psInRepo('fetch', 'origin', '+refs/heads/main:refs/remotes/origin/main'), psInRepo('checkout', '-B', 'main', C)] },
  { name: 'Windows: 3 changed files without force: refused', facts: windowsFacts, desired: { repo, dest: '~/InvokeAI', ref: 'v2' }, current: winCheckout({ tag: B, lsremote: undefined, dirty: '3' }), changes: ['check out v2 (was aaaaaaa)'], applyError: /local changes to tracked files would be lost/ },
  { name: 'Windows: git missing: the fix names winget', facts: windowsFacts, desired: { repo, dest: '~/InvokeAI', ref: 'main' }, current: probe({ git: 'missing' }), changes: [`clone ${repo} to ${W} at main (git is not installed on the host)`], applyError: /Windows: winget install Git\.Git/ },
  { name: 'ref with a space is refused', facts: linuxFacts, desired: { repo, dest: '/srv/ai', ref: 'v 2' }, error: /git \/srv\/ai: ref is not a valid branch, tag or commit name/ },
  { name: 'ref starting with a dash is refused', facts: linuxFacts, desired: { repo, dest: '/srv/ai', ref: '--upload-pack=x' }, error: /ref is not a valid/ },
  { name: 'depth 0 is refused', facts: linuxFacts, desired: { repo, dest: '/srv/ai', ref: 'main', depth: 0 }, error: /depth must be a whole number of at least 1/ },
]

describe('git', () => {
  for (const c of cases) it(c.name, () => runCase(gitType, c))

  it('git missing on the host: the plan says so and apply names the fix', () => {
    const d = gitType.validate({ repo, dest: '/srv/ai', ref: 'main' }, linuxFacts)
    const c = gitType.parse(probe({ git: 'missing' }), d)
    const ch = gitType.diff(d, c)
    expect(ch.map((x) => x.text)).toEqual([`clone ${repo} to /srv/ai at main (git is not installed on the host)`])
    expect(() => gitType.apply(d, c, ch, linuxFacts)).toThrow(/git is not installed on the host. Install it first \(Debian\/Ubuntu: apt-get install git; macOS: xcode-select --install/)
  })

  it('a branch whose remote cannot be reached (offline --plan): no change, a "not checked" warning; a ref the remote lacks is still refused', () => {
    const d = gitType.validate({ repo, dest: '/srv/ai', ref: 'main' }, linuxFacts)
    const offline = gitType.parse(checkout({ tag: undefined, lsremote: hex("fatal: unable to access 'https://github.com/invoke-ai/InvokeAI.git/': Could not resolve host: github.com\n") }), d)
    expect(gitType.diff(d, offline)).toEqual([])
    expect(gitType.warnings?.(d, offline)).toEqual([`${repo} not checked (fatal: unable to access 'https://github.com/invoke-ai/InvokeAI.git/': Could not resolve host: github.com): where main points upstream is unknown, so the checkout was left at aaaaaaa`])
    const lacking = gitType.parse(checkout({ tag: undefined, lsremote: hex(`${A}\trefs/heads/other\n`) }), d)
    expect(gitType.diff(d, lacking).map((x) => x.op)).toEqual(['missing-ref'])
    expect(gitType.warnings?.(d, lacking)).toEqual([])
  })

  it('local changes without force are refused, naming what is kept', () => {
    const d = gitType.validate({ repo, dest: '/srv/ai', ref: 'v2' }, linuxFacts)
    const c = gitType.parse(checkout({ tag: B, lsremote: undefined, dirty: '1' }), d)
    expect(() => gitType.apply(d, c, gitType.diff(d, c), linuxFacts)).toThrow(/untracked and ignored files are never removed/)
  })

  it('on Windows: long paths on, Windows dest', () => {
    const win = { ...linuxFacts, os: 'windows' as const, dialect: 'powershell' as const, home: 'C:\\Users\\ana' }
    const d = gitType.validate({ repo, dest: '~/InvokeAI', ref: 'v2.0.2' }, win)
    const c = gitType.parse(probe({ git: undefined, exists: 'no' }), d)
    expect(gitType.apply(d, c, gitType.diff(d, c), win)[0]!.argv).toEqual(['git', '-c', 'core.longpaths=true', 'clone', '--branch', 'v2.0.2', '--', repo, 'C:\\Users\\ana\\InvokeAI'])
  })
})
