import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { conda, converge, defineRecipe } from '../../lib/index.ts'
import type { CondaOptions } from '../../lib/resources/conda/conda.ts'
import { startHub, type Hub } from '../helpers/hub.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

/**
 * The conda resource run for real on this Linux machine, against a stand-in for the vendor's
 * installer served over HTTP: it honours `-b -p PREFIX` like the real one (and refuses to prompt,
 * or to write into an existing prefix), and leaves a PREFIX/bin/conda that answers
 * `conda info --json` with the keys statecraft reads.
 */
const PLATFORM = process.arch === 'arm64' ? 'linux-aarch64' : 'linux-64'
const STAND_IN = `#!/bin/sh
b=0 p=
while [ $# -gt 0 ]; do case "$1" in -b) b=1 ;; -p) p=$2; shift ;; esac; shift; done
[ "$b" = 1 ] || { echo 'stand-in: without -b the installer would ask for the licence' >&2; exit 2; }
[ -n "$p" ] || { echo 'stand-in: no -p' >&2; exit 2; }
if [ -e "$p" ]; then echo "ERROR: File or directory already exists: '$p'" >&2; exit 1; fi
echo "PREFIX=$p"
mkdir -p "$p/bin" "$p/conda-meta"
cat > "$p/bin/conda" <<EOF
#!/bin/sh
if [ "\\$1 \\$2" = "info --json" ]; then
  printf '{\\n  "conda_prefix": "%s",\\n  "conda_version": "25.3.0",\\n  "platform": "${PLATFORM}",\\n  "root_prefix": "%s"\\n}\\n' '$p' '$p'
  exit 0
fi
echo "stand-in conda: \\$*" >&2; exit 1
EOF
chmod +x "$p/bin/conda"
echo 'installation finished.'
`

let hub: Hub
let sha256 = ''
beforeAll(async () => {
  hub = await startHub()
  sha256 = hub.addBlob('Miniforge3-Linux-x86_64.sh', Buffer.from(STAND_IN)).sha256
  hub.addBlob('tampered/Miniforge3-Linux-x86_64.sh', Buffer.from(`${STAND_IN}\necho owned > /tmp/statecraft-tampered\n`))
})
afterAll(async () => hub?.close())

function run(home: string, opts: CondaOptions, mode: 'plan' | 'apply' = 'apply') {
  return converge({ recipe: defineRecipe({ name: 'c', resources: () => [conda({ id: 'conda', ...opts })] }), hosts: [{ name: 'local', transport: localHost(home) }], mode })
}

describe('conda with a stand-in installer (real HTTP, real sh, temp HOME)', () => {
  it('fetches, checks and runs the installer; the next run changes nothing', async () => {
    const home = tempDir()
    const prefix = `${home}/miniforge3`
    const url = `${hub.cdnUrl}/blob/Miniforge3-Linux-x86_64.sh`
    const plan = await run(home, { prefix: '~/miniforge3', url, sha256 }, 'plan')
    expect(plan.hosts[0]!.resources[0]!.changes).toEqual([`install Miniforge3-Linux-x86_64.sh from ${url} (sha256 from the recipe) at ${prefix}`])
    const r = await run(home, { prefix: '~/miniforge3', url, sha256 })
    expect(r.hosts[0]!.resources[0]!.error).toBeUndefined()
    expect(r.summary).toMatchObject({ changed: 1, failed: 0 })
    expect(JSON.parse(execFileSync(`${prefix}/bin/conda`, ['info', '--json'], { encoding: 'utf8' }))).toMatchObject({ conda_prefix: prefix, platform: PLATFORM })
    // The installer and its stamp are gone once it has done its work.
    expect(readdirSync(`${home}/.statecraft/installers`)).toEqual([])
    const again = await run(home, { prefix: '~/miniforge3', url, sha256 })
    expect(again.summary).toMatchObject({ changed: 0, unchanged: 1, failed: 0 })
  })

  it('a tampered installer (sha256 mismatch) fails clearly and installs nothing', async () => {
    const home = tempDir()
    const url = `${hub.cdnUrl}/blob/${encodeURIComponent('tampered/Miniforge3-Linux-x86_64.sh')}`
    const r = await run(home, { prefix: '~/miniforge3', url, sha256 })
    expect(r.ok).toBe(false)
    const bad = hub.blobs.get('tampered/Miniforge3-Linux-x86_64.sh')!.sha256
    expect(r.hosts[0]!.resources[0]!.error!.message).toBe(
      `conda ${home}/miniforge3: the installer from ${url} failed its check (sha256 ${bad}, expected ${sha256}): it was discarded and nothing was installed. ` +
        'If the vendor republished it, check the new file and give its sha256 (and url) in the recipe',
    )
    expect(existsSync(`${home}/miniforge3`)).toBe(false)
    expect(readdirSync(`${home}/.statecraft/installers`)).toEqual([])
  })

  it('a prefix that exists without a conda is refused in the plan, and nothing runs', async () => {
    const home = tempDir()
    mkdirSync(`${home}/miniforge3`)
    const url = `${hub.cdnUrl}/blob/Miniforge3-Linux-x86_64.sh`
    hub.requests.length = 0
    const r = await run(home, { prefix: '~/miniforge3', url, sha256 })
    expect(r.hosts[0]!.resources[0]!.error!.message).toMatch(/the directory exists but holds no conda \(no bin\/conda\); the installer will not write into it/)
    expect(hub.requests).toEqual([])
  })
})
