import { describe, expect, it } from 'vitest'
import { parseVersion, versionSatisfies } from '../../lib/facts/version.ts'

describe('versions as tools print them', () => {
  it.each([
    ['git version 2.39.5', '2.39.5'],
    ['rustc 1.95.0 (59807616e 2026-04-14)', '1.95.0'],
    ['14.2.1', '14.2.1'],
    ['10.0.22631.4391', '10.0.22631'],
    ['12', '12.0.0'],
    ['24.04', '24.4.0'],
    ['NVIDIA-SMI 580.159.04', '580.159.4'],
    ['conda 24.1.2', '24.1.2'],
    ['no digits here', undefined],
  ])('%s -> %s', (printed, v) => {
    expect(parseVersion(printed)).toBe(v)
  })

  it('compares with semver ranges', () => {
    expect(versionSatisfies('14.2.1', '>=12.3')).toBe(true)
    expect(versionSatisfies('12.2', '>=12.3')).toBe(false)
    expect(versionSatisfies('10.0.22631.4391', '>=10.0.22000')).toBe(true)
    expect(versionSatisfies('garbage', '>=1')).toBe(false)
  })

  it('reads Ubuntu-style ranges with a leading zero (>=22.04), which semver alone rejects', () => {
    expect(versionSatisfies('24.04', '>=22.04')).toBe(true)
    expect(versionSatisfies('22.04', '>=22.10')).toBe(false)
    expect(versionSatisfies('24.04', '>=24.04 <24.10')).toBe(true)
    expect(versionSatisfies('10.0.22631.4391', '>=10.0.22000')).toBe(true)
  })

  it('an undefined version (no osVersion printed) satisfies nothing', () => {
    expect(versionSatisfies(undefined, '>=0')).toBe(false)
  })

  it('names a range that is not semver', () => {
    expect(() => versionSatisfies('1.0.0', 'newest', 'pkg git: version')).toThrow(/pkg git: version "newest" is not a semver range; write it like '>=12.3'/)
  })
})
