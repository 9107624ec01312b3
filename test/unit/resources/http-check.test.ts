import { describe, expect, it } from 'vitest'
import { httpCheckType, type HttpCheckOptions } from '../../../lib/resources/http-check/http-check.ts'
import { explainWait, waitDetails } from '../../../lib/resources/http-check/messages.ts'
import { WAIT_SCRIPT } from '../../../lib/resources/http-check/posix.ts'
import { hex, linuxFacts, macFacts, none, probe, psHex, windowsFacts } from '../../helpers/facts.ts'
import { shellcheck } from '../../helpers/lint.ts'
import { runCase, type Case } from '../../helpers/table.ts'

const URL = 'http://127.0.0.1:9090/flaskwebgui-keep-server-alive'
const OK = '{"message":"Server Running"}'
/** What curl 7.88 prints on stderr with -sS when nothing listens. */
const REFUSED = 'curl: (7) Failed to connect to 127.0.0.1 port 9090 after 0 ms: Couldn\'t connect to server\n'

const answered = (status: string, body: string, match = '1') => probe({ curl: '1', exit: '0', status, match, body: hex(body), err: '' })
const refused = probe({ curl: '1', exit: '7', status: '000', match: '0', body: '', err: hex(REFUSED) })
const wait = (want: string, needle: string, ms: string, per: string, logs: string[] = ['', '', ''], lines = '20') =>
  ['sh', '-c', expect.any(String), 'statecraft-http-check', want, needle, ms, per, ...logs, lines] as string[]

const cases: Case<HttpCheckOptions>[] = [
  { name: 'Linux: 200 with the text: converged, no wait', facts: linuxFacts, desired: { url: URL, expect: { bodyIncludes: 'Server Running' } }, current: answered('200', OK), changes: [] },
  { name: 'Linux: one of several statuses: converged', facts: linuxFacts, desired: { url: URL, expect: { status: [200, 204] } }, current: answered('204', ''), changes: [] },
  {
    name: 'Linux: 503 while the model loads: wait up to the default 300 s, attempts of 5 s',
    facts: linuxFacts,
    desired: { url: URL },
    current: answered('503', 'loading'),
    changes: [`wait for ${URL} to answer 200 (up to 300 s; now: HTTP 503)`],
    steps: [wait('200', '', '300000', '5000')],
  },
  {
    name: 'Linux: nothing listens yet: the plan says so; the journal of a user unit for the error',
    facts: linuxFacts,
    desired: { url: URL, expect: { bodyIncludes: 'Server Running' }, timeout: 600, logs: { unit: 'invokeai', user: 'ana' } },
    current: refused,
    changes: [`wait for ${URL} to answer 200 with "Server Running" in the body (up to 600 s; now: the connection was refused (nothing listens on that port yet?): Failed to connect to 127.0.0.1 port 9090 after 0 ms: Couldn't connect to server)`],
    steps: [wait('200', 'Server Running', '600000', '5000', ['unit', 'invokeai.service', 'ana'])],
  },
  {
    name: 'Linux: 200 without the text (another app on the port): wait; a system unit with a suffix is kept',
    facts: linuxFacts,
    desired: { url: URL, expect: { bodyIncludes: 'Server Running' }, timeout: 90.5, attemptTimeout: 2, logs: { unit: 'invokeai-web.service', lines: 50 } },
    current: answered('200', '<html>nginx</html>', '0'),
    changes: [`wait for ${URL} to answer 200 with "Server Running" in the body (up to 90.5 s; now: HTTP 200 without "Server Running" in the body)`],
    steps: [wait('200', 'Server Running', '90500', '2000', ['unit', 'invokeai-web.service', ''], '50')],
  },
  {
    name: 'macOS: a launchd service logs to a file; ~ is the host home',
    facts: macFacts,
    desired: { url: URL, logs: { file: '~/Library/Logs/invokeai.log' } },
    current: refused,
    changes: [`wait for ${URL} to answer 200 (up to 300 s; now: the connection was refused (nothing listens on that port yet?): Failed to connect to 127.0.0.1 port 9090 after 0 ms: Couldn't connect to server)`],
    steps: [wait('200', '', '300000', '5000', ['file', '/Users/ana/Library/Logs/invokeai.log', ''])],
  },
  { name: 'Linux: no curl on the host: planned, and apply names the fix', facts: linuxFacts, desired: { url: URL }, current: probe({ curl: '0', ...none('exit', 'status', 'match', 'body', 'err') }), changes: [`wait for ${URL} to answer 200 (up to 300 s; now: curl is not installed on the host)`], applyError: /curl is not installed on the host; install it first \(e\.g\. pkg\(\{ name: 'curl' \}\)/ },
  { name: 'macOS: logs.unit is refused (no journal)', facts: macFacts, desired: { url: URL, logs: { unit: 'invokeai' } }, error: /logs\.unit reads the systemd journal, which darwin hosts lack; give logs: \{ file \}/ },
  { name: 'Windows: logs.unit is refused', facts: windowsFacts, desired: { url: URL, logs: { unit: 'invokeai' } }, error: /logs\.unit reads the systemd journal, which windows hosts lack/ },
  { name: 'a user and password in the URL are refused (plans show the URL)', facts: linuxFacts, desired: { url: 'http://ana:pw@127.0.0.1:9090/' }, error: /url must not hold a user or password/ },
  { name: 'bodyIncludes on two lines is refused', facts: linuxFacts, desired: { url: URL, expect: { bodyIncludes: 'a\nb' } }, error: /expect\.bodyIncludes must be non-empty text on one line/ },
  { name: 'a status outside 100-599 is refused', facts: linuxFacts, desired: { url: URL, expect: { status: [200, 700] } }, error: /expect\.status must be an HTTP status or a list of them/ },
  { name: 'an unknown field in expect is refused', facts: linuxFacts, desired: { url: URL, expect: { body: 'x' } as never }, error: /expect\.body is not a known field; known fields: status, bodyIncludes$/ },
  { name: 'expect that is not an object is refused', facts: linuxFacts, desired: { url: URL, expect: 200 as never }, error: /expect must be \{ status\?, bodyIncludes\? \} \(got 200\)/ },
  { name: 'logs with both unit and file is refused', facts: linuxFacts, desired: { url: URL, logs: { unit: 'a', file: '/x' } as never }, error: /logs must be \{ unit, user\?, lines\? \} or \{ file, lines\? \}/ },
  { name: 'a timeout of 0 is refused', facts: linuxFacts, desired: { url: URL, timeout: 0 }, error: /timeout must be a positive number of seconds/ },
  { name: 'Windows: 200 with the text: converged (hex as PowerShell prints it)', facts: windowsFacts, desired: { url: URL, expect: { bodyIncludes: 'Server Running' } }, current: probe({ curl: '1', exit: '0', status: '200', match: '1', body: psHex(OK), err: '' }), changes: [] },
  {
    name: 'Windows: 503: an Invoke-WebRequest loop, the log file tail for the error',
    facts: windowsFacts,
    desired: { url: URL, timeout: 120, logs: { file: '~/invokeai/invokeai.log', lines: 10 } },
    current: probe({ curl: '1', exit: '0', status: '503', match: '1', body: psHex('loading'), err: '' }),
    changes: [`wait for ${URL} to answer 200 (up to 120 s; now: HTTP 503)`],
    steps: [
      (s: string) => {
        expect(s).toContain("Invoke-WebRequest -Uri $u -UseBasicParsing -TimeoutSec $t -MaximumRedirection 5 -ErrorAction Stop")
        expect(s).toContain(`$r = Sc-HttpTry '${URL}' '' $t`)
        expect(s).toContain('$limit = 120000')
        expect(s).toContain("Get-Content -LiteralPath 'C:\\Users\\ana\\invokeai\\invokeai.log' -Tail 10 -ErrorAction Stop")
      },
    ],
  },
  {
    name: 'Windows: no answer (ConnectFailure, given curl\'s code 7): wait',
    facts: windowsFacts,
    desired: { url: URL },
    current: probe({ curl: '1', exit: '7', status: '000', match: '0', body: '', err: psHex('Unable to connect to the remote server') }),
    changes: [`wait for ${URL} to answer 200 (up to 300 s; now: the connection was refused (nothing listens on that port yet?): Unable to connect to the remote server)`],
    steps: [/\$want = @\(200\)\n/],
  },
]

describe('httpCheck table', () => {
  for (const c of cases) it(c.name, () => runCase(httpCheckType, c))
})

describe('httpCheck steps and messages', () => {
  const linux = (o: HttpCheckOptions) => {
    const d = httpCheckType.validate(o, linuxFacts)
    return httpCheckType.apply(d, { curl: true, exit: 7 }, [{ op: 'wait', text: '' }], linuxFacts)[0]!
  }

  it('the URL travels as a curl config on stdin, never in argv; quotes in it are escaped', () => {
    const step = linux({ url: 'http://127.0.0.1:9090/a"b\\c?token=x' })
    expect(step.stdin).toBe('url = "http://127.0.0.1:9090/a\\"b\\\\c?token=x"\n')
    expect(step.argv.join(' ')).not.toContain('127.0.0.1')
  })

  it('a long wait is not killed as idle: the step bounds lie beyond the wait itself', () => {
    const step = linux({ url: URL, timeout: 900, attemptTimeout: 10 })
    expect(step.idleTimeout).toBeGreaterThan(900_000)
    expect(step.timeout).toBeGreaterThan(910_000)
  })

  it('the probe attempt is short whatever attemptTimeout says; the wait loop passes shellcheck', () => {
    const d = httpCheckType.validate({ url: URL, attemptTimeout: 30 }, linuxFacts)
    expect(httpCheckType.probe(d, linuxFacts)).toContain('sc_http_try 3\n')
    expect(shellcheck(`#!/bin/sh\n${WAIT_SCRIPT}`).out).toBe('')
  })

  it('notified (a restarted service): it waits again', () => {
    const d = httpCheckType.validate({ url: URL, timeout: 600 }, linuxFacts)
    expect(httpCheckType.notified?.(d, ['service:invokeai']).text).toBe(`wait for ${URL} to answer 200 (up to 600 s; notified by service:invokeai)`)
  })

  it('the timeout message from the PowerShell half (its keys on stderr): the last answer and the log tail', () => {
    const line = (k: string, v: string) => `statecraft-http-check: ${k}=${v}`
    const stderr = ['statecraft-http-check attempt 1: HTTP 503', line('attempts', '9'), line('waitedms', '120400'), line('exit', '0'), line('status', '503'), line('match', '1'), line('body', psHex('{"detail":"loading"}')), line('err', ''), line('logs', psHex('[2026-12-07 01:00:00] loading model\r\nKilled\r\n'))].join('\r\n')
    const m = explainWait({ url: URL, want: [200], timeout: 120, logSource: 'C:\\invokeai\\invokeai.log' }, stderr)
    expect(m).toBe(
      `httpCheck ${URL}: no expected answer within 120 s (9 attempts over 120.4 s): expected HTTP 200; the last attempt got HTTP 503, body: "{\\"detail\\":\\"loading\\"}". ` +
        'Check that the service runs and listens on that address (its log below), or raise timeout if it needs longer to start.\n' +
        'last lines of C:\\invokeai\\invokeai.log:\n[2026-12-07 01:00:00] loading model\r\nKilled',
    )
  })

  it('a failure that is not the wait (no key lines) keeps the default message', () => {
    expect(explainWait({ url: URL, want: [200], timeout: 1 }, 'sh: 1: cannot create /tmp/x: Permission denied\n')).toBeUndefined()
  })

  it('the report figures: attempts from the host, seconds from the controller', () => {
    const t0 = performance.now() - 1234
    expect(waitDetails(() => t0)('statecraft-wait attempts=4\n')).toMatchObject({ attempts: 4, waitedSeconds: expect.closeTo(1.2, 0) })
    expect(waitDetails(() => t0)('')).toEqual({})
  })
})
