import type { Facts, OsName } from '../core/types.ts'

/**
 * One typical host per OS, for `statecraft check`: what the first exec would report there. A
 * recipe is validated against each without connecting anywhere; its branches on other facts
 * (a distribution, a GPU) are checked only for these values.
 */
export const CHECK_FACTS: Record<OsName, { label: string; facts: Facts }> = {
  linux: {
    label: 'Linux (Debian 12, x64)',
    facts: {
      os: 'linux', arch: 'x64', appleSilicon: false, kernel: 'Linux', user: 'ana', uid: 1000, home: '/home/ana', hostname: 'check-linux',
      dialect: 'posix', bootId: 'check', osVersion: '12', distro: { id: 'debian', version: '12', like: [] }, packageManagers: ['apt', 'dpkg'],
      memoryBytes: 32 * 2 ** 30, rebootPending: false, gpu: { vendor: 'none', devices: [] },
    },
  },
  darwin: {
    label: 'macOS (14, Apple Silicon)',
    facts: {
      os: 'darwin', arch: 'arm64', appleSilicon: true, kernel: 'Darwin', user: 'ana', uid: 501, home: '/Users/ana', hostname: 'check-mac',
      dialect: 'posix', bootId: 'check', osVersion: '14.2.1', packageManagers: ['brew'], memoryBytes: 32 * 2 ** 30, cpu: 'Apple M1 Pro',
      rebootPending: false, gpu: { vendor: 'apple', devices: [{ name: 'Apple M1 Pro' }] },
    },
  },
  windows: {
    label: 'Windows (11, x64)',
    facts: {
      os: 'windows', arch: 'x64', appleSilicon: false, kernel: 'Windows_NT', user: 'ana', uid: null, home: 'C:\\Users\\ana', hostname: 'CHECK-PC',
      dialect: 'powershell', bootId: 'check', osVersion: '10.0.22631.4391', windows: { edition: 'Professional', displayVersion: '23H2' },
      packageManagers: ['winget'], memoryBytes: 32 * 2 ** 30, rebootPending: false, gpu: { vendor: 'none', devices: [] },
    },
  },
}
