import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { command, converge, defineRecipe, file } from '../../lib/index.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

const local = (home: string) => [{ name: 'local', transport: localHost(home) }]
const lockPresent = (home: string): boolean => {
  try {
    lstatSync(`${home}/.statecraft/run.lock`)
    return true
  } catch {
    return false
  }
}
/** A shell loop that waits (at most ~10 s) for a file to appear. */
const waitFor = (path: string): string => `i=0; while [ ! -e '${path}' ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; [ -e '${path}' ]`

describe('engine on the local host', () => {
  it('applies in dependency order and re-checks dependents (plan: pending)', async () => {
    const home = tempDir()
    const dir = tempDir()
    const recipe = defineRecipe({
      name: 'order',
      resources: () => [
        command({ id: 'second', after: ['first'], argv: ['sh', '-c', `echo second >> ${dir}/log`], unless: ['grep', '-q', 'second', `${dir}/log`] }),
        command({ id: 'first', argv: ['sh', '-c', `echo first >> ${dir}/log`], creates: `${dir}/log` }),
      ],
    })
    const plan = await converge({ recipe, hosts: local(home), mode: 'plan' })
    const byId = Object.fromEntries(plan.hosts[0]!.resources.map((r) => [r.id, r]))
    expect(byId.first).toMatchObject({ status: 'changed' })
    expect(byId.second).toMatchObject({ status: 'pending', changes: ['re-checked after first'] })
    expect(plan.summary).toMatchObject({ changed: 1, pending: 1 })
    const r = await converge({ recipe, hosts: local(home) })
    expect(r.ok).toBe(true)
    expect(readFileSync(`${dir}/log`, 'utf8')).toBe('first\nsecond\n')
  })

  it('applies independent resources concurrently', async () => {
    const home = tempDir()
    const dir = tempDir()
    // Each command waits for the other to have started: serial execution would time out and fail.
    const recipe = defineRecipe({
      name: 'concurrent',
      resources: () => ['a', 'b'].map((x) => {
        const other = x === 'a' ? 'b' : 'a'
        return command({ id: x, argv: ['sh', '-c', `touch ${dir}/${x}.started; ${waitFor(`${dir}/${other}.started`)} && touch ${dir}/${x}.done`], creates: `${dir}/${x}.done` })
      }),
    })
    const r = await converge({ recipe, hosts: local(home) })
    expect(r.hosts[0]!.resources.map((x) => x.status)).toEqual(['changed', 'changed'])
  })

  it('fails verification naming the resource, and skips what depends on it', async () => {
    const home = tempDir()
    const dir = tempDir()
    const recipe = defineRecipe({
      name: 'verify',
      resources: () => [
        command({ id: 'liar', argv: ['true'], creates: `${dir}/never` }),
        file({ id: 'dependent', path: `${dir}/x`, content: 'x', after: ['liar'] }),
        file({ id: 'independent', path: `${dir}/y`, content: 'y' }),
      ],
    })
    const r = await converge({ recipe, hosts: local(home) })
    expect(r.ok).toBe(false)
    const [liar, dependent, independent] = r.hosts[0]!.resources
    expect(liar).toMatchObject({ status: 'failed', error: { code: 'E_VERIFY' } })
    expect(liar!.error!.message).toMatch(/^liar: applied, but the host still differs from the desired state: run true/)
    expect(dependent).toMatchObject({ status: 'skipped' })
    expect(independent).toMatchObject({ status: 'changed' })
    expect(existsSync(`${dir}/x`)).toBe(false)
    expect(r.summary).toMatchObject({ failed: 1, skipped: 1, changed: 1 })
  })

  it('reports a failing command with its exit code and stderr', async () => {
    const home = tempDir()
    const dir = tempDir()
    const recipe = defineRecipe({ name: 'fails', resources: () => [command({ id: 'boom', argv: ['sh', '-c', 'echo nope >&2; exit 3'], creates: `${dir}/z` })] })
    const r = await converge({ recipe, hosts: local(home) })
    expect(r.hosts[0]!.resources[0]!.error).toEqual({ code: 'E_COMMAND', message: "sh -c 'echo nope >&2; exit 3' exited with 3: nope" })
  })

  it('fires a handler once when a notifier changes, and not on a no-op run', async () => {
    const home = tempDir()
    const dir = tempDir()
    const recipe = defineRecipe<{ v: string }>({
      name: 'handlers',
      options: { v: { default: '1' } },
      resources: ({ options }) => [
        file({ id: 'conf', path: `${dir}/conf`, content: options.v, notify: ['restart'] }),
        file({ id: 'other', path: `${dir}/other`, content: options.v, notify: ['restart'] }),
        command({ id: 'restart', argv: ['sh', '-c', `echo restarted >> ${dir}/restarts`], onlyIfNotified: true }),
      ],
    })
    const plan = await converge({ recipe, hosts: local(home), mode: 'plan' })
    expect(plan.hosts[0]!.resources[2]).toMatchObject({ status: 'changed', changes: [expect.stringMatching(/notified by conf, other/)] })
    await converge({ recipe, hosts: local(home) })
    expect(readFileSync(`${dir}/restarts`, 'utf8')).toBe('restarted\n')
    const noop = await converge({ recipe, hosts: local(home) })
    expect(noop.hosts[0]!.resources[2]!.status).toBe('unchanged')
    await converge({ recipe, hosts: local(home), set: { v: '2' } })
    expect(readFileSync(`${dir}/restarts`, 'utf8')).toBe('restarted\nrestarted\n')
  })

  it('refuses a second concurrent run, naming the holder, then runs once it is free', async () => {
    const home = tempDir()
    const dir = tempDir()
    const slow = defineRecipe({
      name: 'slow',
      resources: () => [command({ id: 'hold', argv: ['sh', '-c', `touch ${dir}/holding; ${waitFor(`${dir}/release`)}; touch ${dir}/done`], creates: `${dir}/done` })],
    })
    const quick = defineRecipe({ name: 'quick', resources: () => [file({ path: `${dir}/q`, content: 'q' })] })
    const first = converge({ recipe: slow, hosts: local(home) })
    for (let i = 0; i < 200 && !existsSync(`${dir}/holding`); i++) await new Promise((r) => setTimeout(r, 25))
    const second = await converge({ recipe: quick, hosts: local(home) })
    writeFileSync(`${dir}/release`, '')
    expect(second.ok).toBe(false)
    expect(second.hosts[0]!.error!.code).toBe('E_LOCKED')
    expect(second.hosts[0]!.error!.message).toMatch(new RegExp(`host local is locked by another statecraft run \\(controller ${hostname()}, pid ${process.pid}, started 20\\d\\d-`))
    expect(existsSync(`${dir}/q`)).toBe(false)
    expect((await first).ok).toBe(true)
    expect(lockPresent(home)).toBe(false)
    expect((await converge({ recipe: quick, hosts: local(home) })).ok).toBe(true)
  })

  it('takes over a lock whose holder is provably gone', async () => {
    const home = tempDir()
    const dir = tempDir()
    mkdirSync(`${home}/.statecraft`)
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    symlinkSync(`statecraft-lock-v1|old|${hostname()}|999999999|2026-01-01T00:00:00.000Z|${boot}`, `${home}/.statecraft/run.lock`)
    const logs: string[] = []
    const recipe = defineRecipe({ name: 'q', resources: () => [file({ path: `${dir}/q`, content: 'q' })] })
    const r = await converge({ recipe, hosts: local(home), log: (l) => logs.push(l) })
    expect(r.ok).toBe(true)
    expect(logs.join('\n')).toMatch(/taking over the lock of a run that is gone \(pid 999999999/)
    expect(r.hosts[0]!.warnings).toEqual([expect.stringMatching(/^taking over the lock of a run that is gone \(pid 999999999 on .*, started 2026-01-01T00:00:00.000Z\)$/)])
    expect(r.hosts[0]!.roundTrips).toBe(1 + 1 + 1 + 2 + 1) // facts+lock, takeover, probe, write+verify, unlock
    expect(lockPresent(home)).toBe(false)
  })

  it('stops on abort, releases the lock, and reports E_ABORTED', async () => {
    const home = tempDir()
    const dir = tempDir()
    const recipe = defineRecipe({
      name: 'abort',
      resources: () => [
        command({ id: 'long', argv: ['sh', '-c', `touch ${dir}/started; sleep 30`], creates: `${dir}/never` }),
        file({ id: 'later', path: `${dir}/later`, content: 'x', after: ['long'] }),
      ],
    })
    const ac = new AbortController()
    const p = converge({ recipe, hosts: local(home), signal: ac.signal })
    for (let i = 0; i < 200 && !existsSync(`${dir}/started`); i++) await new Promise((r) => setTimeout(r, 25))
    ac.abort()
    const r = await p
    expect(r.ok).toBe(false)
    expect(r.hosts[0]!.error!.code).toBe('E_ABORTED')
    expect(r.hosts[0]!.resources.map((x) => x.status)).toEqual(['failed', 'skipped'])
    expect(lockPresent(home)).toBe(false)
  })

  it('rejects bad recipes before probing: duplicate ids, unknown after, notify of a non-handler', async () => {
    const home = tempDir()
    const cases: [ReturnType<typeof file>[], RegExp][] = [
      [[file({ path: '/tmp/a' }), file({ path: '/tmp/a' })], /resource id 'file:\/tmp\/a' is used twice/],
      [[file({ path: '/tmp/a', after: ['nope'] })], /after names 'nope'/],
      [[file({ id: 'x', path: '/tmp/a' }), file({ path: '/tmp/b', notify: ['x'] })], /notify names 'x', which is not a handler/],
      [[file({ path: '/tmp/a', mode: '644x' })], /file \/tmp\/a: mode must be an octal string/],
    ]
    for (const [resources, err] of cases) {
      const r = await converge({ recipe: defineRecipe({ name: 'bad', resources: () => resources }), hosts: local(home) })
      // A resource's own bad input is that resource's failure; the others are the host's.
      expect(r.hosts[0]!.error ?? r.hosts[0]!.resources[0]?.error).toMatchObject({ code: 'E_VALIDATION', message: expect.stringMatching(err) })
      expect(r.ok).toBe(false)
      expect(r.hosts[0]!.roundTrips).toBe(2) // facts+lock, unlock: nothing probed
    }
  })
})
