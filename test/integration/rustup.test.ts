import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { command, converge, defineRecipe, rustup, rustupRun } from '../../lib/index.ts'
import type { RustupOptions } from '../../lib/resources/rustup.ts'
import { startHub, type Hub } from '../helpers/hub.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

/**
 * The rustup resource run for real against a stand-in rustup-init served over HTTP. Like the real
 * one it installs $HOME/.cargo/bin/rustup only with -y (else it would wait for an answer, and stdin
 * is /dev/null), and its rustup answers `--version`, `toolchain list` (`(active, default)` marks),
 * `toolchain install`, `default` and `run` in rustup 1.28's shapes.
 */
const STAND_IN = `#!/bin/sh
y=0 tc=stable
while [ $# -gt 0 ]; do case "$1" in -y) y=1 ;; --profile) shift ;; --default-toolchain) tc=$2; shift ;; esac; shift; done
if [ $y = 0 ]; then echo 'Proceed with standard installation (default - just press enter)?' >&2; read -r _ || exit 3; fi
T=x86_64-unknown-linux-gnu
mkdir -p "$HOME/.cargo/bin" "$HOME/.rustup/toolchains/$tc-$T"
echo "$tc-$T" > "$HOME/.rustup/default"
cat > "$HOME/.cargo/bin/rustup" <<'EOF'
#!/bin/sh
T=x86_64-unknown-linux-gnu
case "$1" in
  --version) echo 'rustup 1.28.2 (e4f3ad6f8 2025-04-28)'; echo 'info: This is the version for the rustup toolchain manager, not the rustc compiler.' >&2 ;;
  toolchain)
    if [ "$2" = list ]; then
      d=$(cat "$HOME/.rustup/default")
      for t in $(ls "$HOME/.rustup/toolchains"); do if [ "$t" = "$d" ]; then echo "$t (active, default)"; else echo "$t"; fi; done
    elif [ "$2" = install ]; then mkdir -p "$HOME/.rustup/toolchains/$3-$T"; echo "info: syncing channel updates for '$3-$T'" >&2
    else exit 1; fi ;;
  default) echo "$2-$T" > "$HOME/.rustup/default" ;;
  run) [ -d "$HOME/.rustup/toolchains/$2-$T" ] || { echo "error: toolchain '$2-$T' is not installed" >&2; exit 1; }; tc=$2; shift 2; RUSTUP_TOOLCHAIN=$tc exec "$@" ;;
  *) echo "stand-in rustup: $*" >&2; exit 1 ;;
esac
EOF
chmod +x "$HOME/.cargo/bin/rustup"
echo 'Rust is installed now. Great!'
`

let hub: Hub
let sha256 = ''
beforeAll(async () => {
  hub = await startHub()
  sha256 = hub.addBlob('rustup-init', Buffer.from(STAND_IN)).sha256
  hub.addBlob('evil/rustup-init', Buffer.from(STAND_IN.replace('Great!', 'Great!" ; touch "$HOME/owned')))
})
afterAll(async () => hub?.close())

function run(home: string, opts: RustupOptions, marker?: string) {
  return converge({
    recipe: defineRecipe({
      name: 'r',
      resources: (ctx) => [
        rustup({ id: 'rustup', ...opts }),
        ...(marker ? [command({ id: 'old-rustc-step', argv: rustupRun('1.72.1', ['touch', marker], ctx.facts), creates: marker, after: ['rustup'] })] : []),
      ],
    }),
    hosts: [{ name: 'local', transport: localHost(home) }],
  })
}

describe('rustup with a stand-in rustup-init (real HTTP, real sh, temp HOME)', () => {
  it('installs rustup and the pinned 1.72.1 beside stable, runs a step with it, and a second run changes nothing', async () => {
    const home = tempDir()
    const url = `${hub.cdnUrl}/blob/rustup-init`
    const marker = `${home}/built-with-1.72.1`
    const r = await run(home, { toolchains: ['1.72.1'], url, sha256 }, marker)
    expect(r.hosts[0]!.resources.map((x) => x.error)).toEqual([undefined, undefined])
    expect(r.hosts[0]!.resources[0]!.changes).toEqual([
      `install rustup (rustup-init, sha256 ${sha256.slice(0, 12)}…) with the stable toolchain, profile minimal`,
      'install the 1.72.1 toolchain beside stable (rustup toolchain install 1.72.1)',
    ])
    expect(execFileSync(`${home}/.cargo/bin/rustup`, ['toolchain', 'list'], { encoding: 'utf8', env: { ...process.env, HOME: home } })).toBe(
      '1.72.1-x86_64-unknown-linux-gnu\nstable-x86_64-unknown-linux-gnu (active, default)\n',
    )
    expect(existsSync(marker)).toBe(true)
    const again = await run(home, { toolchains: ['1.72.1'], url, sha256 }, marker)
    expect(again.summary).toMatchObject({ changed: 0, unchanged: 2, failed: 0 })
    expect(readFileSync(`${home}/.rustup/default`, 'utf8')).toBe('stable-x86_64-unknown-linux-gnu\n')
  })

  it('a tampered rustup-init (sha256 mismatch) fails clearly and installs nothing', async () => {
    const home = tempDir()
    const url = `${hub.cdnUrl}/blob/${encodeURIComponent('evil/rustup-init')}`
    const r = await run(home, { url, sha256 })
    expect(r.ok).toBe(false)
    expect(r.hosts[0]!.resources[0]!.error!.message).toMatch(new RegExp(`^rustup: the installer from ${url.replaceAll('.', '\\.')} failed its check \\(sha256 [0-9a-f]{64}, expected ${sha256}\\): it was discarded and nothing was installed`))
    expect(existsSync(`${home}/.cargo`)).toBe(false)
    expect(existsSync(`${home}/owned`)).toBe(false)
  })
})
