import { describe, expect, it } from 'vitest'
import { renderJunit } from '../../lib/cli/junit.ts'
import { fleetReport, type HostReport, type ResourceReport } from '../../lib/engine/report.ts'
import { testcases, validateJunit } from '../helpers/junit.ts'

const res = (id: string, status: ResourceReport['status'], changes: string[], error?: { code: string; message: string }): ResourceReport => ({ id, type: 'file', status, changes, ms: 12, ...(error ? { error } : {}) })

function host(name: string, status: HostReport['status'], resources: ResourceReport[], error?: { code: string; message: string }): HostReport {
  const summary = { changed: 0, unchanged: 0, pending: 0, failed: 0, skipped: 0 }
  for (const r of resources) summary[r.status]++
  return { host: name, ok: status === 'ok', status, warnings: [], rebootRequired: status === 'reboot-required', reboots: [], connections: 1, roundTrips: 4, ms: 1500, resources, summary, ...(error ? { error } : {}) }
}

const AT = new Date('2026-12-07T01:02:03Z')

describe('renderJunit', () => {
  it('writes passing, failing, skipped and reboot-required hosts in the dialect the XSD describes', () => {
    const report = fleetReport('apply', [
      host('web-1', 'ok', [res('file:/etc/a', 'changed', ['create file /etc/a (3 bytes)']), res('file:/etc/b', 'unchanged', [])]),
      host('gpu-1', 'failed', [
        res('cmd', 'failed', ['run make'], { code: 'E_COMMAND', message: 'make exited with 2: "missing <target>" & more' }),
        res('file:/after', 'skipped', ['skipped: cmd failed']),
      ]),
      host('gaming-pc', 'reboot-required', [res('pkg', 'changed', ['install Git.Git'])], { code: 'E_REBOOT_REQUIRED', message: 'host gaming-pc: winget finished (exit 3010) and needs the host to restart' }),
      host('gone', 'failed', [], { code: 'E_CONNECT', message: 'host gone: connection refused' }),
    ])
    const xml = renderJunit(report, { name: 'demo', timestamp: AT })
    const v = validateJunit(xml)
    expect(v.output).toMatch(/validates/)
    expect(v.ok).toBe(true)
    expect(testcases(xml)).toEqual([
      ['statecraft.web-1', 'file:/etc/a', 'passed'],
      ['statecraft.web-1', 'file:/etc/b', 'passed'],
      ['statecraft.gpu-1', 'cmd', 'failure'],
      ['statecraft.gpu-1', 'file:/after', 'skipped'],
      ['statecraft.gaming-pc', 'pkg', 'passed'],
      ['statecraft.gaming-pc', '(host)', 'failure'],
      ['statecraft.gone', '(host)', 'failure'],
    ])
    expect(xml).toContain('<testsuites name="statecraft apply demo" tests="7" failures="3" errors="0" skipped="1" time="1.500">')
    expect(xml).toContain('<testsuite name="gpu-1" tests="2" failures="1" errors="0" skipped="1" time="1.500" timestamp="2026-12-07T01:02:03" hostname="gpu-1">')
    expect(xml).toContain('<failure message="make exited with 2: &quot;missing &lt;target&gt;&quot; &amp; more" type="E_COMMAND">')
    expect(xml).toContain('<failure message="host gaming-pc: winget finished (exit 3010) and needs the host to restart" type="E_REBOOT_REQUIRED">reboot-required: host gaming-pc')
    expect(xml).toContain('<system-out>file changed:\n- create file /etc/a (3 bytes)</system-out>')
  })

  it('keeps the document valid whatever a message holds: control bytes, quotes, a CDATA end, newlines', () => {
    const nasty = 'a\u0000b\u001b[31mred\u0007 "q" \'s\' ]]> <x/> &amp;\r\n\tend \ud800'
    const report = fleetReport('plan', [host(nasty, 'failed', [res(nasty, 'failed', [nasty], { code: 'E_VERIFY', message: nasty })], { code: 'E_X', message: nasty })])
    const xml = renderJunit(report, { name: nasty, timestamp: AT })
    const v = validateJunit(xml)
    expect(v.output).toMatch(/validates/)
    expect(xml).not.toMatch(/[\u0000\u0007\u001b]/)
    expect(xml).toContain('a\ufffdb\ufffd[31mred\ufffd')
  })

  it('the XSD rejects what Jenkins would not read (it is not a schema that accepts anything)', () => {
    const bad = [
      '<testsuites><testsuite name="h" tests="1"><testcase name="x" classname="c"><failure/><failure/></testcase></testsuite></testsuites>',
      '<testsuites><testsuite name="h"><testcase name="x" classname="c"/></testsuite></testsuites>',
      '<testsuites><testsuite name="h" tests="1"><testcase classname="c"/></testsuite></testsuites>',
      '<testsuites><testsuite name="h" tests="1" timestamp="yesterday"><testcase name="x" classname="c"/></testsuite></testsuites>',
    ]
    for (const xml of bad) expect(validateJunit(xml).ok, xml).toBe(false)
  })
})
