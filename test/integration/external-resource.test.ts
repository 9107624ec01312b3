import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { extConsumer, plainNode } from '../helpers/ext-package.ts'
import { sshdForTests } from '../helpers/sshd-per-file.ts'
import { tempDir } from '../helpers/tmp.ts'

/** What the marker writes: quotes, a command substitution and non-ASCII, to cross both quotings. */
const TEXT = `ready: it's "$(up)" ✓`

/**
 * A consumer of both packages, run by plain Node: a config file that notifies the marker, on
 * `local` or on an inventory host. It prints the parts of the report the test checks.
 */
const CONSUMER = `
import { converge, defineRecipe, file } from 'statecraft'
import { marker } from 'statecraft-marker'

const { host, dir, mode, v } = JSON.parse(process.argv[2])
const recipe = defineRecipe({
  name: 'marked',
  options: { v: { type: 'string', default: '1' } },
  resources: ({ options }) => [
    file({ id: 'conf', path: dir + '/app.conf', content: 'v=' + options.v + '\\n', notify: ['ready'] }),
    marker({ id: 'ready', path: dir + '/ready', text: ${JSON.stringify(TEXT)} }),
  ],
})
const r = await converge({ recipe, hosts: [host], ...(host === 'local' ? {} : { inventory: 'hosts.yaml' }), mode, set: { v } })
const h = r.hosts[0]
console.log(JSON.stringify({
  ok: r.ok, summary: r.summary, error: h.error, connections: h.connections, roundTrips: h.roundTrips,
  resources: h.resources.map((x) => ({ id: x.id, type: x.type, status: x.status, changes: x.changes, error: x.error })),
}))
`

interface Slim {
  ok: boolean
  summary: { changed: number; unchanged: number; failed: number }
  error?: { code: string; message: string }
  connections: number
  roundTrips: number
  resources: { id: string; type: string; status: string; changes: string[]; error?: unknown }[]
}

/** A consumer project (with `inventory` as its hosts.yaml); each call is one converge in a fresh plain-Node process. */
function consumer(home: string, inventory?: string): (host: string, dir: string, mode: 'plan' | 'apply', v: string) => Promise<Slim> {
  const project = extConsumer()
  writeFileSync(`${project}/consumer.mjs`, CONSUMER)
  if (inventory) writeFileSync(`${project}/hosts.yaml`, inventory)
  return async (host, dir, mode, v) => {
    const r = await plainNode(['consumer.mjs', JSON.stringify({ host, dir, mode, v })], project, home)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as Slim
    expect(out.error).toBeUndefined()
    return out
  }
}

const marker = (r: Slim) => r.resources.find((x) => x.id === 'ready')
const created = (dir: string) => `create marker ${dir}/ready: ${JSON.stringify(TEXT)}`
const touched = (dir: string) => `touch ${dir}/ready.notified (notified by conf)`

/** The stamp's mtime is put back to 1970, so a later touch shows whatever the clock's resolution. */
function ageStamp(dir: string): void {
  utimesSync(`${dir}/ready.notified`, 0, 0)
}
const stampTouched = (dir: string): boolean => statSync(`${dir}/ready.notified`).mtimeMs > 0

describe('a resource from another package (test/fixtures/ext-resource), used from plain Node through dist/', () => {
  it('plans with its change text, converges, then changes nothing, and runs its notified change when its notifier changes', async () => {
    const home = tempDir('sc-home-')
    const dir = tempDir('sc-out-')
    const run = consumer(home)

    const plan = await run('local', dir, 'plan', '1')
    expect(plan).toMatchObject({ ok: true, summary: { changed: 2 } })
    expect(plan.resources[0]).toMatchObject({ id: 'conf', type: 'file', status: 'changed' })
    expect(marker(plan)).toEqual({ id: 'ready', type: 'marker', status: 'changed', changes: [created(dir), touched(dir)] })
    expect(existsSync(`${dir}/ready`)).toBe(false)

    const first = await run('local', dir, 'apply', '1')
    expect(first).toMatchObject({ ok: true, summary: { changed: 2, failed: 0 } })
    expect(marker(first)!.changes).toEqual(marker(plan)!.changes)
    expect(readFileSync(`${dir}/ready`, 'utf8')).toBe(`${TEXT}\n`)
    expect(readFileSync(`${dir}/app.conf`, 'utf8')).toBe('v=1\n')
    expect(existsSync(`${dir}/ready.notified`)).toBe(true)

    ageStamp(dir)
    const again = await run('local', dir, 'apply', '1')
    expect(again).toMatchObject({ ok: true, summary: { changed: 0, unchanged: 2 }, roundTrips: 3 })
    expect(stampTouched(dir)).toBe(false)

    // Only the notifier changes: the marker is converged, so it only makes its notified change.
    const replan = await run('local', dir, 'plan', '2')
    expect(marker(replan)).toMatchObject({ status: 'changed', changes: [touched(dir)] })
    const notified = await run('local', dir, 'apply', '2')
    expect(notified).toMatchObject({ ok: true, summary: { changed: 2 } })
    expect(marker(notified)).toMatchObject({ status: 'changed', changes: [touched(dir)] })
    expect(stampTouched(dir)).toBe(true)
    expect(readFileSync(`${dir}/app.conf`, 'utf8')).toBe('v=2\n')
    expect(readFileSync(`${dir}/ready`, 'utf8')).toBe(`${TEXT}\n`)

    // Someone edits the marker: the plan says what it was, the apply puts it back.
    writeFileSync(`${dir}/ready`, 'tampered\n')
    const fixed = await run('local', dir, 'apply', '2')
    expect(marker(fixed)).toMatchObject({ status: 'changed', changes: [`set marker ${dir}/ready to ${JSON.stringify(TEXT)} (was "tampered")`] })
    expect(readFileSync(`${dir}/ready`, 'utf8')).toBe(`${TEXT}\n`)
  })

  describe('over SSH (a real sshd on 127.0.0.1)', () => {
    const ssh = sshdForTests()

    it('converges the same recipe on an inventory host, changes nothing the second time on one connection, and is notified', async () => {
      const dir = tempDir('sc-remote-')
      // Root login with the controller HOME's key; the run lock stays out of root's real home.
      const run = consumer(ssh.home, `hosts:\n  box:\n    address: 127.0.0.1\n    port: ${ssh.sshd.port}\n    user: root\n    lockPath: ${ssh.home}/run.lock\n`)

      const first = await run('box', dir, 'apply', '1').catch((e: Error) => {
        throw new Error(`${e.message}\nsshd log:\n${ssh.sshd.log()}`)
      })
      expect(first).toMatchObject({ ok: true, summary: { changed: 2, failed: 0 }, connections: 1 })
      expect(marker(first)).toEqual({ id: 'ready', type: 'marker', status: 'changed', changes: [created(dir), touched(dir)] })
      expect(readFileSync(`${dir}/ready`, 'utf8')).toBe(`${TEXT}\n`)
      expect(existsSync(`${dir}/ready.notified`)).toBe(true)

      ageStamp(dir)
      const again = await run('box', dir, 'apply', '1')
      expect(again).toMatchObject({ ok: true, summary: { changed: 0, unchanged: 2 }, connections: 1, roundTrips: 3 })
      expect(stampTouched(dir)).toBe(false)

      const notified = await run('box', dir, 'apply', '2')
      expect(notified).toMatchObject({ ok: true, summary: { changed: 2 }, connections: 1 })
      expect(marker(notified)).toMatchObject({ status: 'changed', changes: [touched(dir)] })
      expect(stampTouched(dir)).toBe(true)
      expect(readFileSync(`${dir}/app.conf`, 'utf8')).toBe('v=2\n')
    })
  })
})
