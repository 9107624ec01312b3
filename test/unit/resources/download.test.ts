import { describe, expect, it } from 'vitest'
import { downloadType } from '../../../lib/resources/download/download.ts'
import { parseHead } from '../../../lib/resources/download/http-head.ts'
import { hex, linuxFacts, none, probe, psHex, windowsFacts } from '../../helpers/facts.ts'
import { runCase, type Case } from '../../helpers/table.ts'
import type { DownloadOptions } from '../../../lib/resources/download/download.ts'

// Shaped like `curl -sS -I -L` against huggingface.co for an LFS file (302 to the CDN, then 200).
const HUB_HEAD = [
  'HTTP/2 302', 'content-type: text/plain; charset=utf-8', 'x-linked-size: 7703807346',
  'x-linked-etag: "14749efc0ae8ef0329391ad4436feb781b402f4fece4883c7ad8d10556d8a36a"', 'location: https://cdn-lfs.hf.co/repos/x', '',
  'HTTP/2 200', 'content-length: 7703807346', 'accept-ranges: bytes', 'etag: "abc"', '',
].join('\r\n')

const url = 'https://huggingface.co/CompVis/stable-diffusion-v-1-4-original/resolve/main/sd-v1-4-full-ema.ckpt'
const d = downloadType.validate({ url, dest: '/srv/models/model.ckpt', token: 'hf_x' }, linuxFacts)

const SHA = '14749efc0ae8ef0329391ad4436feb781b402f4fece4883c7ad8d10556d8a36a'
/** PowerShell reads curl.exe's output line by line: the CRs are gone, lines are joined with LF. */
const WIN_HEAD = HUB_HEAD.replaceAll('\r\n', '\n')
const WD = 'C:\\Users\\ana\\InvokeAI\\models\\model.ckpt'
const winDesired: DownloadOptions = { url, dest: '~/InvokeAI/models/model.ckpt', token: 'hf_x' }
/** What the probe prints once the stamp did not match (the Windows and POSIX probes print the same keys). */
const MISMATCH = { stampmatch: '0', stampok: '0' }

const cases: Case<DownloadOptions>[] = [
  { name: 'stamp matches: no-op, nothing hashed, no network', facts: linuxFacts, desired: { url, dest: '/srv/models/model.ckpt' }, current: probe({ exists: '1', stampmatch: '1', stampok: '1', ...none('hash', 'unreadable', 'partsize', 'partsrc', 'curl', 'head', 'avail') }), changes: [] },
  {
    name: 'resumes the .part of the same source',
    facts: linuxFacts,
    desired: { url, dest: '/srv/models/model.ckpt', token: 'hf_x' },
    current: probe({ ...MISMATCH, partsize: '1000000000', partsrc: hex(SHA), head: hex(HUB_HEAD), avail: '50000000', ...none('exists', 'hash', 'unreadable', 'curl') }),
    changes: [`download ${url} to /srv/models/model.ckpt (7.70 GB), sha256 announced by the hub (X-Linked-Etag), resuming after 1.00 GB`],
    steps: [['sh', '-c', expect.any(String), 'statecraft-download', '/srv/models/model.ckpt', SHA, '7703807346', '', expect.stringMatching(/^\/home\/ana\/\.statecraft\/stamps\/[0-9a-f]{40}$/), SHA, expect.stringMatching(/^[0-9a-f]{40}$/), '1'] as string[]],
  },
  {
    name: 'gated model: planned, then refused with the licence page',
    facts: linuxFacts,
    desired: { url, dest: '/srv/models/model.ckpt' },
    current: probe({ ...MISMATCH, head: hex('HTTP/2 403\r\nx-error-code: GatedRepo\r\n'), avail: '90000000', ...none('exists', 'hash', 'unreadable', 'partsize', 'partsrc', 'curl') }),
    changes: [`download ${url} to /srv/models/model.ckpt, no checksum: size only`],
    applyError: /is gated: accept the licence at https:\/\/huggingface.co\/CompVis\/stable-diffusion-v-1-4-original/,
  },
  // Windows: hex is upper case, the sha256 from Get-FileHash is lowered, avail is KiB from PSDrive.Free.
  { name: 'Windows: stamp matches: no-op', facts: windowsFacts, desired: winDesired, current: probe({ exists: '1', stampmatch: '1', stampok: '1', ...none('hash', 'unreadable', 'partsize', 'partsrc', 'curl', 'head', 'avail') }), changes: [] },
  {
    name: 'Windows: absent: curl.exe in a PowerShell script, checked, then moved into place',
    facts: windowsFacts,
    desired: winDesired,
    current: probe({ ...MISMATCH, head: psHex(WIN_HEAD), avail: '90000000', ...none('exists', 'hash', 'unreadable', 'partsize', 'partsrc', 'curl') }),
    changes: [`download ${url} to ${WD} (7.70 GB), sha256 announced by the hub (X-Linked-Etag)`],
    steps: [
      (s: string) => {
        expect(s).toContain(`$D = '${WD}'`)
        expect(s).toMatch(/\$S = 'C:\\Users\\ana\\\.statecraft\\stamps\\[0-9a-f]{40}'/)
        expect(s).toContain(`$src = '${SHA}'`)
        expect(s).toContain('header = "Authorization: Bearer hf_x"')
        expect(s).toContain("$code = $cfg | curl.exe -sS -f -L --max-redirs 10 --connect-timeout 20 -C '-' -o $P -w '%{http_code}' --config '-'")
        expect(s).toContain('if ($got -ne 7703807346)')
        expect(s).toContain(`if ($h -ne '${SHA}')`)
      },
    ],
  },
  {
    name: 'Windows: right content without a stamp: only the stamp is written',
    facts: windowsFacts,
    desired: { ...winDesired, sha256: SHA },
    current: probe({ exists: '1', ...MISMATCH, hash: SHA, head: psHex(WIN_HEAD), avail: '90000000', ...none('unreadable', 'partsize', 'partsrc', 'curl') }),
    changes: [`record the verified stamp of ${WD} (content checked, sha256 14749efc0ae8…)`],
    steps: [/\n\[IO\.File\]::WriteAllText\('C:\\Users\\ana\\\.statecraft\\stamps\\[0-9a-f]{40}', "\$\(Sc-St 'C:\\Users\\ana\\InvokeAI\\models\\model\.ckpt'\) 14749efc0ae8ef0329391ad4436feb781b402f4fece4883c7ad8d10556d8a36a [0-9a-f]{40}"\)$/],
  },
  {
    name: 'Windows: no curl.exe: planned, then refused',
    facts: windowsFacts,
    desired: winDesired,
    current: probe({ ...MISMATCH, curl: 'missing', avail: '90000000', ...none('exists', 'hash', 'unreadable', 'partsize', 'partsrc', 'head') }),
    changes: [`download ${url} to ${WD}, no checksum: size only`],
    applyError: /download C:\\Users\\ana\\InvokeAI\\models\\model\.ckpt: curl is not installed on the host/,
  },
  { name: 'Windows: the controller route is refused', facts: windowsFacts, desired: { ...winDesired, via: 'controller' }, error: /via the controller route is not available for Windows hosts yet/ },
]

describe('download table', () => {
  for (const c of cases) it(c.name, () => runCase(downloadType, c))
})

describe('download (probe output in, plan out)', () => {
  it('reads the hub headers: size, sha256, status', () => {
    expect(parseHead(HUB_HEAD)).toMatchObject({ status: 200, linkedSize: 7703807346, linkedEtag: '14749efc0ae8ef0329391ad4436feb781b402f4fece4883c7ad8d10556d8a36a', sourceId: '14749efc0ae8ef0329391ad4436feb781b402f4fece4883c7ad8d10556d8a36a' })
    expect(parseHead('HTTP/2 403\r\nx-error-code: GatedRepo\r\nx-error-message: Access to model CompVis/x is restricted\r\n')).toMatchObject({ status: 403, errorCode: 'GatedRepo' })
  })

  it('a matching stamp is a no-op without any network or hashing', () => {
    const c = downloadType.parse(probe({ exists: '1', stampmatch: '1', stampok: '1', ...none('hash', 'unreadable', 'partsize', 'partsrc', 'curl', 'head', 'avail') }), d)
    expect(downloadType.diff(d, c)).toEqual([])
  })

  it('plans a resume with the announced hash and size', () => {
    const c = downloadType.parse(probe({ stampmatch: '0', stampok: '0', partsize: '1000000000', partsrc: hex('14749efc0ae8ef0329391ad4436feb781b402f4fece4883c7ad8d10556d8a36a'), head: hex(HUB_HEAD), avail: '50000000', ...none('exists', 'hash', 'unreadable', 'curl') }), d)
    expect(downloadType.diff(d, c).map((x) => x.text)).toEqual([`download ${url} to /srv/models/model.ckpt (7.70 GB), sha256 announced by the hub (X-Linked-Etag), resuming after 1.00 GB`])
  })

  it('fails early with the numbers when the disk is too small (counting the .part)', () => {
    const c = downloadType.parse(probe({ stampmatch: '0', stampok: '0', partsize: '1000000000', partsrc: hex('x'), head: hex(HUB_HEAD), avail: '1000000', ...none('exists', 'hash', 'unreadable', 'curl') }), d)
    expect(() => downloadType.apply(d, c, downloadType.diff(d, c), linuxFacts)).toThrow(/needs 6.70 GB more but only 1.02 GB is free there/)
  })

  it('names the fix for a host without curl, or takes the controller route when allowed', () => {
    const c = downloadType.parse(probe({ stampmatch: '0', stampok: '0', curl: 'missing', avail: '90000000', ...none('exists', 'hash', 'unreadable', 'partsize', 'partsrc', 'head') }), d)
    expect(() => downloadType.apply(d, c, downloadType.diff(d, c), linuxFacts)).toThrow(/curl is not installed on the host; install it \(Debian: apt-get install curl\), or set via: 'auto' or 'controller'/)
    const auto = downloadType.validate({ url, dest: '/srv/m.ckpt', token: 'hf_x', via: 'auto' }, linuxFacts)
    const ca = downloadType.parse(probe({ stampmatch: '0', stampok: '0', curl: 'missing', avail: '90000000', ...none('exists', 'hash', 'unreadable', 'partsize', 'partsrc', 'head') }), auto)
    const changes = downloadType.diff(auto, ca)
    expect(changes[0]!.text).toMatch(/into the controller's cache \(once for all hosts\) and push it to \/srv\/m.ckpt/)
    expect(downloadType.apply(auto, ca, changes, linuxFacts)[0]!.label).toBe(`push ${url} -> /srv/m.ckpt (via the controller)`)
  })

  it('sends the token on stdin only, never in argv', () => {
    const c = downloadType.parse(probe({ stampmatch: '0', stampok: '0', head: hex(HUB_HEAD), avail: '90000000', ...none('exists', 'hash', 'unreadable', 'partsize', 'partsrc', 'curl') }), d)
    const [step] = downloadType.apply(d, c, downloadType.diff(d, c), linuxFacts)
    expect(step!.argv.join(' ')).not.toContain('hf_x')
    expect(String(step!.stdin)).toContain('header = "Authorization: Bearer hf_x"')
  })

  it.each([
    [{ url: 'ftp://x/y', dest: '/a' }, /url must be an http\(s\) URL/],
    [{ url, dest: '/a', sha256: 'abc' }, /sha256 must be 64 hex digits/],
    [{ url, dest: '/a', token: 'two words' }, /token must be a single word/],
    [{ url, dest: '/a', headers: { 'X-A': 'a\nb' } }, /headers.X-A must be a header name with a single-line string value/],
  ])('refuses bad input %#', (input, err) => {
    expect(() => downloadType.validate(input as never, linuxFacts)).toThrow(err)
  })

  it('on Windows: curl.exe inside a PowerShell script on stdin, the stamp under the user profile', () => {
    const win = { ...linuxFacts, os: 'windows' as const, dialect: 'powershell' as const, home: 'C:\\Users\\ana' }
    const dw = downloadType.validate({ url, dest: '~/InvokeAI/models/model.ckpt', token: 'hf_x' }, win)
    expect(dw.dest).toBe('C:\\Users\\ana\\InvokeAI\\models\\model.ckpt')
    const probeScript = downloadType.probe(dw, win)
    expect(probeScript).toMatch(/\$S = 'C:\\Users\\ana\\\.statecraft\\stamps\\[0-9a-f]{40}'/)
    const c = downloadType.parse(probe({ stampmatch: '0', stampok: '0', head: hex(HUB_HEAD), avail: '90000000', ...none('exists', 'hash', 'unreadable', 'partsize', 'partsrc', 'curl') }), dw)
    const [step] = downloadType.apply(dw, c, downloadType.diff(dw, c), win)
    expect(step!.argv).toEqual([])
    expect(step!.psScript).toContain("$cfg | curl.exe -sS -f -L")
    expect(step!.psScript).toContain('header = "Authorization: Bearer hf_x"')
    expect(step!.psScript).toContain("if ($h -ne '14749efc0ae8ef0329391ad4436feb781b402f4fece4883c7ad8d10556d8a36a')")
  })
})
