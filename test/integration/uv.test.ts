import { existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { converge, defineRecipe, uv } from '../../lib/index.ts'
import type { UvOptions } from '../../lib/resources/uv.ts'
import { startHub, type Hub } from '../helpers/hub.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

/**
 * The uv resource run for real against a stand-in uv-installer.sh served over HTTP. Like
 * cargo-dist's installer it installs into $UV_INSTALL_DIR (else ~/.local/bin), edits the shell
 * profile unless UV_NO_MODIFY_PATH is set, and its uv answers `--version` in uv's shape.
 */
const STAND_IN = `#!/bin/sh
set -eu
dir=\${UV_INSTALL_DIR:-$HOME/.local/bin}
mkdir -p "$dir"
printf '#!/bin/sh\\n[ "$1" = --version ] && echo "uv 0.12.17 (a1b2c3d4e 2026-05-11)"\\n' > "$dir/uv"
chmod +x "$dir/uv"
cp "$dir/uv" "$dir/uvx"
if [ -z "\${UV_NO_MODIFY_PATH:-}" ]; then echo 'export PATH="$HOME/.local/bin:$PATH"' >> "$HOME/.profile"; fi
echo "everything's installed!"
`

let hub: Hub
let sha256 = ''
beforeAll(async () => {
  hub = await startHub()
  sha256 = hub.addBlob('uv-installer.sh', Buffer.from(STAND_IN)).sha256
  hub.addBlob('evil/uv-installer.sh', Buffer.from(STAND_IN.replace('installed!', 'installed!" ; touch "$HOME/owned')))
})
afterAll(async () => hub?.close())

const run = (home: string, opts: UvOptions) => converge({
  recipe: defineRecipe({ name: 'u', resources: () => [uv({ id: 'uv', ...opts })] }),
  hosts: [{ name: 'local', transport: localHost(home) }],
})

describe('uv with a stand-in uv-installer.sh (real HTTP, real sh, temp HOME)', () => {
  it('installs into the given dir without touching the shell profile; a second run changes nothing', async () => {
    const home = tempDir()
    const url = `${hub.cdnUrl}/blob/uv-installer.sh`
    const r = await run(home, { version: '0.12.17', dir: `${home}/tools`, url, sha256 })
    expect(r.hosts[0]!.resources[0]!.error).toBeUndefined()
    expect(r.hosts[0]!.resources[0]!.changes).toEqual([`install uv 0.12.17 with uv-installer.sh (sha256 ${sha256.slice(0, 12)}…) into ${home}/tools`])
    expect(execFileSync(`${home}/tools/uv`, ['--version'], { encoding: 'utf8' })).toBe('uv 0.12.17 (a1b2c3d4e 2026-05-11)\n')
    expect(existsSync(`${home}/.profile`)).toBe(false)
    // The installer and its stamp are gone once it has done its work.
    expect(existsSync(`${home}/.statecraft/installers/uv-installer.sh`)).toBe(false)
    const again = await run(home, { version: '0.12.17', dir: `${home}/tools`, url, sha256 })
    expect(again.summary).toMatchObject({ changed: 0, unchanged: 1, failed: 0 })
    expect(hub.requests.filter((q) => q.method === 'GET' && q.url.endsWith('/blob/uv-installer.sh'))).toHaveLength(1)
  })

  it('a tampered installer fails its checksum, naming the expected and the actual hash; nothing runs', async () => {
    const home = tempDir()
    const url = `${hub.cdnUrl}/blob/${encodeURIComponent('evil/uv-installer.sh')}`
    const r = await run(home, { url, sha256 })
    expect(r.ok).toBe(false)
    const actual = hub.blobs.get('evil/uv-installer.sh')!.sha256
    expect(actual).not.toBe(sha256)
    expect(r.hosts[0]!.resources[0]!.error!.message).toContain(`uv: the installer from ${url} failed its check (sha256 ${actual}, expected ${sha256}): it was discarded and nothing was installed`)
    expect(existsSync(`${home}/.local/bin/uv`)).toBe(false)
    expect(existsSync(`${home}/owned`)).toBe(false)
    expect(existsSync(`${home}/.statecraft/installers/uv-installer.sh`)).toBe(false)
  })
})
