import { describe, expect, it } from 'vitest'
import { fileType } from '../../lib/resources/file.ts'
import { commandType } from '../../lib/resources/command.ts'
import { linuxFacts, none, probe, windowsFacts } from '../helpers/facts.ts'
import { runCase } from '../helpers/table.ts'

/** The fixture table helper's own rules: a sloppy case must fail, not pass. */
describe('fixture tables', () => {
  it('reading a probe key the case did not state throws, naming the case and the key', () => {
    const p = probe({ kind: 'file', content: undefined }).named('case "x"')
    expect(p.get('kind')).toBe('file')
    expect(p.has('content')).toBe(false)
    expect(p.get('content')).toBeUndefined()
    expect(() => p.has('sha256')).toThrow(/case "x": the parser read probe key "sha256", which the case neither printed nor declared unprinted/)
    expect(() => p.get('perm')).toThrow(/probe key "perm"/)
    expect(() => runCase(fileType, { name: 'forgot kind', facts: linuxFacts, desired: { path: '/x', state: 'absent' }, current: probe({}), changes: [] })).toThrow(/case "forgot kind": the parser read probe key "kind"/)
  })

  const rustup = { argv: ['rustup-init.exe', '-y'], creates: '~/.cargo/bin/rustup.exe' }
  const missing = probe({ creates: '0', unless: undefined })
  const changes = ['run rustup-init.exe -y (C:\\Users\\ana\\.cargo\\bin\\rustup.exe is missing)']

  it('a Windows case must expect PowerShell: argv or nothing fails', () => {
    expect(() => runCase(commandType, { name: 'w', facts: windowsFacts, desired: rustup, current: missing, changes, steps: [['rustup-init.exe', '-y']] })).toThrow(/the facts are Windows \(PowerShell\) but the case expects an argv/)
    expect(() => runCase(commandType, { name: 'w', facts: windowsFacts, desired: rustup, current: missing, changes })).toThrow(/give the expected steps/)
    expect(() => runCase(commandType, { name: 'w', facts: windowsFacts, desired: rustup, current: missing, changes, steps: [/curl/] })).toThrow()
    runCase(commandType, { name: 'w', facts: windowsFacts, desired: rustup, current: missing, changes, steps: [/^& 'rustup-init\.exe' '-y'\nexit \$LASTEXITCODE$/] })
  })

  it('a POSIX case must expect argv', () => {
    const d = { argv: ['make'], creates: '/x' }
    expect(() => runCase(commandType, { name: 'p', facts: linuxFacts, desired: d, current: missing, changes: ['run make (/x is missing)'], steps: ["& 'make'"] })).toThrow(/the facts are POSIX but the case expects a PowerShell script/)
  })

  it('a converged case fails when apply([]) still gives a step, or the case expects one', () => {
    const absent = probe({ kind: 'absent', ...none('size', 'content', 'sha256') })
    expect(() => runCase(fileType, { name: 'n', facts: linuxFacts, desired: { path: '/x', state: 'absent' }, current: absent, changes: [], steps: [['rm', '-f', '--', '/x']] })).toThrow(/a converged case expects no steps/)
    const lying = { ...fileType, apply: () => [{ argv: ['rm', '-f', '--', '/x'] }] }
    expect(() => runCase(lying, { name: 'n', facts: linuxFacts, desired: { path: '/x', state: 'absent' }, current: absent, changes: [] })).toThrow(/apply\(\[\]\) must give no step/)
  })

  it('an apply error case fails when apply does not throw it', () => {
    expect(() => runCase(commandType, { name: 'a', facts: linuxFacts, desired: { argv: ['make'], creates: '/x' }, current: missing, changes: ['run make (/x is missing)'], applyError: /boom/ })).toThrow()
  })
})
