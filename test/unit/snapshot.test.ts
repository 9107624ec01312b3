import { readdirSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { converge, defineRecipe, directory, file, line } from '../../lib/index.ts'
import { maskSecrets, probeHash, readSnapshot, type HostSnapshot } from '../../lib/engine/snapshot.ts'
import { download } from '../../lib/resources/download/download.ts'
import { relevantLines } from '../../lib/resources/line.ts'
import demo from '../../recipes/demo.ts'
import { FakeHost, ok, servedReads } from '../helpers/fake-host.ts'
import { hex } from '../helpers/facts.ts'
import { ROOT } from '../helpers/cli.ts'
import { tempDir } from '../helpers/tmp.ts'

/** What the facts script prints on an Apple Silicon Mac (as engine-fake-host.test.ts replays it). */
const MAC_FACTS = [
  'kernel=Darwin', 'machine=arm64', 'arm64=1', 'user=ana', 'uid=501', `home=${hex('/Users/ana')}`,
  'hostname=studio-mac', 'bootid=8C1F2A9E-0000-4000-8000-1234567890AB', 'lock=acquired', `lockinfo=${hex('statecraft-lock-v1|t|c|1|x|b')}`,
].join('\n')

/** A replayed Mac whose probe sections are answered in order from `sections` (sc_stat's shapes). */
function macHost(sections: string[]): FakeHost {
  return new FakeHost((command, stdin) => {
    if (command !== 'sh -s') return undefined
    if (stdin.includes('uname -s')) return ok(MAC_FACTS)
    if (stdin.includes('readlink -- "$sc_lock"') && stdin.includes('rm -f')) return ok('')
    const nonce = /@@statecraft:([0-9a-f]+):0/.exec(stdin)?.[1]
    if (!nonce) return undefined
    return ok(`${sections.map((s, i) => `@@statecraft:${nonce}:${i}\n${s}\n`).join('')}${servedReads(stdin, nonce)}@@statecraft:${nonce}:end\n`)
  })
}

const TOKEN = 'hf_SnapshotSecret0123456789'
const PROFILE = `# shell profile\nexport HF_HOME=/Volumes/models\nexport OTHER_TOKEN=not-statecrafts-business\nexport GREETING=old\n`
const CONFIG = 'port = 9090\n'

const recipe = defineRecipe({
  name: 'snap',
  options: { token: { type: 'string', secret: true, env: 'SC_SNAP_TOKEN' }, greeting: { type: 'string', default: 'hi' } },
  resources: ({ options }) => [
    file({ path: '~/app/config.toml', content: 'port = 9091\n', mode: '0644' }),
    line({ path: '~/.zprofile', match: '^export GREETING=', line: `export GREETING=${options.greeting}` }),
    line({ path: '~/.zprofile', match: '^export HF_TOKEN=', line: `export HF_TOKEN=${options.token}`, sensitive: true }),
  ],
})

const sections = [
  `kind=file\nperm=-rw-r--r--\nowner=ana\nsize=${CONFIG.length}\ncontent=${hex(CONFIG)}`,
  `kind=file\nperm=-rw-r--r--@\nowner=ana\ncontent=${hex(PROFILE)}`,
  `kind=file\nperm=-rw-r--r--@\nowner=ana\ncontent=${hex(`${PROFILE}export HF_TOKEN=${TOKEN}\n`)}`,
]

async function record(): Promise<{ snap: HostSnapshot; live: string[][] }> {
  let snap: HostSnapshot | undefined
  const r = await converge({ recipe, hosts: [{ name: 'studio-mac', transport: macHost(sections) }], mode: 'plan', env: { SC_SNAP_TOKEN: TOKEN }, onSnapshot: (s) => (snap = s) })
  return { snap: snap as HostSnapshot, live: r.hosts[0]!.resources.map((x) => [x.id, x.status, ...x.changes]) }
}

describe('snapshot redaction', () => {
  it('masks a secret as printed and as hex in either case, at byte boundaries only, so hex still decodes', () => {
    const s = 'abc123'
    expect(maskSecrets(`url=https://${s}@host`, [s])).toBe('url=https://********@host')
    const h = Buffer.from(`x${s}y`).toString('hex')
    expect(Buffer.from(maskSecrets(h, [s]), 'hex').toString()).toBe('x********y')
    expect(Buffer.from(maskSecrets(h.toUpperCase(), [s]), 'hex').toString()).toBe('x********y')
    // The secret's hex appearing across a byte boundary is not the secret.
    const shifted = `0${Buffer.from(s).toString('hex')}0`
    expect(maskSecrets(shifted, [s])).toBe(shifted)
  })

  it('records no secret and no file content, keeps what the plan needs, and plans as the live host did', async () => {
    const { snap, live } = await record()
    const text = JSON.stringify(snap)
    for (const needle of [TOKEN, hex(TOKEN), hex(TOKEN).toUpperCase(), 'not-statecrafts-business', hex('not-statecrafts-business'), hex(CONFIG)]) expect(text).not.toContain(needle)
    const config = snap.probes['file:/Users/ana/app/config.toml']!
    expect(config.data).toEqual({ kind: 'file', perm: '-rw-r--r--', owner: 'ana', size: String(CONFIG.length), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) })
    // The line resource keeps only the lines it could touch, where they were.
    const greeting = Buffer.from(snap.probes['line:/Users/ana/.zprofile:^export GREETING=']!.data.content!, 'hex').toString()
    expect(greeting).toBe('\n\n\nexport GREETING=old\n')
    const simulated = await converge({ recipe, hosts: [{ name: 'studio-mac', snapshot: snap }], mode: 'plan', env: { SC_SNAP_TOKEN: TOKEN } })
    const h = simulated.hosts[0]!
    expect(h.resources.map((x) => [x.id, x.status, ...x.changes])).toEqual([
      live[0],
      live[1],
      // The secret was masked in what the probe printed: the snapshot cannot say whether it matches.
      ['line:/Users/ana/.zprofile:^export HF_TOKEN=', 'pending', 'unknown: not in snapshot (what it printed held a secret, masked in the snapshot)'],
    ])
    expect(live[0]).toEqual(['file:/Users/ana/app/config.toml', 'changed', 'update content of /Users/ana/app/config.toml (12 bytes, was 12 bytes)'])
    expect(live[1]).toEqual(['line:/Users/ana/.zprofile:^export GREETING=', 'changed', 'replace line 4 of /Users/ana/.zprofile: "export GREETING=old" with "export GREETING=hi"'])
    expect(h).toMatchObject({ ok: false, status: 'failed', connections: 0, roundTrips: 0, error: { code: 'E_SNAPSHOT' } })
  })

  it('keeps what a download plan reads of the HEAD, not a signed redirect query nor cookies', () => {
    const head = [
      'HTTP/2 302', 'location: https://cdn.example/repos/ab/cd?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA', 'x-linked-size: 4265380512',
      'x-linked-etag: "c6bbc15e3224e6973459ba78de4998b80b50112b0ae5b5c67113d56b4e366b19"', 'set-cookie: session=s3cr3t', '', 'HTTP/2 200', 'content-length: 4265380512', '',
    ].join('\r\n')
    const d = { url: 'https://huggingface.co/a/resolve/main/m.ckpt', dest: '/m.ckpt' }
    const data = new Map([['stampok', '0'], ['head', hex(head)]])
    const kept = download.type.snapshotProbe!(data, d as never)
    const text = Buffer.from(kept.get('head')!, 'hex').toString()
    expect(text).not.toMatch(/Signature|AKIA|s3cr3t/)
    expect(text).toContain('location: https://cdn.example/repos/ab/cd?(query not recorded)\r\n')
    expect(download.type.parse(kept, d as never)).toEqual(download.type.parse(data, d as never))
  })

  it("identifies a probe by its script with the run's secrets masked: another token finds the same record", () => {
    const script = (t: string): string => `cfg='header = "Authorization: Bearer ${t}"'`
    expect(probeHash(script('hf_aaaaaaaa'), ['hf_aaaaaaaa'])).toBe(probeHash(script('hf_bbbbbbbb'), ['hf_bbbbbbbb']))
    expect(probeHash(script('hf_aaaaaaaa'), [])).not.toBe(probeHash(script('hf_bbbbbbbb'), []))
  })

  it('keeps the lines a line resource could touch, with their CRLF endings and numbers', () => {
    const d = { path: 'C:\\x', match: '^b=', line: 'b=2' }
    expect(relevantLines(d, 'a=1\r\nb=1\r\nc=b=2\r\n')).toBe('\r\nb=1\r\n\r\n')
    expect(relevantLines({ path: '/x', line: 'keep' }, 'x\nkeep\ny')).toBe('\nkeep\n')
  })
})

describe('planning from a snapshot', () => {
  it('reports a resource the snapshot never probed, or probed differently, as unknown, and plans the rest', async () => {
    const { snap } = await record()
    const changed = defineRecipe({
      name: 'snap',
      resources: () => [
        // Same id, another probe: a file without content is only stat'ed, its content never read.
        file({ path: '~/app/config.toml', mode: '0644' }),
        // New in the recipe under review.
        directory({ path: '~/app' }),
        line({ path: '~/.zprofile', match: '^export GREETING=', line: 'export GREETING=old' }),
      ],
    })
    const r = await converge({ recipe: changed, hosts: [{ name: 'studio-mac', snapshot: snap }], mode: 'plan' })
    const h = r.hosts[0]!
    expect(h.resources.map((x) => [x.id, x.status, ...x.changes])).toEqual([
      ['file:/Users/ana/app/config.toml', 'pending', 'unknown: not in snapshot (its probe changed since the recording)'],
      ['directory:/Users/ana/app', 'pending', 'unknown: not in snapshot'],
      ['line:/Users/ana/.zprofile:^export GREETING=', 'unchanged'],
    ])
    expect(h.error?.message).toBe(
      'host studio-mac: 2 resource(s) the snapshot cannot answer for: file:/Users/ana/app/config.toml, directory:/Users/ana/app; their plan is unknown. Record the snapshot again (--snapshot) from a host like this one to plan them',
    )
    expect(r.ok).toBe(false)
  })

  it('refuses to apply a snapshot', async () => {
    const { snap } = await record()
    const r = await converge({ recipe, hosts: [{ name: 'studio-mac', snapshot: snap }], mode: 'apply', env: { SC_SNAP_TOKEN: TOKEN } })
    expect(r.hosts[0]!.error).toEqual({ code: 'E_SNAPSHOT', message: 'host studio-mac: a snapshot can only be planned against (--simulate), never applied' })
  })

  it('says which file is not a snapshot', () => {
    const dir = tempDir()
    writeFileSync(`${dir}/a.json`, '{"statecraftSnapshot": 9}')
    writeFileSync(`${dir}/b.json`, 'not json')
    expect(() => readSnapshot(`${dir}/a.json`)).toThrow(`snapshot ${dir}/a.json: not a statecraft snapshot of format 1 (statecraftSnapshot is 9); record it again with this version`)
    expect(() => readSnapshot(`${dir}/b.json`)).toThrow(/^snapshot .*b\.json: cannot read it as JSON/)
  })
})

describe('the shipped demo snapshots', () => {
  const dir = `${ROOT}recipes/snapshots/demo`
  it('are the fresh and converged Debian 12, macOS arm64 and Windows 11 hosts, with no file content', () => {
    const files = readdirSync(dir).sort()
    expect(files).toEqual(['debian12-converged.json', 'debian12-fresh.json', 'macos-arm64-converged.json', 'macos-arm64-fresh.json', 'windows11-converged.json', 'windows11-fresh.json'])
    for (const f of files) {
      const s = readSnapshot(`${dir}/${f}`)
      expect(s.recipe).toBe('demo')
      for (const p of Object.values(s.probes)) if (p.type === 'file') expect(Object.keys(p.data)).not.toContain('content')
    }
    expect(readSnapshot(`${dir}/macos-arm64-fresh.json`).facts).toMatchObject({ os: 'darwin', arch: 'arm64', appleSilicon: true })
    expect(readSnapshot(`${dir}/windows11-fresh.json`).facts).toMatchObject({ os: 'windows', dialect: 'powershell', osVersion: '10.0.22631.4391' })
    expect(readSnapshot(`${dir}/debian12-fresh.json`).facts).toMatchObject({ os: 'linux', distro: { id: 'debian', version: '12' } })
  })

  const plan = async (f: string) => {
    const s = readSnapshot(`${dir}/${f}.json`)
    const r = await converge({ recipe: demo, hosts: [{ name: s.host, snapshot: s }], mode: 'plan' })
    return { home: s.facts.home, h: r.hosts[0]! }
  }

  it.each(['debian12', 'macos-arm64', 'windows11'])('%s converged: nothing to do', async (os) => {
    const { h } = await plan(`${os}-converged`)
    expect(h.error).toBeUndefined()
    expect(h.summary).toEqual({ changed: 0, unchanged: 7, pending: 0, failed: 0, skipped: 0 })
  })

  it.each([
    ['debian12', '/', "run sh -c 'date -u > stamp.txt'"],
    ['macos-arm64', '/', "run sh -c 'date -u > stamp.txt'"],
    ['windows11', '\\', "run powershell.exe -NoProfile -Command 'Get-Date -Format u | Set-Content stamp.txt'"],
  ])('%s fresh: the whole tour to create', async (os, sep, stamp) => {
    const { h, home } = await plan(`${os}-fresh`)
    const d = `${home}${sep}statecraft-demo`
    expect(h.error).toBeUndefined()
    expect(h.summary.changed).toBe(7)
    const byId = Object.fromEntries(h.resources.map((r) => [r.id, r.changes]))
    expect(byId[`file:${d}${sep}hello.txt`]?.[0]).toBe(`create file ${d}${sep}hello.txt (22 bytes)`)
    expect(byId[`symlink:${d}${sep}current`]).toEqual([`create link ${d}${sep}current -> hello.txt`])
    expect(byId.stamp?.[0]).toBe(`${stamp} (${d}${sep}stamp.txt is missing)`)
    // POSIX hosts get the modes; Windows has ACLs and the recipe leaves them out.
    expect(byId[`directory:${d}${sep}conf`]).toEqual(sep === '/' ? [`create directory ${d}/conf`, 'set mode 0700'] : [`create directory ${d}\\conf`])
  })
})
