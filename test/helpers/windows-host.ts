import { createHash } from 'node:crypto'
import { TransportError } from '../../lib/core/errors.ts'
import type { ExecResult } from '../../lib/transport/types.ts'
import { PS_COMMAND, PS_PRELUDE } from '../../lib/shell/powershell/quote.ts'
import { FakeHost, ok } from './fake-host.ts'
import { hex, psHex } from './facts.ts'

/**
 * A replayed Windows 11 host (OpenSSH Server, default shell cmd.exe, Windows PowerShell 5.1) that
 * keeps a simulated file system. It answers each batched probe section from that state, in the
 * shapes the PowerShell helpers print (CRLF lines, upper-case hex from [BitConverter]), and lets
 * the apply scripts change it: the atomic write (target and base64 bytes read from the script)
 * CreateDirectory, and native programs the test provides. Anything it does not recognise fails loudly, so a test
 * cannot pass on a script nobody simulated.
 */

const CMD_NO_SH: ExecResult = { code: 1, signal: null, stdout: '', stderr: "'sh' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n" }
/**
 * The facts script's output on that host (Windows 11 Pro 23H2, build 22631.4391, 32 GiB, winget
 * on PATH, an RTX 2070 when the recipe declared the GPU): what PowerShell 5.1 prints for the
 * registry values (DWORDs as decimal) and the CIM memory (KB). Keys the script did not ask for are
 * not answered, so a recipe that forgot `facts: ['gpu']` sees no GPU output.
 */
const WIN_BASE = ['kernel=Windows_NT', 'machine=AMD64', 'user=ana', `home=${hex('C:\\Users\\ana')}`, 'hostname=GAMING-PC', 'bootid=20261126055012', 'psversion=5.1.22621.4391',
  'memkb=33479292', 'winmajor=10', 'winminor=0', 'winbuild=22631', 'winubr=4391', `winedition=${psHex('Professional')}`, `windisplay=${psHex('23H2')}`, 'reboot=0', 'pkgmgrs=winget']
const WIN_GPU = ['gpu=1', `gpuquery=${psHex('NVIDIA GeForce RTX 2070, 566.36, 8192')}`,
  `gpuversion=${psHex('NVIDIA-SMI version  : 566.36\nNVML version        : 566.36\nDRIVER version      : 566.36\nCUDA Version        : 12.7')}`]
const winFacts = (script: string, reboot: boolean, bootId: string): string =>
  [
    ...WIN_BASE.map((l) => (l === 'reboot=0' && reboot ? 'reboot=1' : l.startsWith('bootid=') ? `bootid=${bootId}` : l)),
    ...(script.includes("'gpu=1'") ? WIN_GPU : []),
    'lock=acquired',
    `lockinfo=${hex(`statecraft-lock-v1|t|c|1|x|${bootId}`)}`,
  ].join('\r\n') + '\r\n'

/** A single-quoted PowerShell literal, captured; `unq` undoes the doubling. */
const Q = "'((?:[^'\u2018\u2019\u201a\u201b]|['\u2018\u2019\u201a\u201b]{2})*)'"
const unq = (s: string): string => s.replace(/(['\u2018\u2019\u201a\u201b])\1/g, '$1')

/** Probe snippets this host does not simulate (they would need git, curl or a guard command). */
const UNSIMULATED: [RegExp, string][] = [
  [/Get-Command git/, 'the git probe'],
  [/curl\.exe/, 'the download probe'],
  [/\$sc_loc = Get-Location/, 'an unless guard'],
  [/Sc-KvHex 'target'/, 'the symlink target probe'],
]

/**
 * A native program: what it does to the file system, and its exit code — or, for a step whose
 * script prints more than the program (winget's, with its fallback route), the whole result.
 */
export type Program = (fs: ReplayedWindows, args: string[]) => number | ExecResult

/** Where this host's winget is: the App Execution Alias on the user's PATH. */
export const WINGET_PATH = 'C:\\Users\\ana\\AppData\\Local\\Microsoft\\WindowsApps\\winget.exe'

/** winget draws a spinner with carriage returns before what it prints. */
const SPIN = '\r   - \r   \\ \r   | \r   / \r'

export class ReplayedWindows {
  readonly host: FakeHost
  private readonly files = new Map<string, Buffer>()
  private readonly dirs = new Set<string>()
  private readonly programs: Record<string, Program>
  /** The registry markers say a restart is pending (the facts print reboot=1). */
  rebootPending = false
  /** What winget lists as installed (id -> version) and offers (id -> versions, newest first), and where the probe finds it. */
  readonly winget = { installed: new Map<string, string>(), offered: new Map<string, string[]>(), path: WINGET_PATH }
  /** LastBootUpTime as the facts print it; a restart (Restart-Computer) moves it on. */
  bootId = '20261126055012'
  restarts = 0
  /** What a restart completes (an installer that exited 3010 finishes its work at boot). */
  onRestart: ((fs: ReplayedWindows) => void) | undefined

  constructor(files: Record<string, string> = {}, programs: Record<string, Program> = {}) {
    this.programs = programs
    for (const [p, c] of Object.entries(files)) this.write(p, Buffer.from(c, 'utf8'))
    this.host = new FakeHost((command, stdin) => this.answer(command, stdin))
  }

  /** NTFS is case-insensitive. */
  private key = (p: string): string => p.toLowerCase()

  write(path: string, bytes: Buffer): void {
    this.files.set(this.key(path), bytes)
    for (let d = parent(path); d; d = parent(d)) this.dirs.add(this.key(d))
  }

  read(path: string): string | undefined {
    return this.files.get(this.key(path))?.toString('utf8')
  }

  private stat(path: string): string[] {
    const f = this.files.get(this.key(path))
    if (f) return ['kind=file', `size=${f.length}`]
    return this.dirs.has(this.key(path)) ? ['kind=directory'] : ['kind=absent']
  }

  /** pkg's winget probe: `winget list` / `winget show` per id, as winget prints them, hex as Sc-KvHex prints it. */
  private wingetSection(snippet: string): string[] {
    const h = (s: string): string => Buffer.from(s, 'utf8').toString('hex').toUpperCase()
    const out = ['manager=winget', `wingetpath=${h(this.winget.path)}`]
    const ids = [...snippet.matchAll(new RegExp(`list --exact --id ${Q}`, 'g'))].map((m) => unq(m[1] as string))
    ids.forEach((id, i) => {
      const v = this.winget.installed.get(id)
      const name = id.split('.').pop() as string
      out.push(`installed_${i}=${h(v === undefined ? `${SPIN}No installed package found matching input criteria.\r\n` : `${SPIN}Name Id      Version  Available Source\r\n--------------------------------------\r\n${name}  ${id} ${v}            winget\r\n`)}`)
      if (v === undefined && snippet.includes('show --exact --id')) {
        out.push(`available_${i}=${h(`${SPIN}Found ${name} [${id}]\r\nVersion\r\n-------\r\n${(this.winget.offered.get(id) ?? []).map((x) => `${x}\r\n`).join('')}`)}`)
      }
    })
    return out
  }

  /** One probe section: the statements it recognises, in the order they appear. */
  private section(snippet: string): string[] {
    for (const [re, what] of UNSIMULATED) if (re.test(snippet)) throw new Error(`replayed Windows host: ${what} is not simulated here`)
    if (snippet.includes("'manager=winget'")) return this.wingetSection(snippet)
    const found: { at: number; out: () => string[] }[] = []
    for (const m of snippet.matchAll(new RegExp(`Sc-Stat ${Q}`, 'g'))) found.push({ at: m.index, out: () => this.stat(unq(m[1] as string)) })
    for (const m of snippet.matchAll(new RegExp(`\\[IO\\.File\\]::ReadAllBytes\\(${Q}\\)`, 'g'))) {
      const limit = Number(/-le (\d+)/.exec(snippet)?.[1])
      found.push({
        at: m.index,
        out: () => {
          const f = this.files.get(this.key(unq(m[1] as string)))
          if (!f) return []
          if (f.length <= limit) return [`content=${f.toString('hex').toUpperCase()}`]
          return snippet.includes("'toolarge=1'") ? ['toolarge=1'] : [`sha256=${createHash('sha256').update(f).digest('hex')}`]
        },
      })
    }
    for (const m of snippet.matchAll(new RegExp(`if \\(Test-Path -LiteralPath ${Q}\\) \\{ 'creates=1' \\} else \\{ 'creates=0' \\}`, 'g'))) {
      found.push({ at: m.index, out: () => [`creates=${this.stat(unq(m[1] as string))[0] === 'kind=absent' ? 0 : 1}`] })
    }
    if (found.length === 0) throw new Error(`replayed Windows host: unrecognised probe snippet ${JSON.stringify(snippet.slice(0, 200))}`)
    return found.sort((a, b) => a.at - b.at).flatMap((f) => f.out())
  }

  private batch(script: string, nonce: string): string {
    const marker = (tag: string): string => `'@@statecraft:${nonce}:${tag}'`
    const out: string[] = []
    for (let i = 0; script.includes(marker(String(i))); i++) {
      const from = script.indexOf(marker(String(i))) + marker(String(i)).length
      const next = script.includes(marker(String(i + 1))) ? marker(String(i + 1)) : marker('end')
      const body = script.slice(from, script.indexOf(next, from))
      out.push(`@@statecraft:${nonce}:${i}`, ...this.section(body))
    }
    out.push(`@@statecraft:${nonce}:end`)
    return `${out.join('\r\n')}\r\n`
  }

  private run(script: string): ExecResult | undefined {
    const write = new RegExp(`^\\$p = ${Q}\\n`).exec(script)
    const bytes = /\[Convert\]::FromBase64String\('([A-Za-z0-9+/=]*)'\)/.exec(script)
    if (write && bytes) {
      this.write(unq(write[1] as string), Buffer.from(bytes[1] as string, 'base64'))
      return ok('')
    }
    const mkdir = new RegExp(`^\\$null = \\[IO\\.Directory\\]::CreateDirectory\\(${Q}\\)$`).exec(script)
    if (mkdir) {
      const p = unq(mkdir[1] as string)
      if (this.files.has(this.key(p))) return { code: 1, signal: null, stdout: '', stderr: `Exception calling "CreateDirectory" with "1" argument(s): "Cannot create '${p}' because a file or directory with the same name already exists."\r\n` }
      for (let d: string | undefined = p; d; d = parent(d)) this.dirs.add(this.key(d))
      return ok('')
    }
    const native = new RegExp(`^& ${Q}((?: ${Q})*)\\nexit \\$LASTEXITCODE$`, 'm').exec(script)
    if (native) {
      const name = unq(native[1] as string)
      const args = [...(native[2] ?? '').matchAll(new RegExp(Q, 'g'))].map((a) => unq(a[1] as string))
      const program = this.programs[name]
      if (!program) return { code: 1, signal: null, stdout: '', stderr: `& : The term '${name}' is not recognized as the name of a cmdlet, function, script file, or operable program.\r\n` }
      const r = program(this, args)
      return typeof r === 'number' ? { code: r, signal: null, stdout: '', stderr: '' } : r
    }
    // pkg's winget step (its first call, then its scheduled-task fallback): the program answers for the whole script.
    const wg = new RegExp(`^\\$ErrorActionPreference = 'Continue'\\n\\$sc_out = & ${Q}((?: ${Q})*) 2>&1`).exec(script)
    if (wg) {
      const name = unq(wg[1] as string)
      const args = [...(wg[2] ?? '').matchAll(new RegExp(Q, 'g'))].map((a) => unq(a[1] as string))
      const program = this.programs[name]
      if (!program) throw new Error(`replayed Windows host: no program for ${name}`)
      const r = program(this, args)
      return typeof r === 'number' ? { code: r, signal: null, stdout: r === 0 ? 'statecraft-route=winget\r\n' : '', stderr: '' } : r
    }
    return undefined
  }

  /** The connection drops as Windows goes down; it is back, with a new boot time, on the next exec. */
  private restart(): never {
    this.restarts++
    this.bootId = String(Number(this.bootId) + 1000)
    this.rebootPending = false
    this.onRestart?.(this)
    throw new TransportError('host gaming-pc: the connection dropped while a command was running')
  }

  private answer(command: string, stdin: string): ExecResult | undefined {
    if (command === 'sh -s') return CMD_NO_SH
    if (command !== PS_COMMAND) return undefined
    const script = decodePs(stdin)
    if (script.includes("'kernel=Windows_NT'")) return ok(winFacts(script, this.rebootPending, this.bootId))
    if (script.startsWith('Restart-Computer -Force\n')) return this.restart()
    if (script.includes('"bootid=$sc_bootid"')) return ok(`bootid=${this.bootId}\r\n`)
    // A step asked for a restart: the mark beside the lock (the replayed lock keeps no state).
    if (script.includes("[IO.File]::WriteAllText($sc_lock + '.reboot', ")) return ok('')
    // Marking the lock for a restart: the replayed lock is always this run's.
    if (script.includes('Remove-Item -LiteralPath $sc_lock') && script.includes('[IO.FileMode]::CreateNew')) return ok('lock=acquired\r\n')
    const nonce = /'@@statecraft:([0-9a-f]+):0'/.exec(script)?.[1]
    if (nonce) return ok(this.batch(script, nonce))
    if (script.includes('Remove-Item -LiteralPath $sc_lock')) return ok('')
    return this.run(script)
  }
}

function parent(p: string): string | undefined {
  const i = p.lastIndexOf('\\')
  return i > 2 ? p.slice(0, i) : undefined
}

/** The script inside the one-line bootstrap the PowerShell dialect sends, without the prelude. */
export function decodePs(stdin: string): string {
  const text = Buffer.from(/FromBase64String\('([^']+)'\)/.exec(stdin)?.[1] ?? '', 'base64').toString('utf8')
  return text.startsWith(`${PS_PRELUDE}\n`) ? text.slice(PS_PRELUDE.length + 1) : text
}
