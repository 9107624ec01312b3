import { ValidationError } from '../core/errors.ts'
import { coerce, satisfies, validRange } from '../core/semver.ts'

/**
 * Versions as tools print them (`git version 2.39.5`, `rustc 1.95.0 (…)`, macOS `14.2.1`,
 * Windows `10.0.22631.4391`, Debian `12`), compared with semver ranges. The first
 * dotted number in the text is taken and padded to major.minor.patch; a fourth part (a Windows
 * build revision) is dropped, so `>=10.0.22000` reads as "Windows 11 or later".
 */
export function parseVersion(printed: string): string | undefined {
  return coerce(dropLeadingZeros(printed))?.version
}

/**
 * True when the printed version satisfies `range`; false when no version can be read from it
 * (also when it is undefined, as `facts.osVersion` is on a host that prints none).
 * @example
 * if (facts.os === 'darwin' && !versionSatisfies(facts.osVersion, '>=12.3')) throw new Error('MPS needs macOS 12.3')
 */
export function versionSatisfies(printed: string | undefined, range: string, what = 'version range'): boolean {
  // Ubuntu prints 24.04 and people write '>=22.04'; semver rejects the leading zero.
  const r = validRange(range) !== null ? range : dropLeadingZeros(range)
  if (validRange(r) === null) {
    throw new ValidationError(`${what} ${JSON.stringify(range)} is not a semver range; write it like '>=12.3' or '^2.39'`)
  }
  const v = printed === undefined ? undefined : parseVersion(printed)
  return v !== undefined && satisfies(v, r)
}

/** `24.04` -> `24.4`: semver neither coerces nor accepts a part with a leading zero. */
function dropLeadingZeros(s: string): string {
  return s.replace(/(?<=\d\.)0+(?=\d)/g, '')
}
