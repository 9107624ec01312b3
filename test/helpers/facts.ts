import type { Facts } from '../../lib/core/types.ts'

export const linuxFacts: Facts = {
  os: 'linux', arch: 'x64', appleSilicon: false, kernel: 'Linux', user: 'ana', uid: 1000,
  home: '/home/ana', hostname: 'gpu-1', dialect: 'posix', bootId: 'b1',
  osVersion: '12', distro: { id: 'debian', version: '12', like: [] }, packageManagers: ['apt', 'dpkg'],
  memoryBytes: 32 * 2 ** 30, rebootPending: false,
}

export const macFacts: Facts = {
  os: 'darwin', arch: 'arm64', appleSilicon: true, kernel: 'Darwin', user: 'ana', uid: 501,
  home: '/Users/ana', hostname: 'studio-mac', dialect: 'posix', bootId: 'mac-boot',
  osVersion: '14.2.1', packageManagers: ['brew'], memoryBytes: 32 * 2 ** 30, cpu: 'Apple M1 Pro', rebootPending: false,
}

/** Windows 11 over OpenSSH, as the PowerShell facts script reports it (no uid on Windows). */
export const windowsFacts: Facts = {
  os: 'windows', arch: 'x64', appleSilicon: false, kernel: 'Windows_NT', user: 'ana', uid: null,
  home: 'C:\\Users\\ana', hostname: 'GAMING-PC', dialect: 'powershell', bootId: '20261126055012',
  osVersion: '10.0.22631.4391', windows: { edition: 'Professional', displayVersion: '23H2' }, packageManagers: ['winget'],
  memoryBytes: 34_282_795_008, rebootPending: false,
}

export const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex')

/** Hex as the PowerShell helpers print it: [BitConverter]::ToString without dashes, upper case. */
export const psHex = (s: string): string => hex(s).toUpperCase()

/** What a case states a probe printed: a value per printed key, `undefined` for a key it did not print. */
export type Printed = Record<string, string | undefined>

/**
 * Probe output as a fixture states it, strict about what it does not state.
 *
 * The rule: a case lists every key the probe printed (with its value) and every key the parser
 * may look for that the probe did NOT print (as `undefined`; `none('a', 'b')` spreads several).
 * Then, for the parser:
 * - `get(k)` of a printed key is its value; of a declared-unprinted key, `undefined`;
 * - `has(k)` of a printed key is true; of a declared-unprinted key, false (parsers legitimately
 *   test optional keys such as `content`, `sha256`, `target` this way);
 * - `get` or `has` of any other key throws, naming the case and the key.
 * So a case can no longer pass because a key it forgot silently read as "absent": `kind: 'absent'`
 * must be printed, and `content: undefined` must be said.
 */
export class StrictProbe extends Map<string, string> {
  readonly label: string
  readonly printed: Printed
  private readonly unprinted: ReadonlySet<string>
  constructor(printed: Printed, label = 'probe fixture') {
    super(Object.entries(printed).filter((e): e is [string, string] => e[1] !== undefined))
    this.printed = printed
    this.label = label
    this.unprinted = new Set(Object.keys(printed).filter((k) => printed[k] === undefined))
  }
  override get(key: string): string | undefined {
    if (super.has(key)) return super.get(key)
    if (this.unprinted.has(key)) return undefined
    throw this.unstated(key)
  }
  override has(key: string): boolean {
    if (super.has(key)) return true
    if (this.unprinted.has(key)) return false
    throw this.unstated(key)
  }
  /** The same output, named after the case that states it. */
  named(label: string): StrictProbe {
    return new StrictProbe(this.printed, label)
  }
  private unstated(key: string): Error {
    return new Error(
      `${this.label}: the parser read probe key "${key}", which the case neither printed nor declared unprinted; ` +
        `add ${key}: '…' if the probe prints it in this state, or ${key}: undefined if it does not`,
    )
  }
}

/** Probe output as the shell snippet prints it (see StrictProbe for what must be stated). */
export function probe(lines: Printed): StrictProbe {
  return new StrictProbe(lines)
}

/** Keys the probe did not print, to spread into `probe({...})`. */
export function none(...keys: string[]): Printed {
  return Object.fromEntries(keys.map((k) => [k, undefined]))
}
