import type { Facts } from '../../lib/core/types.ts'

export const linuxFacts: Facts = {
  os: 'linux', arch: 'x64', appleSilicon: false, kernel: 'Linux', user: 'ana', uid: 1000,
  home: '/home/ana', hostname: 'gpu-1', dialect: 'posix', bootId: 'b1',
}

export const macFacts: Facts = {
  os: 'darwin', arch: 'arm64', appleSilicon: true, kernel: 'Darwin', user: 'ana', uid: 501,
  home: '/Users/ana', hostname: 'studio-mac', dialect: 'posix', bootId: 'mac-boot',
}

export const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex')

/** Probe output as the shell snippet prints it. */
export function probe(lines: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(lines))
}
