import { describe, expect, it } from 'vitest'
import { command, converge, defineRecipe, file, line } from '../../lib/index.ts'
import { PS_COMMAND } from '../../lib/shell/powershell/quote.ts'
import { FakeHost, ok } from '../helpers/fake-host.ts'
import { hex } from '../helpers/facts.ts'

/** Decodes the script inside the one-line bootstrap the PowerShell dialect sends. */
const script = (stdin: string): string => Buffer.from(/FromBase64String\('([^']+)'\)/.exec(stdin)?.[1] ?? '', 'base64').toString('utf8')

// Shaped like Windows 11 with OpenSSH Server, default shell cmd.exe, Windows PowerShell 5.1.
const CMD_NO_SH = { code: 1, signal: null, stdout: '', stderr: "'sh' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n" }
const WIN_FACTS = ['kernel=Windows_NT', 'machine=AMD64', 'user=ana', `home=${hex('C:\\Users\\ana')}`, 'hostname=GAMING-PC', 'bootid=20261126055012', 'psversion=5.1.22621.4391', 'lock=acquired', `lockinfo=${hex('statecraft-lock-v1|t|c|1|x|20261126055012')}`].join('\r\n') + '\r\n'

function windowsHost(state: { profile?: string; stamp: boolean }): FakeHost {
  return new FakeHost((command, stdin) => {
    if (command === 'sh -s') return CMD_NO_SH
    if (command !== PS_COMMAND) return undefined
    const s = script(stdin)
    if (s.includes("'kernel=Windows_NT'")) return ok(WIN_FACTS)
    const nonce = /'@@statecraft:([0-9a-f]+):0'/.exec(s)?.[1]
    if (nonce) {
      const sections = [
        'kind=absent',
        state.profile === undefined ? 'kind=absent' : `kind=file\r\nsize=${state.profile.length}\r\ncontent=${hex(state.profile).toUpperCase()}`,
        `creates=${state.stamp ? 1 : 0}`,
      ]
      return ok(`${sections.map((b, i) => `@@statecraft:${nonce}:${i}\r\n${b}\r\n`).join('')}@@statecraft:${nonce}:end\r\n`)
    }
    if (s.includes('Remove-Item -LiteralPath $sc_lock')) return ok('')
    return ok('') // apply steps
  })
}

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
    const host = windowsHost({ profile: "# profile\r\n$env:INVOKEAI_ROOT = 'D:\\old'\r\n", stamp: false })
    const r = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: host }], mode: 'plan', diff: true })
    expect(r.hosts[0]!.error).toBeUndefined()
    const [f, l, c] = r.hosts[0]!.resources
    expect(f!.changes).toEqual(['create file C:\\Users\\ana\\invokeai\\invokeai.init (6 bytes)'])
    expect(l!.changes).toEqual([`replace line 2 of C:\\Users\\ana\\profile.ps1: "$env:INVOKEAI_ROOT = 'D:\\\\old'" with "$env:INVOKEAI_ROOT = 'C:\\\\Users\\\\ana\\\\invokeai'"`])
    expect(l!.diffs![0]!.after).toBe("# profile\r\n$env:INVOKEAI_ROOT = 'C:\\Users\\ana\\invokeai'\r\n")
    expect(c!.changes).toEqual(['run rustup-init.exe -y -q (C:\\Users\\ana\\.cargo\\bin\\rustup.exe is missing)'])
    // sh attempt, PowerShell facts+lock, probe, unlock
    expect(host.calls.map((x) => x.command)).toEqual(['sh -s', PS_COMMAND, PS_COMMAND, PS_COMMAND])
  })

  it('with the os: windows hint, a no-op costs 3 round trips', async () => {
    const host = windowsHost({ profile: "$env:INVOKEAI_ROOT = 'C:\\Users\\ana\\invokeai'\r\n", stamp: true })
    const hostsWithFile = new FakeHost((command, stdin) => {
      const s = script(stdin)
      const nonce = /'@@statecraft:([0-9a-f]+):0'/.exec(s)?.[1]
      if (nonce) return ok(`@@statecraft:${nonce}:0\r\nkind=file\r\nsize=6\r\ncontent=${hex('--web\n')}\r\n@@statecraft:${nonce}:1\r\nkind=file\r\ncontent=${hex("$env:INVOKEAI_ROOT = 'C:\\Users\\ana\\invokeai'\r\n")}\r\n@@statecraft:${nonce}:2\r\ncreates=1\r\n@@statecraft:${nonce}:end\r\n`)
      return host.exec(command, { stdin })
    })
    const r = await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: hostsWithFile, os: 'windows' }], mode: 'plan' })
    expect(r.summary).toMatchObject({ changed: 0, unchanged: 3 })
    expect(r.hosts[0]!.roundTrips).toBe(3)
  })

  it('applies with PowerShell scripts: atomic write with the bytes inside, native argv for commands', async () => {
    const host = windowsHost({ stamp: false })
    await converge({ recipe, hosts: [{ name: 'gaming-pc', transport: host, os: 'windows' }] })
    const scripts = host.calls.map((x) => script(x.stdin))
    const write = scripts.find((s) => s.includes("$p = 'C:\\Users\\ana\\invokeai\\invokeai.init'"))
    expect(write).toContain(`FromBase64String('${Buffer.from('--web\n').toString('base64')}')`)
    expect(write).toContain('[IO.File]::Replace($t, $p, [NullString]::Value)')
    expect(scripts.some((s) => s.includes("& 'rustup-init.exe' '-y' '-q'\nexit $LASTEXITCODE"))).toBe(true)
  })

  it('refuses POSIX permissions on a Windows host, naming the field', async () => {
    const bad = defineRecipe({ name: 'bad', resources: () => [file({ path: '~/x', content: 'x', mode: '0644' })] })
    const r = await converge({ recipe: bad, hosts: [{ name: 'gaming-pc', transport: windowsHost({ stamp: true }), os: 'windows' }], mode: 'plan' })
    expect(r.hosts[0]!.error!.message).toMatch(/file ~\/x: mode is a POSIX permission and cannot be set on a Windows host/)
  })
})
