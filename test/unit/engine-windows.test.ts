import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { command, converge, defineRecipe, directory, file, line, versionSatisfies, type Facts } from '../../lib/index.ts'
import { PS_COMMAND } from '../../lib/shell/powershell/quote.ts'
import { decodePs, ReplayedWindows, type Program } from '../helpers/windows-host.ts'

const INIT = 'C:\\Users\\ana\\invokeai\\invokeai.init'
const PROFILE = 'C:\\Users\\ana\\profile.ps1'
const RUSTUP = 'C:\\Users\\ana\\.cargo\\bin\\rustup.exe'
const ROOT_LINE = "$env:INVOKEAI_ROOT = 'C:\\Users\\ana\\invokeai'"

/** rustup-init.exe -y installs rustup.exe under the profile, as the real installer does. */
const programs: Record<string, Program> = {
  'rustup-init.exe': (fs, args) => {
    if (!args.includes('-y')) return 1
    fs.write(RUSTUP, Buffer.from('MZ'))
    return 0
  },
}

const windowsHost = (files: Record<string, string> = {}): ReplayedWindows => new ReplayedWindows(files, programs)

const recipe = defineRecipe({
  name: 'windows',
  resources: ({ facts }) => [
    file({ path: '~/invokeai/invokeai.init', content: '--web\n' }),
    line({ path: '~/profile.ps1', match: '^\\$env:INVOKEAI_ROOT', line: `$env:INVOKEAI_ROOT = '${facts.home}\\invokeai'` }),
    command({ id: 'rustup', argv: ['rustup-init.exe', '-y', '-q'], creates: '~/.cargo/bin/rustup.exe' }),
  ],
})

describe('engine against a replayed Windows host (cmd.exe login shell, PowerShell 5.1)', () => {
  it('falls back from sh to PowerShell, plans with Windows paths, keeps CRLF files CRLF', async () => {
    const win = windowsHost({ [PROFILE]: "# profile\r\n$env:INVOKEAI_ROOT = 'D:\\old'\r\n" })
    const r = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: win.host }], mode: 'plan', diff: true })
    expect(r.hosts[0]!.error).toBeUndefined()
    const [f, l, c] = r.hosts[0]!.resources
    expect(f!.changes).toEqual(['create file C:\\Users\\ana\\invokeai\\invokeai.init (6 bytes)'])
    expect(l!.changes).toEqual([`replace line 2 of C:\\Users\\ana\\profile.ps1: "$env:INVOKEAI_ROOT = 'D:\\\\old'" with "$env:INVOKEAI_ROOT = 'C:\\\\Users\\\\ana\\\\invokeai'"`])
    expect(l!.diffs![0]!.after).toBe("# profile\r\n$env:INVOKEAI_ROOT = 'C:\\Users\\ana\\invokeai'\r\n")
    expect(c!.changes).toEqual(['run rustup-init.exe -y -q (C:\\Users\\ana\\.cargo\\bin\\rustup.exe is missing)'])
    // sh attempt, PowerShell facts+lock, probe, unlock
    expect(win.host.calls.map((x) => x.command)).toEqual(['sh -s', PS_COMMAND, PS_COMMAND, PS_COMMAND])
  })

  it('with the os: windows hint, a no-op costs 3 round trips (upper-case hex read back as equal)', async () => {
    const win = windowsHost({ [INIT]: '--web\n', [PROFILE]: `${ROOT_LINE}\r\n`, [RUSTUP]: 'MZ' })
    const r = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }], mode: 'plan' })
    expect(r.hosts[0]!.error).toBeUndefined()
    expect(r.summary).toMatchObject({ changed: 0, unchanged: 3 })
    expect(r.hosts[0]!.roundTrips).toBe(3)
  })

  it('applies with PowerShell scripts: atomic write with the bytes inside, native argv for commands; verified; then converged', async () => {
    const win = windowsHost()
    const r = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }] })
    const scripts = win.host.calls.map((x) => decodePs(x.stdin))
    const write = scripts.find((s) => s.includes("$p = 'C:\\Users\\ana\\invokeai\\invokeai.init'"))
    expect(write).toContain(`FromBase64String('${Buffer.from('--web\n').toString('base64')}')`)
    expect(write).toContain('[IO.File]::Replace($t, $p, [NullString]::Value)')
    expect(scripts.some((s) => s.includes("& 'rustup-init.exe' '-y' '-q'\nexit $LASTEXITCODE"))).toBe(true)

    const h = r.hosts[0]!
    expect(h.error).toBeUndefined()
    expect(h.resources.map((x) => [x.id, x.status, x.error])).toEqual([
      ['file:C:\\Users\\ana\\invokeai\\invokeai.init', 'changed', undefined],
      ['line:C:\\Users\\ana\\profile.ps1:^\\$env:INVOKEAI_ROOT', 'changed', undefined],
      ['rustup', 'changed', undefined],
    ])
    expect(h.ok).toBe(true)
    expect(r.ok).toBe(true)
    expect(r.summary).toMatchObject({ changed: 3, failed: 0, skipped: 0 })
    expect(win.read(INIT)).toBe('--web\n')
    expect(win.read(PROFILE)).toBe(`${ROOT_LINE}\n`)
    expect(win.read(RUSTUP)).toBe('MZ')

    const again = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }] })
    expect(again.ok).toBe(true)
    expect(again.summary).toMatchObject({ changed: 0, unchanged: 3, failed: 0 })
  })

  it('applies over a CRLF profile: the file stays CRLF, and the next run changes nothing', async () => {
    const win = windowsHost({ [PROFILE]: "# profile\r\n$env:INVOKEAI_ROOT = 'D:\\old'\r\n", [RUSTUP]: 'MZ' })
    const r = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }] })
    expect(r.hosts[0]!.error).toBeUndefined()
    expect(r.hosts[0]!.resources.map((x) => x.status)).toEqual(['changed', 'changed', 'unchanged'])
    expect(r.ok).toBe(true)
    expect(win.read(PROFILE)).toBe(`# profile\r\n${ROOT_LINE}\r\n`)
    const again = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }] })
    expect(again.summary).toMatchObject({ changed: 0, unchanged: 3 })
  })

  it('a native command that fails is reported, and its creates path is not faked', async () => {
    const broken = new ReplayedWindows({ [INIT]: '--web\n', [PROFILE]: `${ROOT_LINE}\r\n` }, { 'rustup-init.exe': () => 3 })
    const r = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: broken.host, os: 'windows' }] })
    expect(r.ok).toBe(false)
    expect(r.hosts[0]!.resources[2]).toMatchObject({ status: 'failed', error: { code: 'E_COMMAND', message: expect.stringMatching(/rustup-init.exe -y -q exited with 3/) } })
  })

  it('an installer that exits 3010 ends the run for that host as reboot required; what depends on it waits', async () => {
    const win = new ReplayedWindows({}, { 'rustup-init.exe': () => 3010 })
    const needs = defineRecipe({
      name: 'needs-restart',
      resources: () => [
        command({ id: 'rustup', argv: ['rustup-init.exe', '-y', '-q'], creates: '~/.cargo/bin/rustup.exe' }),
        file({ id: 'after', path: '~/after.txt', content: 'x', after: ['rustup'] }),
      ],
    })
    const r = await converge({ recipe: needs, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }] })
    const h = r.hosts[0]!
    expect(h).toMatchObject({ ok: false, status: 'reboot-required', rebootRequired: true, reboots: [], error: { code: 'E_REBOOT_REQUIRED', message: expect.stringMatching(/rustup-init.exe -y -q finished \(exit 3010\) and needs the host to restart; restart it, then run again/) } })
    expect(h.resources.map((x) => [x.id, x.status])).toEqual([['rustup', 'failed'], ['after', 'skipped']])
    expect(win.read('C:\\Users\\ana\\after.txt')).toBeUndefined()
  })

  it('with reboot: the 3010 installer is followed by Restart-Computer -Force, the host is run again from the facts, and what waited runs', async () => {
    let runs = 0
    const win = new ReplayedWindows({}, { 'rustup-init.exe': () => (runs++, 3010) })
    // The installer's work completes at boot.
    win.onRestart = (fs) => fs.write(RUSTUP, Buffer.from('MZ'))
    const needs = defineRecipe({
      name: 'needs-restart',
      resources: () => [
        command({ id: 'rustup', argv: ['rustup-init.exe', '-y', '-q'], creates: '~/.cargo/bin/rustup.exe' }),
        file({ id: 'after', path: '~/after.txt', content: 'x', after: ['rustup'] }),
      ],
    })
    const r = await converge({ recipe: needs, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }], reboot: true })
    const h = r.hosts[0]!
    expect(h.error).toBeUndefined()
    expect(h).toMatchObject({ ok: true, status: 'ok', reboots: [{ fromBootId: '20261126055012', toBootId: '20261126056012' }] })
    expect(win.restarts).toBe(1)
    expect(runs).toBe(1)
    expect(win.host.calls.map((c) => decodePs(c.stdin)).filter((s) => s.startsWith('Restart-Computer -Force'))).toHaveLength(1)
    expect(h.resources.map((x) => [x.id, x.status])).toEqual([['rustup', 'changed'], ['after', 'changed']])
    expect(win.read('C:\\Users\\ana\\after.txt')).toBe('x')
  })

  it('with reboot: a host with a restart pending is restarted first, then changed', async () => {
    const win = windowsHost({ [RUSTUP]: 'MZ' })
    win.rebootPending = true
    const r = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }], reboot: true })
    expect(r.hosts[0]!.error).toBeUndefined()
    expect(r.hosts[0]).toMatchObject({ status: 'ok', reboots: [expect.anything()] })
    expect(win.restarts).toBe(1)
    expect(win.read(INIT)).toBe('--web\n')
  })

  it('a host with a restart pending is planned, but not changed', async () => {
    const win = windowsHost()
    win.rebootPending = true
    const plan = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }], mode: 'plan' })
    expect(plan.hosts[0]!.error).toBeUndefined()
    expect(plan.summary.changed).toBeGreaterThan(0)
    const r = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }] })
    expect(r.hosts[0]).toMatchObject({ ok: false, rebootRequired: true, error: { code: 'E_REBOOT_REQUIRED', message: expect.stringMatching(/Windows has a restart pending .*nothing was changed/) } })
    expect(win.read(INIT)).toBeUndefined()
  })

  it('creates a directory, then the file in it (ordered by path), verified by Sc-Stat', async () => {
    const win = windowsHost()
    const models = defineRecipe({ name: 'models', resources: () => [file({ path: '~/invokeai/models/models.yaml', content: 'a: 1\r\n' }), directory({ path: '~/invokeai/models' })] })
    const r = await converge({ recipe: models, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }] })
    expect(r.hosts[0]!.error).toBeUndefined()
    expect(r.hosts[0]!.resources.map((x) => [x.type, x.status])).toEqual([['file', 'changed'], ['directory', 'changed']])
    expect(r.ok).toBe(true)
    const order = win.host.calls.map((x) => decodePs(x.stdin)).filter((s) => /^\$null = \[IO\.Directory\]|^\$p = /.test(s)).map((s) => s.split('\n')[0])
    expect(order).toEqual(["$null = [IO.Directory]::CreateDirectory('C:\\Users\\ana\\invokeai\\models')", "$p = 'C:\\Users\\ana\\invokeai\\models\\models.yaml'"])
    const again = await converge({ recipe: models, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }] })
    expect(again.summary).toMatchObject({ changed: 0, unchanged: 2 })
  })

  it('refuses POSIX permissions on a Windows host, naming the field', async () => {
    const bad = defineRecipe({ name: 'bad', resources: () => [file({ path: '~/x', content: 'x', mode: '0644' })] })
    const r = await converge({ recipe: bad, hosts: [{ name: 'gaming-pc', transport: windowsHost().host, os: 'windows' }], mode: 'plan' })
    expect(r.hosts[0]!.resources[0]).toMatchObject({ id: 'file:~/x', status: 'failed' })
    // The error names the recipe's own line: the line of the file({ … mode }) call above.
    const line = readFileSync(new URL(import.meta.url), 'utf8').split('\n').findIndex((l) => l.includes("file({ path: '~/x', content: 'x', mode: '0644' })")) + 1
    expect(r.hosts[0]!.resources[0]!.error!.message).toMatch(new RegExp(`^test/unit/engine-windows\\.test\\.ts:${line}:\\d+: file ~/x: mode is a POSIX permission and cannot be set on a Windows host`))
  })

  it("reads the new facts, and the GPU only for a recipe with facts: ['gpu'], still in 3 round trips", async () => {
    const seen: Facts[] = []
    const probeInit = (facts: Facts) => [file({ path: '~/invokeai/invokeai.init', content: '--web\n' }), ...(seen.push(facts) ? [] : [])]
    const plain = defineRecipe({ name: 'plain', resources: ({ facts }) => probeInit(facts) })
    const gpu = defineRecipe({ name: 'gpu', facts: ['gpu'], resources: ({ facts }) => probeInit(facts) })
    for (const recipe of [plain, gpu]) {
      const win = windowsHost({ [INIT]: '--web\n' })
      const r = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: win.host, os: 'windows' }], mode: 'plan' })
      expect(r.hosts[0]!.error).toBeUndefined()
      expect(r.summary).toMatchObject({ changed: 0, unchanged: 1 })
      expect(r.hosts[0]!.roundTrips).toBe(3)
      expect(decodePs(win.host.calls[0]!.stdin).includes('nvidia-smi')).toBe(recipe === gpu)
    }
    const [p, g] = seen
    expect(p).toMatchObject({ osVersion: '10.0.22631.4391', windows: { edition: 'Professional', displayVersion: '23H2' }, memoryBytes: 33479292 * 1024, packageManagers: ['winget'], rebootPending: false })
    expect(versionSatisfies(p!.osVersion, '>=10.0.22000')).toBe(true)
    expect(() => p!.gpu).toThrow(/recipe 'plain' reads facts\.gpu, which it does not declare: add facts: \['gpu'\]/)
    expect(g!.gpu).toEqual({ vendor: 'nvidia', devices: [{ name: 'NVIDIA GeForce RTX 2070', memoryBytes: 8192 * 2 ** 20 }], driver: '566.36', cuda: '12.7' })
  })
})
