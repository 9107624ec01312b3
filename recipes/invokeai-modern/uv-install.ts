import { pkg, uv, uvBinary } from '../../lib/index.ts'
import type { Facts, Resource } from '../../lib/index.ts'

/** The package managers that ship uv itself: brew `uv`, winget `astral-sh.uv`, pacman `uv`. */
const SHIPS_UV = ['brew', 'winget', 'pacman'] as const

export function managerShipsUv(facts: Facts): boolean {
  return facts.packageManagers.some((m) => (SHIPS_UV as readonly string[]).includes(m))
}

/** Where the package manager puts uv (absolute: a non-interactive SSH PATH lacks brew's and winget's folders). */
export function uvPath(facts: Facts): string {
  if (facts.os === 'darwin') return `${facts.appleSilicon ? '/opt/homebrew' : '/usr/local'}/bin/uv`
  if (facts.os === 'windows') return `${facts.home}\\AppData\\Local\\Microsoft\\WinGet\\Links\\uv.exe`
  return '/usr/bin/uv'
}

/**
 * uv for the uv route, per OS: the package manager's where one ships it; elsewhere (Debian 12,
 * Ubuntu, Fedora) Astral's standalone installer, pinned and checked (the `uv` resource), into
 * ~/.local/bin without touching the shell profile. `given`: a uv already on the host, nothing installed.
 */
export function uvInstall(facts: Facts, o: { given?: string; installerUrl?: string; installerSha256?: string; after: string[] }): { uv: string; resources: Resource[]; ids: string[] } {
  if (o.given !== undefined) return { uv: o.given, resources: [], ids: [] }
  if (managerShipsUv(facts)) {
    return {
      uv: uvPath(facts),
      resources: [pkg({ id: 'uv', name: 'uv', winget: 'astral-sh.uv', after: o.after, ...(facts.os === 'windows' ? { acceptAgreements: true } : { become: facts.os !== 'darwin' }) })],
      ids: ['uv'],
    }
  }
  const mirror = o.installerUrl !== undefined ? { url: o.installerUrl, ...(o.installerSha256 !== undefined ? { sha256: o.installerSha256 } : {}) } : {}
  return { uv: uvBinary(facts), resources: [uv({ id: 'uv', ...mirror, after: o.after })], ids: ['uv'] }
}
