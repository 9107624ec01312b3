import { describe, expect, it } from 'vitest'
import { parseFacts } from '../../lib/facts/gather.ts'
import { hex } from '../helpers/facts.ts'

// Shaped like what the facts script prints on each kind of host.
const out = (o: Record<string, string>): string => Object.entries(o).map(([k, v]) => `${k}=${v}`).join('\n')

describe('facts', () => {
  it('reads a Debian box', () => {
    const f = parseFacts(out({ kernel: 'Linux', machine: 'x86_64', arm64: '', user: 'root', uid: '0', home: hex('/root'), hostname: 'gpu-1', bootid: '5f0c-1' }), 'gpu-1')
    expect(f).toMatchObject({ os: 'linux', arch: 'x64', appleSilicon: false, user: 'root', uid: 0, home: '/root', bootId: '5f0c-1' })
  })

  it('sees Apple Silicon even under Rosetta, where uname -m says x86_64', () => {
    const f = parseFacts(out({ kernel: 'Darwin', machine: 'x86_64', arm64: '1', user: 'ana', uid: '501', home: hex('/Users/ana'), hostname: 'studio-mac', bootid: 'A1B2' }), 'studio-mac')
    expect(f).toMatchObject({ os: 'darwin', arch: 'arm64', appleSilicon: true })
  })

  it('reads an Intel Mac, where hw.optional.arm64 is 0', () => {
    expect(parseFacts(out({ kernel: 'Darwin', machine: 'x86_64', arm64: '0', home: hex('/Users/b') }), 'm')).toMatchObject({ arch: 'x64', appleSilicon: false })
  })

  it('decodes a home with spaces and non-ASCII', () => {
    expect(parseFacts(out({ kernel: 'Linux', machine: 'aarch64', home: hex('/home/zoë dev') }), 'p').home).toBe('/home/zoë dev')
  })

  it('names the host when the OS is unknown', () => {
    expect(() => parseFacts(out({ kernel: 'SunOS' }), 'old-box')).toThrow(/host old-box: could not identify the operating system \(uname -s printed "SunOS"\)/)
  })
})
