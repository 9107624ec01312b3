import { chmodSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { command, converge, defineRecipe, directory, file, line, symlink } from '../../lib/index.ts'
import type { Resource } from '../../lib/core/types.ts'
import { anyString, fileName } from '../helpers/arbitraries.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

const MODES = ['0600', '0640', '0644', '0700', '0755'] as const
const mode = fc.option(fc.constantFrom(...MODES), { nil: undefined })
const text = anyString({ maxLength: 20 })
/** Any line: one holding a CR (or a newline) is refused at validation, which fails the run (see lineRefused). */
const oneLine = anyString({ maxLength: 12 })
const linkTarget = fc.oneof(fc.constantFrom('a', 'missing', '../x', '.', 'a\n', 'a\nb\n\n'), anyString({ maxLength: 20 }).filter((s) => s !== ''))

type Want =
  | { type: 'file'; content?: string; mode?: string; absent: boolean }
  | { type: 'directory'; mode?: string; absent: boolean; force: boolean }
  | { type: 'symlink'; target: string; absent: boolean; force: boolean }
  | { type: 'line'; line: string; match?: string; absent: boolean }

const fileWant = fc.record({ type: fc.constant('file' as const), content: fc.option(text, { nil: undefined }), mode, absent: fc.boolean() })
const dirWant = fc.record({ type: fc.constant('directory' as const), mode, absent: fc.boolean(), force: fc.boolean() })
const linkWant = fc.record({ type: fc.constant('symlink' as const), target: linkTarget, absent: fc.boolean(), force: fc.boolean() })
const lineWant = fc.record({ type: fc.constant('line' as const), line: oneLine, match: fc.option(fc.constantFrom('^x', '^#', 'a', '='), { nil: undefined }), absent: fc.boolean() })
const leafWant: fc.Arbitrary<Want | null> = fc.oneof(fc.constant(null), fileWant, dirWant, linkWant, lineWant)

type Start = { kind: 'absent' } | { kind: 'file'; content: string; mode: number } | { kind: 'directory'; mode: number; full: boolean } | { kind: 'link'; target: string }

const startArb: fc.Arbitrary<Start> = fc.oneof(
  fc.constant({ kind: 'absent' as const }),
  fc.record({ kind: fc.constant('file' as const), content: fc.oneof(text, fc.array(fc.oneof(oneLine, fc.constantFrom('x=1', '# c', 'a')), { maxLength: 4 }).map((ls) => ls.join('\n'))), mode: fc.constantFrom(0o600, 0o644, 0o755) }),
  /** full: with an entry in it (a file named k). */
  fc.record({ kind: fc.constant('directory' as const), mode: fc.constantFrom(0o700, 0o755), full: fc.boolean() }),
  fc.record({ kind: fc.constant('link' as const), target: linkTarget }),
)

/** A command guarded by `creates`, which writes a random value (also through env) to its own path. */
const commandWant = fc.record({ value: text, viaEnv: fc.boolean(), done: fc.boolean() })

const scenario = fc.record({
  top: fc.tuple(leafWant, leafWant, leafWant),
  topStart: fc.tuple(startArb, startArb, startArb),
  /** A directory (random name) managed present, with two entries under it; or not managed. */
  sub: fc.option(fc.record({ name: fileName(), mode, start: startArb, children: fc.tuple(leafWant, leafWant), childStart: fc.tuple(startArb, startArb) }), { nil: null }),
  commands: fc.array(commandWant, { maxLength: 2 }),
  /** For each resource, which earlier ones it is declared `after` (indices, reduced modulo). */
  after: fc.array(fc.array(fc.nat(), { maxLength: 2 }), { minLength: 10, maxLength: 10 }),
  /** The order resources are declared in. */
  shuffle: fc.array(fc.nat(), { minLength: 10, maxLength: 10 }),
})
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never

function makeStart(path: string, s: Start): void {
  if (s.kind === 'file') (writeFileSync(path, s.content), chmodSync(path, s.mode))
  else if (s.kind === 'directory') (mkdirSync(path), s.full && writeFileSync(`${path}/k`, ''), chmodSync(path, s.mode))
  else if (s.kind === 'link') symlinkSync(s.target, path)
}

function declare(id: string, path: string, w: Want): Resource {
  switch (w.type) {
    case 'file':
      return w.absent ? file({ id, path, state: 'absent' }) : file({ id, path, ...(w.content !== undefined ? { content: w.content } : {}), ...(w.mode ? { mode: w.mode } : {}) })
    case 'directory':
      return w.absent ? directory({ id, path, state: 'absent', force: w.force }) : directory({ id, path, ...(w.mode ? { mode: w.mode } : {}) })
    case 'symlink':
      return w.absent ? symlink({ id, path, state: 'absent' }) : symlink({ id, path, target: w.target, force: w.force })
    case 'line':
      return line({ id, path, line: w.line, ...(w.match !== undefined ? { match: w.match } : {}), ...(w.absent ? { state: 'absent' as const } : {}) })
  }
}

/** A starting state that `w` refuses by design (E_CONFLICT): nothing is deleted to make room. */
function conflicts(w: Want | null, s: Start): boolean {
  if (w?.type === 'directory') return w.absent ? !w.force && s.kind === 'directory' && s.full : s.kind === 'file' || s.kind === 'link'
  if (w?.type === 'file') return s.kind === 'directory'
  if (w?.type === 'line') return s.kind === 'directory' || s.kind === 'link'
  if (w?.type === 'symlink' && !w.absent) return s.kind === 'directory' || (s.kind === 'file' && !w.force)
  return false
}

/** A line holding a newline or a CR is refused at validation: the host fails before any probe. */
function refusedAtValidation(sc: Scenario): boolean {
  const wants = [...sc.top, ...(sc.sub?.children ?? [])]
  return wants.some((w) => w?.type === 'line' && /[\r\n]/.test(w.line))
}

/** What the managed sub-directory wants. */
const SUB: Want = { type: 'directory', absent: false, force: false }

function hasConflict(sc: Scenario): boolean {
  const top = sc.top.some((w, i) => conflicts(w, sc.topStart[i] as Start))
  const sub = sc.sub
  if (sub === null) return top
  return top || conflicts(SUB, sub.start) || (sub.start.kind === 'directory' && sub.children.some((w, i) => conflicts(w, sub.childStart[i] as Start)))
}

/** Lays out the starting state under `dir` and returns the recipe's resources. */
function build(dir: string, sc: Scenario): Resource[] {
  const made: [string, (after: string[]) => Resource][] = []
  sc.top.forEach((w, i) => {
    const path = `${dir}/t${i}`
    makeStart(path, sc.topStart[i] as Start)
    if (w) made.push([`t${i}`, (after) => ({ ...declare(`t${i}`, path, w), after })])
  })
  if (sc.sub) {
    const sub = sc.sub
    const path = `${dir}/${sub.name}`
    // Children exist at the start only inside a directory that exists.
    makeStart(path, sub.start)
    made.push(['sub', (after) => ({ ...directory({ id: 'sub', path, ...(sub.mode ? { mode: sub.mode } : {}) }), after })])
    sub.children.forEach((w, i) => {
      const cpath = `${path}/c${i}`
      if (sub.start.kind === 'directory') makeStart(cpath, sub.childStart[i] as Start)
      if (w) made.push([`sub/c${i}`, (after) => ({ ...declare(`sub/c${i}`, cpath, w), after })])
    })
  }
  sc.commands.forEach((c, i) => {
    const path = `${dir}/cmd${i}`
    if (c.done) writeFileSync(path, 'done')
    const argv = c.viaEnv ? ['sh', '-c', 'printf %s "$V" > "$1"', 'sh', path] : ['sh', '-c', 'printf %s "$1" > "$2"', 'sh', c.value, path]
    made.push([`cmd${i}`, (after) => ({ ...command({ id: `cmd${i}`, argv, creates: path, ...(c.viaEnv ? { env: { V: c.value } } : {}) }), after })])
  })
  // Declare in a shuffled order; `after` only names resources declared earlier, so there is no cycle.
  const order = made.map((m, i) => ({ m, k: sc.shuffle[i] ?? 0 })).sort((a, b) => a.k - b.k).map((x) => x.m)
  // The directory comes before what lies under it (which is ordered after it anyway), so that
  // every edge, explicit or implied, points from an earlier declaration to a later one: no cycles.
  const subAt = order.findIndex(([id]) => id === 'sub')
  const firstChild = order.findIndex(([id]) => id.startsWith('sub/'))
  if (subAt >= 0 && firstChild >= 0 && firstChild < subAt) order.splice(firstChild, 0, ...order.splice(subAt, 1))
  return order.map(([, mk], i) => {
    const picks = (sc.after[i] ?? []).filter(() => i > 0).map((n) => order[n % i]?.[0] as string)
    return mk([...new Set(picks)])
  })
}

describe('plan and apply agree on random recipes and starting states', () => {
  it('apply makes exactly the planned changes, succeeds, and a second apply changes nothing', async () => {
    let clean = 0
    let pending = 0
    let refused = 0
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        const home = tempDir()
        const dir = tempDir()
        const resources = build(dir, sc)
        const recipe = defineRecipe({ name: 'random', resources: () => resources })
        const run = (mode: 'plan' | 'apply') => converge({ recipe, hosts: [{ name: 'local', transport: localHost(home) }], mode })
        const plan = await run('plan')
        const apply = await run('apply')
        if (refusedAtValidation(sc)) {
          refused++
          // Refused before the host is touched: the bad resource's own failure, or the host's (twins).
          for (const r of [plan, apply]) {
            const err = r.hosts[0]?.error ?? r.hosts[0]?.resources.find((x) => x.error)?.error
            expect(err?.code, JSON.stringify(err)).toBe('E_VALIDATION')
            expect(r.ok).toBe(false)
          }
          return
        }
        const planned = plan.hosts[0]?.resources ?? []
        const applied = apply.hosts[0]?.resources ?? []
        expect(applied.map((r) => r.id)).toEqual(planned.map((r) => r.id))
        // Resources whose apply outcome the plan could not know: a re-checked one that then failed
        // (a conflict behind it), and what was skipped for it. Declaration order is a topological
        // order here (every edge points to a later declaration), so causes come first.
        const unknowable = new Set<string>()
        for (const [i, p] of planned.entries()) {
          const a = applied[i]
          if (p.status === 'pending') {
            pending++
            expect(p.changes, p.id).toEqual([expect.stringMatching(/^re-checked after /)])
            if (a?.status === 'failed' || a?.status === 'skipped') unknowable.add(p.id)
            continue
          }
          const skippedFor = a?.status === 'skipped' ? /^skipped: (.+) failed$/.exec(a.changes[0] ?? '')?.[1] : undefined
          if (skippedFor !== undefined && unknowable.has(skippedFor)) {
            unknowable.add(p.id)
            continue
          }
          expect({ id: a?.id, status: a?.status, changes: a?.changes }).toEqual({ id: p.id, status: p.status, changes: p.changes })
        }
        // A conflict (a line in a directory, a link over a file without force, a directory over a
        // file, rmdir of a directory with entries) fails the run by design, at plan time or,
        // behind a pending resource, at apply time; every other run must succeed and converge.
        if (hasConflict(sc)) return
        expect([...unknowable]).toEqual([])
        clean++
        expect(apply.ok, JSON.stringify([apply.hosts[0]?.error, apply.hosts[0]?.resources.filter((r) => r.status === 'failed')])).toBe(true)
        const again = await run('apply')
        expect(again.ok).toBe(true)
        expect(again.summary, JSON.stringify(again.hosts[0]?.resources.filter((r) => r.status !== 'unchanged'))).toMatchObject({ changed: 0, pending: 0, failed: 0, skipped: 0 })
      }),
      { numRuns: 80 },
    )
    // The generator must reach the interesting cases: runs without conflicts, and re-checked resources.
    // (About 16 of 80 runs are conflict-free; 4 is over 3 deviations below, so this is not a coin toss.)
    expect(clean).toBeGreaterThanOrEqual(4)
    expect(refused).toBeLessThan(60)
    expect(pending).toBeGreaterThan(0)
  }, 120_000)
})

/** Plans, applies and applies again; returns what each run reported per resource. */
async function planApplyAgain(resources: Resource[]) {
  const home = tempDir()
  const recipe = defineRecipe({ name: 'counterexample', resources: () => resources })
  const run = async (mode: 'plan' | 'apply') => {
    const r = await converge({ recipe, hosts: [{ name: 'local', transport: localHost(home) }], mode })
    return { ok: r.ok, resources: (r.hosts[0]?.resources ?? []).map((x) => ({ id: x.id, status: x.status, changes: x.changes })) }
  }
  return { plan: await run('plan'), apply: await run('apply'), again: await run('apply') }
}

/** The three properties above, for one recipe. */
async function expectAgreement(resources: Resource[]): Promise<void> {
  const { plan, apply, again } = await planApplyAgain(resources)
  expect(apply.resources).toEqual(plan.resources)
  expect(apply.ok).toBe(true)
  expect(again.resources.every((r) => r.status === 'unchanged')).toBe(true)
}

/**
 * For a change a resource refuses by design: plan and apply report the same, the resource failed
 * with E_CONFLICT and `message` (in the plan already, not only when apply tries), and nothing moved.
 */
async function expectConflict(resources: Resource[], message: RegExp, unchanged: () => unknown): Promise<void> {
  const before = unchanged()
  const home = tempDir()
  const recipe = defineRecipe({ name: 'conflict', resources: () => resources })
  const run = (mode: 'plan' | 'apply') => converge({ recipe, hosts: [{ name: 'local', transport: localHost(home) }], mode })
  const plan = await run('plan')
  const apply = await run('apply')
  const report = (r: typeof plan) => (r.hosts[0]?.resources ?? []).map((x) => ({ id: x.id, status: x.status, changes: x.changes, error: x.error }))
  expect(report(apply)).toEqual(report(plan))
  for (const r of [plan, apply]) {
    expect(r.ok).toBe(false)
    expect(r.hosts[0]?.resources.find((x) => x.status === 'failed')?.error).toMatchObject({ code: 'E_CONFLICT', message: expect.stringMatching(message) })
  }
  expect(unchanged()).toEqual(before)
}

// Bugs the property found, fixed: their minimal counterexamples (shrunk by fast-check, then
// written by hand) stay as regression tests.
describe('plan/apply disagreements the property found (counterexamples)', () => {
  // Was a bug (lib/resources/directory.ts): the plan said "replace file … with a directory"
  // (changed), but apply ran `mkdir -p`, which failed with "File exists". Now plan and apply both
  // show the conflict and fail the resource; the file stays.
  it('a directory where a regular file stands', async () => {
    const dir = tempDir()
    writeFileSync(`${dir}/t0`, 'keep')
    await expectConflict([directory({ id: 't0', path: `${dir}/t0` })], /^directory .*\/t0: a regular file stands there; move or remove it first/, () => readFileSync(`${dir}/t0`, 'utf8'))
  })

  // The same over a link to a directory: mkdir -p succeeded through the link, and verify failed.
  it('a directory where a link to a directory stands', async () => {
    const dir = tempDir()
    mkdirSync(`${dir}/elsewhere`)
    symlinkSync('elsewhere', `${dir}/t0`)
    await expectConflict([directory({ id: 't0', path: `${dir}/t0`, mode: '0700' })], /a symbolic link stands there/, () => readlinkSync(`${dir}/t0`))
  })

  // Was a bug (lib/resources/directory.ts): the probe did not look inside, so the plan said
  // "remove empty directory …" (changed) for a directory with entries; apply's rmdir failed. Now
  // the probe says whether it is empty, and plan and apply both show the conflict.
  it('state absent (no force) on a directory that is not empty', async () => {
    const dir = tempDir()
    mkdirSync(`${dir}/d`)
    writeFileSync(`${dir}/d/.k\n`, '')
    await expectConflict([directory({ id: 'd', path: `${dir}/d`, state: 'absent' })], /d: is not empty, so it is not removed without force; .*set force: true/, () => readdirSync(`${dir}/d`))
  })

  it('state absent (no force) on an empty directory removes it', async () => {
    const dir = tempDir()
    mkdirSync(`${dir}/d`)
    await expectAgreement([directory({ id: 'd', path: `${dir}/d`, state: 'absent' })])
  })

  // Was a bug (lib/shell/posix/write.ts, `mv -f -- "$t" "$1"`): the plan said "replace directory …
  // with a file", but mv moved the temp file INTO the directory. A file resource refuses a
  // directory now, in the plan already.
  it('a file where an empty directory stands', async () => {
    const dir = tempDir()
    mkdirSync(`${dir}/t0`)
    await expectConflict([file({ id: 't0', path: `${dir}/t0`, content: 'x' })], /a directory stands there, and a file resource never removes a directory/, () => readdirSync(`${dir}/t0`))
  })

  // Was a bug (the same mv): over a link to a directory, the temp file (the content, sensitive or
  // not) landed in the directory the link points to. The write helper replaces the link now.
  it('a file where a link to a directory stands', async () => {
    const dir = tempDir()
    mkdirSync(`${dir}/elsewhere`)
    symlinkSync('elsewhere', `${dir}/t0`)
    await expectAgreement([file({ id: 't0', path: `${dir}/t0`, content: 'x' })])
  })

  it('nothing is written into the directory such a link points to', async () => {
    const dir = tempDir()
    mkdirSync(`${dir}/elsewhere`)
    symlinkSync('elsewhere', `${dir}/t0`)
    await planApplyAgain([file({ id: 't0', path: `${dir}/t0`, content: 'x' })])
    expect(readdirSync(`${dir}/elsewhere`)).toEqual([])
  })

  // Was a bug (lib/resources/file.ts): state 'absent' over a directory with entries was planned as a
  // removal, and apply's rmdir failed. A file resource refuses any directory now.
  it('file state absent where a directory with entries stands', async () => {
    const dir = tempDir()
    mkdirSync(`${dir}/t0`)
    writeFileSync(`${dir}/t0/k`, '')
    await expectConflict([file({ id: 't0', path: `${dir}/t0`, state: 'absent' })], /a directory stands there/, () => readdirSync(`${dir}/t0`))
  })

  // Was a bug (lib/resources/symlink.ts, probe): `readlink -- p | tr -d '\n'` dropped every
  // newline of the target, so a link to 'a\nb' read back as 'ab': the apply never verified (and a
  // link to 'a\nb' passed for a link to 'ab').
  it('a link whose target holds a newline', async () => {
    const dir = tempDir()
    await expectAgreement([symlink({ id: 'l', path: `${dir}/l`, target: 'a\nb' })])
  })

  it('a link whose target ends in newlines, next to one to the same name without them', async () => {
    const dir = tempDir()
    symlinkSync('a', `${dir}/m`)
    await expectAgreement([symlink({ id: 'l', path: `${dir}/l`, target: 'a\n\n' }), symlink({ id: 'm', path: `${dir}/m`, target: 'a\n' })])
  })

  // Was a bug (lib/resources/line.ts, editLines): replacing the last line of a file without a
  // final newline by an empty line wrote no terminator, so the empty line read back as no line
  // (and an empty file): the apply never verified. Found by the property once lines and file
  // contents drew from more characters.
  it('an empty line replacing the last line of a file without a final newline', async () => {
    const dir = tempDir()
    writeFileSync(`${dir}/t0`, 'x=1')
    await expectAgreement([line({ id: 't0', path: `${dir}/t0`, line: '', match: '^x' })])
  })

  // Was a bug (lib/resources/line.ts): validate refused '\n' in `line` but not '\r'. Appending
  // '\r' to a file gave CRLF in it, so the next read split on CRLF and the line was missing
  // again: the apply never verified. Now a CR is refused before the host is touched.
  it('a line that is a lone CR', async () => {
    const dir = tempDir()
    writeFileSync(`${dir}/t`, '-')
    const recipe = defineRecipe({ name: 'cr', resources: () => [line({ id: 't', path: `${dir}/t`, line: '\r' })] })
    for (const mode of ['plan', 'apply'] as const) {
      const r = await converge({ recipe, hosts: [{ name: 'local', transport: localHost(tempDir()) }], mode })
      expect(r.ok).toBe(false)
      expect(r.hosts[0]?.resources[0]).toMatchObject({ id: 't', status: 'failed', error: { code: 'E_VALIDATION', message: expect.stringMatching(/line in .*: line must be a single line without a carriage return/) } })
    }
    expect(readFileSync(`${dir}/t`, 'utf8')).toBe('-')
  })
})
