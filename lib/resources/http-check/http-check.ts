import * as v from 'valibot'
import { StatecraftError } from '../../core/errors.ts'
import type { Change, Facts, Step } from '../../core/types.ts'
import { normalisePath, path, positive, text } from '../fields.ts'
import { urlField } from '../installer.ts'
import { defineResource } from '../kit.ts'
import { describeAttempt, explainWait, parseAttempt, statusText, waitDetails, type Attempt } from './messages.ts'
import { httpProbe, WAIT_SCRIPT } from './posix.ts'
import { psHttpProbe, psHttpWait } from './powershell.ts'

export type HttpCheckLogs =
  /** A systemd unit's journal; `user`: the unit is that user's (`systemctl --user`). */
  | { unit: string; user?: string; lines?: number }
  /** The tail of a file (launchd's StandardErrorPath, a Windows service's log, nohup.out). */
  | { file: string; lines?: number }

export interface HttpCheckOptions {
  /** Fetched from the host itself: 127.0.0.1 is the host, not the controller. Redirects are followed. */
  url: string
  expect?: {
    /** The status, or any of several (default 200). */
    status?: number | number[]
    /** Text the body must hold (matched exactly, on the whole body). */
    bodyIncludes?: string
  }
  /** Seconds to wait for the expected answer (default 300). */
  timeout?: number
  /** Seconds one request may take (default 5; the probe's single attempt takes at most 3). */
  attemptTimeout?: number
  /** Where the service's last lines are read when the wait fails. */
  logs?: HttpCheckLogs
}

interface HttpCheckCurrent extends Partial<Attempt> {
  curl: boolean
}

type HttpCheckOp = { op: 'wait' }

const DEFAULT_TIMEOUT = 300
const DEFAULT_ATTEMPT = 5
const PROBE_ATTEMPT = 3
const DEFAULT_LINES = 20

const got = (x: unknown): string => JSON.stringify(x)
const statusCode = v.custom<number>((x) => Number.isInteger(x) && (x as number) >= 100 && (x as number) <= 599, (i) => `must be an HTTP status from 100 to 599 (got ${got(i.input)})`)
const lines = v.optional(v.custom<number>((x) => Number.isInteger(x) && (x as number) > 0 && (x as number) <= 1000, (i) => `must be a whole number of lines from 1 to 1000 (got ${got(i.input)})`))
const unitName = v.pipe(text(), v.regex(/^[A-Za-z0-9:_.@\\-]+$/, 'must be a systemd unit name like "invokeai" or "invokeai.service"'))

const fields = {
  url: urlField(),
  expect: v.optional(
    v.strictObject(
      {
        status: v.optional(v.union([statusCode, v.pipe(v.array(statusCode), v.minLength(1, 'must list at least one status'))], (i) => `must be an HTTP status or a list of them (got ${got(i.input)})`)),
        bodyIncludes: v.optional(v.pipe(text(), v.check((s) => s !== '' && !/[\r\n\0]/.test(s), 'must be non-empty text on one line (no CR, LF or NUL)'))),
      },
      (i) => (i.path?.length ? 'is not a known field; known fields: status, bodyIncludes' : `must be { status?, bodyIncludes? } (got ${got(i.input)})`),
    ),
  ),
  timeout: v.optional(positive('seconds')),
  attemptTimeout: v.optional(positive('seconds')),
  logs: v.optional(
    v.union(
      [v.strictObject({ unit: unitName, user: v.optional(v.pipe(text(), v.regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'must be a user name'))), lines }), v.strictObject({ file: path(), lines })],
      (i) => `must be { unit, user?, lines? } or { file, lines? } (got ${got(i.input)})`,
    ),
  ),
} satisfies Record<keyof HttpCheckOptions, v.GenericSchema<unknown, unknown>>

const want = (d: HttpCheckOptions): number[] => {
  const s = d.expect?.status ?? 200
  return Array.isArray(s) ? s : [s]
}
const timeoutOf = (d: HttpCheckOptions): number => d.timeout ?? DEFAULT_TIMEOUT
const attemptOf = (d: HttpCheckOptions): number => Math.min(d.attemptTimeout ?? DEFAULT_ATTEMPT, timeoutOf(d))

function answered(d: HttpCheckOptions, c: HttpCheckCurrent): boolean {
  return c.curl && c.exit === 0 && c.match === true && want(d).includes(c.status ?? 0)
}

const goal = (d: HttpCheckOptions): string =>
  `wait for ${d.url} to answer ${statusText(want(d))}${d.expect?.bodyIncludes ? ` with ${got(d.expect.bodyIncludes)} in the body` : ''} (up to ${timeoutOf(d)} s`

function logSource(d: HttpCheckOptions): string | undefined {
  const l = d.logs
  if (!l) return undefined
  if ('file' in l) return l.file
  return l.user ? `the journal of ${l.user}'s unit ${l.unit}` : `journalctl -u ${l.unit}`
}

function waitStep(d: HttpCheckOptions, c: HttpCheckCurrent | undefined, facts: Facts): Step {
  if (c && !c.curl) {
    throw new StatecraftError('E_MISSING_TOOL', `httpCheck ${d.url}: curl is not installed on the host; install it first (e.g. pkg({ name: 'curl' }), and list that resource in this check's after)`)
  }
  let t0 = performance.now()
  const limit = timeoutOf(d)
  const ctx = { url: d.url, want: want(d), timeout: limit, ...(d.expect?.bodyIncludes ? { needle: d.expect.bodyIncludes } : {}), ...(d.logs ? { logSource: logSource(d) as string } : {}) }
  const l = d.logs
  const bounds = {
    label: `wait for ${d.url} (up to ${limit} s)`,
    // A line per attempt keeps the step from idling; these bounds only catch a wedged host.
    idleTimeout: (limit + 60) * 1000,
    timeout: (limit + attemptOf(d) + 120) * 1000,
    prepare: async (): Promise<void> => void (t0 = performance.now()),
    details: waitDetails(() => t0),
    explain: (r: { stderr: string }) => explainWait(ctx, r.stderr),
  }
  if (facts.dialect === 'powershell') {
    const ps = { url: d.url, needle: d.expect?.bodyIncludes ?? '', attemptSeconds: attemptOf(d), want: want(d), timeout: limit, lines: l?.lines ?? DEFAULT_LINES }
    return { argv: [], psScript: psHttpWait(l && 'file' in l ? { ...ps, logFile: l.file } : ps), ...bounds }
  }
  const logArgs = !l ? ['', '', ''] : 'file' in l ? ['file', l.file, ''] : ['unit', l.unit, l.user ?? '']
  const argv = ['sh', '-c', WAIT_SCRIPT, 'statecraft-http-check', want(d).join(' '), d.expect?.bodyIncludes ?? '', String(Math.round(limit * 1000)), String(Math.round(attemptOf(d) * 1000)), ...logArgs, String(l?.lines ?? DEFAULT_LINES)]
  return { argv, stdin: curlConfig(d.url), ...bounds }
}

/** The URL as a curl config line: it travels on stdin, in no process's argv. */
const curlConfig = (url: string): string => `url = "${url.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"\n`

/**
 * Waits until a URL, fetched from the host itself, answers as expected: a service that takes
 * minutes to load a model before its port opens. A check, not a state: when the probe's single
 * quick attempt already gets the answer there is no change and no wait; otherwise apply retries
 * with backoff (0.5 s doubling to 5 s) up to `timeout`, and the report says how long it took.
 * Notified (a service restarted), it waits again. On timeout the error names the last status and
 * body, or the connection error, and the service's last log lines.
 * @example
 * httpCheck({ url: 'http://127.0.0.1:9090/api/v1/app/version', timeout: 600, logs: { unit: 'invokeai' }, after: ['service:invokeai'] })
 */
export const httpCheck = defineResource<HttpCheckOptions, HttpCheckCurrent, HttpCheckOp>({
  type: 'httpCheck',
  describe: (i) => `httpCheck ${String(i.url)}`,
  fields,
  normalise(d, facts, fail) {
    const u = new URL(d.url)
    if (u.username || u.password) fail('url', 'must not hold a user or password: the URL is shown in plans and reports')
    const out: HttpCheckOptions = { ...d }
    const l = d.logs
    if (l && 'unit' in l) {
      if (facts.os !== 'linux') fail('logs.unit', `reads the systemd journal, which ${facts.os} hosts lack; give logs: { file } (the service's log file) there`)
      out.logs = { ...l, unit: /\.[a-z]+$/.test(l.unit) ? l.unit : `${l.unit}.service` }
    } else if (l && 'file' in l) {
      out.logs = { ...l, file: normalisePath(l.file, 'logs.file', facts, fail) }
    }
    return out
  },
  defaultId: (d) => `httpCheck:${d.url}`,
  parse(data): HttpCheckCurrent {
    if (data.get('curl') !== '1') return { curl: false }
    return { curl: true, ...parseAttempt(data) }
  },
  diff(d, c): Change<HttpCheckOp>[] {
    if (answered(d, c)) return []
    const now = c.curl ? describeAttempt(c as Attempt, d.expect?.bodyIncludes, false) : 'curl is not installed on the host'
    return [{ op: 'wait', text: `${goal(d)}; now: ${now})` }]
  },
  posix: {
    probe: (d) => httpProbe({ config: curlConfig(d.url), needle: d.expect?.bodyIncludes ?? '', attemptSeconds: Math.min(attemptOf(d), PROBE_ATTEMPT) }),
    apply: (d, c, _changes, facts) => [waitStep(d, c, facts)],
  },
  powershell: {
    probe: (d) => psHttpProbe({ url: d.url, needle: d.expect?.bodyIncludes ?? '', attemptSeconds: Math.min(attemptOf(d), PROBE_ATTEMPT) }),
    apply: (d, c, _changes, facts) => [waitStep(d, c, facts)],
  },
  // After a restart the service must answer again, even if the probe (before the restart) saw it answer.
  // Its own wait ran after the notifiers (they come first): waiting again would ask the same question.
  notifiedCoveredBy: (own) => own.some((c) => c.op === 'wait'),
  notified: (d, by) => ({ op: 'wait', text: `${goal(d)}; notified by ${by.join(', ')})` }),
  examples: ({ path: p, value }) => [
    { desired: { url: `http://127.0.0.1:9090/${encodeURIComponent(value)}`, expect: { status: [200, 204], bodyIncludes: value.replace(/[\r\n\0]/g, '') || 'x' }, timeout: 2, logs: { file: p } }, current: { curl: true, exit: 7, status: 0, match: false, body: '', err: '' } },
    { desired: { url: 'https://example.test/health', timeout: 1.5, attemptTimeout: 0.5 }, current: { curl: true, exit: 0, status: 503, match: true, body: value, err: '' } },
  ],
})

export const httpCheckType = httpCheck.type
