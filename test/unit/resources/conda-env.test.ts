import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { Facts } from '../../../lib/core/types.ts'
import { condaEnv, condaEnvType, type CondaEnvOptions } from '../../../lib/resources/conda-env/conda-env.ts'
import { condaRun } from '../../../lib/resources/conda-env/run.ts'
import { parseEnvFile, sha256Of } from '../../../lib/resources/conda-env/yml.ts'
import { command } from '../../../lib/resources/command.ts'
import { hex, none, probe, psHex, windowsFacts } from '../../helpers/facts.ts'
import { shellcheck } from '../../helpers/lint.ts'
import { debianArmFacts, debianFacts, macArmFacts, macIntelFacts, macRosettaFacts } from '../../helpers/mac-facts.ts'
import { psScriptOf, runCase, type Case } from '../../helpers/table.ts'

const MAC_YML = readFileSync(new URL('../../fixtures/invokeai-2.0/environment-mac.yml', import.meta.url))
const LINUX_YML = readFileSync(new URL('../../fixtures/invokeai-2.0/environment.yml', import.meta.url))
const MAC_SHA = sha256Of(MAC_YML)
const LINUX_SHA = sha256Of(LINUX_YML)
const OLD = 'c0ffee'.padEnd(64, '0')
const MPS = { PYTORCH_ENABLE_MPS_FALLBACK: '1' }
const EGGS = ['taming-transformers', 'clip', 'k_diffusion', 'k-diffusion', 'gfpgan']

/** `conda env list --json` as conda 25 prints it (json.dumps, indent 2, sorted keys, with envs_details). */
function envList(...envs: string[]): string {
  const details = Object.fromEntries(envs.map((e, i) => [e, { active: false, base: i === 0, frozen: false, name: i === 0 ? 'base' : (e.split(/[\\/]/).pop() as string), writable: true }]))
  return `${JSON.stringify({ envs, envs_details: details }, null, 2)}\n`
}
/** The stamp the resource writes after a successful build. */
const stampOf = (sha: string): string => `${JSON.stringify({ sha256: sha, file: 'x', subdir: 'osx-arm64', variables: MPS })}\n`

interface State {
  yml?: Buffer | string | 'absent'
  envs?: string
  envprefix?: string
  stamp?: string
  /** The subdir of the python in conda-meta/history. */
  pysubdir?: string
  conda?: boolean
  ps?: boolean
}

/** What the probe prints in a state: hex as the POSIX od pipe (lower case) or PowerShell (upper case) prints it. */
function state(s: State) {
  const h = s.ps ? psHex : hex
  const out: Record<string, string | undefined> = {}
  if (s.yml === 'absent') Object.assign(out, { ymlkind: 'absent' })
  else Object.assign(out, { ymlkind: 'file', yml: h(String(s.yml ?? '')), ymlsize: undefined })
  if (s.conda === false) return probe({ conda: '0', ...out })
  Object.assign(out, { conda: '1', envs: h(s.envs ?? '') })
  if (s.envprefix === undefined) return probe({ ...out, ...none('envprefix') })
  return probe({ ...out, envprefix: h(s.envprefix), pysubdir: s.pysubdir, stamp: s.stamp === undefined ? undefined : h(s.stamp) })
}

const MAC = { conda: '/Users/ana/miniforge3/bin/conda', file: '/Users/ana/invokeai/environment-mac.yml', repo: '/Users/ana/invokeai', env: '/Users/ana/miniforge3/envs/invokeai' }
const macDesired: CondaEnvOptions = { name: 'invokeai', file: '~/invokeai/environment-mac.yml', variables: MPS }
const macWhat = (subdir: string): string => `conda env invokeai with ${MAC.conda} (CONDA_SUBDIR=${subdir}) from ${MAC.file} (sha256 ${MAC_SHA})`
const clean = (repo: string): string[] => ['sh', '-c', expect.stringContaining('rm -rf -- "$d/src/$e"'), 'statecraft-conda-src', repo, ...EGGS] as string[]
const stampStep = (conda: string, name: string, prefix: string, sha: string): string[] =>
  ['sh', '-c', expect.stringContaining('statecraft-env.json'), 'statecraft-conda-stamp', conda, name, prefix, expect.stringContaining(`"sha256":"${sha}"`)] as string[]
const ARM = ['/usr/bin/arch', '-arm64']
const missing = state({ yml: MAC_YML, envs: envList('/Users/ana/miniforge3') })
const built = (stamp: string | undefined, pysubdir = 'osx-arm64') => state({ yml: MAC_YML, envs: envList('/Users/ana/miniforge3', MAC.env), envprefix: MAC.env, pysubdir, ...(stamp ? { stamp } : {}) })

const cases: Case<CondaEnvOptions>[] = [
  {
    name: 'macOS arm64: env missing: stale src/ checkouts removed, created with CONDA_SUBDIR=osx-arm64 under arch -arm64, hash recorded',
    facts: macArmFacts,
    desired: macDesired,
    current: missing,
    changes: [`create ${macWhat('osx-arm64')}: missing`],
    steps: [clean(MAC.repo), [...ARM, MAC.conda, 'env', 'create', '-n', 'invokeai', '-f', MAC.file], stampStep(MAC.conda, 'invokeai', '', MAC_SHA)],
  },
  {
    name: 'macOS arm64 under Rosetta (uname -m says x86_64): still osx-arm64 and arch -arm64: the hardware decides',
    facts: macRosettaFacts,
    desired: macDesired,
    current: missing,
    changes: [`create ${macWhat('osx-arm64')}: missing`],
    steps: [clean(MAC.repo), [...ARM, MAC.conda, 'env', 'create', '-n', 'invokeai', '-f', MAC.file], stampStep(MAC.conda, 'invokeai', '', MAC_SHA)],
  },
  {
    name: 'macOS Intel: osx-64, no arch prefix',
    facts: macIntelFacts,
    desired: macDesired,
    current: missing,
    changes: [`create ${macWhat('osx-64')}: missing`],
    steps: [clean(MAC.repo), [MAC.conda, 'env', 'create', '-n', 'invokeai', '-f', MAC.file], stampStep(MAC.conda, 'invokeai', '', MAC_SHA)],
  },
  { name: 'macOS arm64: the recorded hash is the yml\'s: converged', facts: macArmFacts, desired: macDesired, current: built(stampOf(MAC_SHA)), changes: [] },
  {
    name: 'macOS arm64: the yml changed: update --prune, naming the old and the new hash',
    facts: macArmFacts,
    desired: macDesired,
    current: built(stampOf(OLD)),
    changes: [`update ${macWhat('osx-arm64')} with --prune: yml changed, was ${OLD}`],
    steps: [clean(MAC.repo), [...ARM, MAC.conda, 'env', 'update', '-n', 'invokeai', '-f', MAC.file, '--prune'], stampStep(MAC.conda, 'invokeai', '', MAC_SHA)],
  },
  {
    name: 'macOS arm64: an env built by hand (no record): updated, saying so',
    facts: macArmFacts,
    desired: macDesired,
    current: built(undefined),
    changes: [`update ${macWhat('osx-arm64')} with --prune: no record of the yml it was built from`],
    steps: [clean(MAC.repo), [...ARM, MAC.conda, 'env', 'update', '-n', 'invokeai', '-f', MAC.file, '--prune'], stampStep(MAC.conda, 'invokeai', '', MAC_SHA)],
  },
  {
    name: 'macOS arm64: an env made by hand from a Rosetta shell (osx-64 python in its history): recreated, even with onDrift update',
    facts: macArmFacts,
    desired: macDesired,
    current: built(undefined, 'osx-64'),
    changes: [`recreate ${macWhat('osx-arm64')}: built for osx-64, this host needs osx-arm64; packages of another platform cannot be updated in place`],
    steps: [clean(MAC.repo), [MAC.conda, 'remove', '-n', 'invokeai', '--all', '--yes'], [...ARM, MAC.conda, 'env', 'create', '-n', 'invokeai', '-f', MAC.file], stampStep(MAC.conda, 'invokeai', '', MAC_SHA)],
  },
  {
    name: 'macOS arm64: the recorded subdir is not the one asked for (subdir osx-64 set): recreated, though the yml is the same',
    facts: macArmFacts,
    desired: { ...macDesired, subdir: 'osx-64' },
    current: built(stampOf(MAC_SHA)),
    changes: [`recreate conda env invokeai with ${MAC.conda} (CONDA_SUBDIR=osx-64) from ${MAC.file} (sha256 ${MAC_SHA}): built for osx-arm64, this host needs osx-64; packages of another platform cannot be updated in place`],
    steps: [clean(MAC.repo), [MAC.conda, 'remove', '-n', 'invokeai', '--all', '--yes'], [...ARM, MAC.conda, 'env', 'create', '-n', 'invokeai', '-f', MAC.file], stampStep(MAC.conda, 'invokeai', '', MAC_SHA)],
  },
  {
    name: "macOS arm64: onDrift 'recreate': removed, then created",
    facts: macArmFacts,
    desired: { ...macDesired, onDrift: 'recreate' },
    current: built(stampOf(OLD)),
    changes: [`recreate ${macWhat('osx-arm64')}: yml changed, was ${OLD}`],
    steps: [clean(MAC.repo), [MAC.conda, 'remove', '-n', 'invokeai', '--all', '--yes'], [...ARM, MAC.conda, 'env', 'create', '-n', 'invokeai', '-f', MAC.file], stampStep(MAC.conda, 'invokeai', '', MAC_SHA)],
  },
  {
    name: 'macOS: a broken yml fails naming the host path and the line, before any conda command',
    facts: macArmFacts,
    desired: macDesired,
    current: state({ yml: 'name: invokeai\ndependencies:\n  - python==3.9.13\n  pip: [\n', envs: envList('/Users/ana/miniforge3') }),
    changes: [`build conda env invokeai from ${MAC.file}: ${MAC.file} line 4 is broken`],
    applyError: new RegExp(`^conda env invokeai: ${MAC.file} line 4: .+\\. Nothing was run; fix the file$`),
  },
  {
    name: "macOS: the yml's variables: not declared on the resource: refused, saying what to add",
    facts: macArmFacts,
    desired: { name: 'invokeai', file: '~/invokeai/environment-mac.yml' },
    current: missing,
    changes: [`build conda env invokeai from ${MAC.file}: its variables are not declared`],
    applyError: /sets PYTORCH_ENABLE_MPS_FALLBACK=1 for commands run inside, and condaRun would not .*add variables: \{ PYTORCH_ENABLE_MPS_FALLBACK: "1" \} to this condaEnv/,
  },
  {
    name: 'macOS: the yml is not on the host (the clone has not run): refused, saying to order it after the clone',
    facts: macArmFacts,
    desired: macDesired,
    current: state({ yml: 'absent', envs: envList('/Users/ana/miniforge3') }),
    changes: [`build conda env invokeai from ${MAC.file}: ${MAC.file} is missing`],
    applyError: /environment-mac\.yml is not on the host: when a git resource of this recipe brings it, list that resource in after/,
  },
  {
    name: 'macOS: no conda at the default ~/miniforge3: refused, naming it',
    facts: macArmFacts,
    desired: macDesired,
    current: state({ yml: MAC_YML, conda: false }),
    changes: [`build conda env invokeai from ${MAC.file}: no conda at ${MAC.conda}`],
    applyError: /no conda at \/Users\/ana\/miniforge3\/bin\/conda: when a conda resource of this recipe installs it, list that resource in after .*; else give conda/,
  },
  {
    name: 'macOS: a conda that prints no JSON: refused',
    facts: macArmFacts,
    desired: { ...macDesired, conda: '/opt/homebrew/anaconda3' },
    current: state({ yml: MAC_YML, envs: 'Traceback (most recent call last):' }),
    changes: [`build conda env invokeai from ${MAC.file}: conda does not answer`],
    applyError: /the conda at \/opt\/homebrew\/anaconda3\/bin\/conda does not answer 'conda env list --json'/,
  },
  {
    name: 'Debian 12 x86_64: environment.yml into a prefix, CONDA_SUBDIR=linux-64, conda given as its executable',
    facts: debianFacts,
    desired: { prefix: '~/envs/invokeai', file: '/srv/invokeai/environment.yml', conda: '/opt/conda/bin/conda' },
    current: state({ yml: LINUX_YML, envs: envList('/opt/conda') }),
    changes: [`create conda env /home/ana/envs/invokeai with /opt/conda/bin/conda (CONDA_SUBDIR=linux-64) from /srv/invokeai/environment.yml (sha256 ${LINUX_SHA}): missing`],
    steps: [
      ['sh', '-c', expect.any(String), 'statecraft-conda-src', '/srv/invokeai', 'clip', 'taming-transformers', 'k_diffusion', 'k-diffusion', 'gfpgan'] as string[],
      ['/opt/conda/bin/conda', 'env', 'create', '-p', '/home/ana/envs/invokeai', '-f', '/srv/invokeai/environment.yml'],
      stampStep('/opt/conda/bin/conda', '', '/home/ana/envs/invokeai', LINUX_SHA),
    ],
  },
  {
    name: 'Debian 12 aarch64: linux-aarch64, converged when the record matches',
    facts: debianArmFacts,
    desired: { name: 'invokeai', file: '/srv/invokeai/environment.yml' },
    current: state({ yml: LINUX_YML, envs: envList('/home/ana/miniforge3', '/home/ana/miniforge3/envs/invokeai'), envprefix: '/home/ana/miniforge3/envs/invokeai', pysubdir: 'linux-aarch64', stamp: `${JSON.stringify({ sha256: LINUX_SHA, subdir: 'linux-aarch64' })}\n` }),
    changes: [],
  },
  {
    name: 'Windows 11: Scripts\\conda.exe under the prefix, win-64, PowerShell steps',
    facts: windowsFacts,
    desired: { name: 'invokeai', file: '~/invokeai/environment.yml' },
    current: state({ ps: true, yml: LINUX_YML, envs: envList('C:\\Users\\ana\\miniforge3') }),
    changes: [`create conda env invokeai with C:\\Users\\ana\\miniforge3\\Scripts\\conda.exe (CONDA_SUBDIR=win-64) from C:\\Users\\ana\\invokeai\\environment.yml (sha256 ${LINUX_SHA}): missing`],
    steps: [
      (s: string) => {
        expect(s).toContain("foreach ($e in @('clip', 'taming-transformers', 'k_diffusion', 'k-diffusion', 'gfpgan'))")
        expect(s).toContain("$t = Join-Path 'C:\\Users\\ana\\invokeai\\src' $e")
      },
      "Set-Location -LiteralPath 'C:\\Users\\ana\\invokeai'\n$env:CONDA_SUBDIR = 'win-64'\n$env:PIP_EXISTS_ACTION = 'w'\n& 'C:\\Users\\ana\\miniforge3\\Scripts\\conda.exe' 'env' 'create' '-n' 'invokeai' '-f' 'C:\\Users\\ana\\invokeai\\environment.yml'\nexit $LASTEXITCODE",
      (s: string) => {
        expect(s).toContain("$c = 'C:\\Users\\ana\\miniforge3\\Scripts\\conda.exe'")
        expect(s).toContain("-eq 'invokeai'")
        expect(s).toContain(`[IO.File]::WriteAllText((Join-Path $p 'conda-meta\\statecraft-env.json'), '{"sha256":"${LINUX_SHA}"`)
      },
    ],
  },
  {
    name: 'Windows 11: the record matches: converged',
    facts: windowsFacts,
    desired: { name: 'invokeai', file: '~/invokeai/environment.yml', conda: 'C:\\tools\\miniforge3' },
    current: state({ ps: true, yml: LINUX_YML, envs: envList('C:\\tools\\miniforge3', 'C:\\tools\\miniforge3\\envs\\invokeai'), envprefix: 'C:\\tools\\miniforge3\\envs\\invokeai', pysubdir: 'win-64', stamp: `${JSON.stringify({ sha256: LINUX_SHA, subdir: 'win-64' })}\n` }),
    changes: [],
  },
  {
    name: 'Debian 12: content from the controller, not on the host yet: written, then the env created from it',
    facts: debianFacts,
    desired: { name: 'invokeai', file: '~/invokeai/environment.yml', content: LINUX_YML.toString('utf8') },
    current: state({ yml: 'absent', envs: envList('/home/ana/miniforge3') }),
    changes: [
      `write /home/ana/invokeai/environment.yml (${LINUX_YML.length} bytes, sha256 ${LINUX_SHA}; missing)`,
      `create conda env invokeai with /home/ana/miniforge3/bin/conda (CONDA_SUBDIR=linux-64) from /home/ana/invokeai/environment.yml (sha256 ${LINUX_SHA}): missing`,
    ],
    steps: [
      ['sh', '-c', expect.stringContaining('mv -f -- "$t" "$1"'), 'statecraft-write', '/home/ana/invokeai/environment.yml', '0644', '', String(LINUX_YML.length), LINUX_SHA] as string[],
      ['sh', '-c', expect.any(String), 'statecraft-conda-src', '/home/ana/invokeai', 'clip', 'taming-transformers', 'k_diffusion', 'k-diffusion', 'gfpgan'] as string[],
      ['/home/ana/miniforge3/bin/conda', 'env', 'create', '-n', 'invokeai', '-f', '/home/ana/invokeai/environment.yml'],
      stampStep('/home/ana/miniforge3/bin/conda', 'invokeai', '', LINUX_SHA),
    ],
  },
  {
    name: 'Debian 12: content; the host copy edited by hand, the env built from the content: only written back',
    facts: debianFacts,
    desired: { name: 'invokeai', file: '~/invokeai/environment.yml', content: LINUX_YML.toString('utf8') },
    current: state({ yml: `${LINUX_YML}# local edit\n`, envs: envList('/home/ana/miniforge3', '/home/ana/miniforge3/envs/invokeai'), envprefix: '/home/ana/miniforge3/envs/invokeai', pysubdir: 'linux-64', stamp: `${JSON.stringify({ sha256: LINUX_SHA, subdir: 'linux-64' })}\n` }),
    changes: [`write /home/ana/invokeai/environment.yml (${LINUX_YML.length} bytes, sha256 ${LINUX_SHA}; was sha256 ${sha256Of(`${LINUX_YML}# local edit\n`)})`],
    steps: [['sh', '-c', expect.any(String), 'statecraft-write', '/home/ana/invokeai/environment.yml', '0644', '', String(LINUX_YML.length), LINUX_SHA] as string[]],
  },
  {
    name: 'Debian 12: content equal to the host copy and to the record: converged',
    facts: debianFacts,
    desired: { name: 'invokeai', file: '~/invokeai/environment.yml', content: LINUX_YML.toString('utf8') },
    current: state({ yml: LINUX_YML, envs: envList('/home/ana/miniforge3', '/home/ana/miniforge3/envs/invokeai'), envprefix: '/home/ana/miniforge3/envs/invokeai', pysubdir: 'linux-64', stamp: `${JSON.stringify({ sha256: LINUX_SHA, subdir: 'linux-64' })}\n` }),
    changes: [],
  },
  {
    name: 'Windows 11: content written with the PowerShell atomic replace, then built',
    facts: windowsFacts,
    desired: { name: 'tiny', file: 'C:\\envs\\tiny.yml', content: 'name: tiny\ndependencies:\n  - python=3.11\n' },
    current: state({ ps: true, yml: 'absent', envs: envList('C:\\Users\\ana\\miniforge3') }),
    changes: [`write C:\\envs\\tiny.yml (41 bytes, sha256 ${sha256Of('name: tiny\ndependencies:\n  - python=3.11\n')}; missing)`, expect.stringMatching(/^create conda env tiny with C:\\Users\\ana\\miniforge3\\Scripts\\conda\.exe \(CONDA_SUBDIR=win-64\) from C:\\envs\\tiny\.yml/) as unknown as string],
    steps: [/^\$p = 'C:\\envs\\tiny\.yml'\n/, /'env' 'create' '-n' 'tiny' '-f' 'C:\\envs\\tiny\.yml'/, /statecraft-env\.json/],
  },
  { name: 'content: a broken yml is refused when the recipe is validated, with its line', facts: debianFacts, desired: { name: 'a', file: '/srv/e.yml', content: 'name: a\ndependencies:\n  - python\n  - pip:\n    - flask\n   - eventlet\n' }, error: /^conda env a: content line 6: .+\. Nothing was run; fix the yml$/ },
  { name: 'content: variables the yml sets must be declared (checked before any host is touched)', facts: macArmFacts, desired: { name: 'invokeai', file: '~/e.yml', content: MAC_YML.toString('utf8') }, error: /variables lacks what the yml sets: PYTORCH_ENABLE_MPS_FALLBACK=1 for commands run inside/ },
  { name: 'name and prefix together: refused', facts: debianFacts, desired: { name: 'a', prefix: '/opt/a', file: '/srv/e.yml' }, error: /conda env a: name\/prefix give exactly one/ },
  { name: 'neither name nor prefix: refused', facts: debianFacts, desired: { file: '/srv/e.yml' }, error: /name\/prefix give exactly one/ },
  { name: "the base env: refused", facts: debianFacts, desired: { name: 'base', file: '/srv/e.yml' }, error: /name is 'base', conda's own installation/ },
  { name: 'a relative file: refused', facts: debianFacts, desired: { name: 'a', file: 'environment.yml' }, error: /file must be absolute or start with ~\// },
  { name: 'onDrift must be update or recreate', facts: debianFacts, desired: { name: 'a', file: '/e.yml', onDrift: 'rebuild' as never }, error: /onDrift must be 'update' or 'recreate' \(got "rebuild"\)/ },
]

describe('condaEnv table', () => {
  for (const c of cases) it(c.name, () => runCase(condaEnvType, c))
})

function stepsFor(desired: CondaEnvOptions, facts: Facts, current: ReturnType<typeof state>) {
  const d = condaEnvType.validate(desired, facts)
  const c = condaEnvType.parse(current, d)
  return condaEnvType.apply(d, c, condaEnvType.diff(d, c), facts)
}

describe('condaEnv', () => {
  it('the build runs in the repo with CONDA_SUBDIR, PIP_EXISTS_ACTION=w and the recipe env, and a generous idle timeout', () => {
    const steps = stepsFor({ ...macDesired, env: { CFLAGS: '-O2' } }, macArmFacts, missing)
    expect(steps[1]).toMatchObject({ cwd: MAC.repo, env: { CFLAGS: '-O2', CONDA_SUBDIR: 'osx-arm64', PIP_EXISTS_ACTION: 'w' }, idleTimeout: 3_600_000 })
    expect(stepsFor({ ...macDesired, idleTimeout: 7200, subdir: 'osx-64' }, macArmFacts, missing)[1]).toMatchObject({ idleTimeout: 7_200_000, env: { CONDA_SUBDIR: 'osx-64' } })
  })

  it('the stamp carries the hash, file, subdir and variables, and its scripts pass shellcheck', () => {
    const steps = stepsFor(macDesired, macArmFacts, missing)
    const stamp = JSON.parse(steps[2]!.argv.at(-1) as string)
    expect(stamp).toEqual({ sha256: MAC_SHA, file: MAC.file, subdir: 'osx-arm64', variables: MPS })
    for (const s of [steps[0]!, steps[2]!]) expect(shellcheck(`#!/bin/sh\n${s.argv[2]}`).out).toBe('')
  })

  it('a yml without editable pip entries: no src clean-up step', () => {
    const yml = 'name: tiny\ndependencies:\n  - python=3.11\n  - pip:\n    - requests\n    - -e .\n'
    const steps = stepsFor({ name: 'tiny', file: '/srv/t/environment.yml' }, debianFacts, state({ yml, envs: envList('/home/ana/miniforge3') }))
    expect(steps.map((s) => s.argv.slice(0, 3))).toEqual([['/home/ana/miniforge3/bin/conda', 'env', 'create'], ['sh', '-c', expect.any(String)]])
  })

  it('the yml at a root: pip runs in / or C:\\, never in a drive-relative C:', () => {
    const dirOf = (desired: CondaEnvOptions, facts: Facts) => condaEnvType.validate(desired, facts).resolved?.dir
    expect(dirOf({ name: 'a', file: '/environment.yml' }, debianFacts)).toBe('/')
    expect(dirOf({ name: 'a', file: 'C:\\environment.yml' }, windowsFacts)).toBe('C:\\')
    expect(dirOf({ name: 'a', file: 'C:\\ai\\environment.yml' }, windowsFacts)).toBe('C:\\ai')
  })

  it('notified: it updates, naming who notified it', () => {
    const d = condaEnvType.validate(macDesired, macArmFacts)
    expect(condaEnvType.notified?.(d, ['git:~/invokeai'])).toEqual({ op: 'update', text: `update conda env invokeai from ${MAC.file} (notified by git:~/invokeai)` })
  })

  it('orders after the conda it uses and the checkout holding its yml', () => {
    const d = condaEnvType.validate(macDesired, macArmFacts)
    expect(condaEnvType.paths(d)).toEqual([{ path: MAC.file, kind: 'uses' }, { path: MAC.conda, kind: 'uses' }])
  })

  it('the probe finds a named env through conda env list and reads the yml bounded', () => {
    const d = condaEnvType.validate(macDesired, macArmFacts)
    const p = condaEnvType.probe(d, macArmFacts)
    expect(p).toContain('sc_c=/Users/ana/miniforge3/bin/conda')
    expect(p).toContain('"$sc_c" env list --json')
    expect(p).toContain('sc_env_prefix invokeai')
    expect(p).toContain('-le 262144')
    const big = condaEnvType.parse(probe({ conda: '0', ymlkind: 'file', ymlsize: '900000' }), d)
    expect(condaEnvType.diff(d, big)[0]?.text).toBe(`build conda env invokeai from ${MAC.file}: ${MAC.file} is too large`)
  })

  it('condaRun: conda run -n … --no-capture-output, with the declared variables and PYTHONUNBUFFERED as env', () => {
    const env = condaEnv(macDesired)
    const r = condaRun(env, ['python', 'scripts/preload_models.py'], macRosettaFacts, { cwd: '~/invokeai' })
    expect(r).toEqual({ argv: [MAC.conda, 'run', '-n', 'invokeai', '--no-capture-output', 'python', 'scripts/preload_models.py'], env: { PYTHONUNBUFFERED: '1', ...MPS }, cwd: '~/invokeai' })
    // Usable as it is in a command handler.
    const cmd = command({ ...r, onlyIfNotified: true })
    expect(cmd.kind.validate(cmd.desired, macArmFacts)).toMatchObject({ argv: r.argv, env: r.env, cwd: '/Users/ana/invokeai' })
    const win = condaRun(condaEnv({ prefix: 'C:\\envs\\ai', file: 'C:\\ai\\environment.yml' }), ['python', '-V'], windowsFacts, { env: { A: 'b' } })
    expect(win).toEqual({ argv: ['C:\\Users\\ana\\miniforge3\\Scripts\\conda.exe', 'run', '-p', 'C:\\envs\\ai', '--no-capture-output', 'python', '-V'], env: { PYTHONUNBUFFERED: '1', A: 'b' } })
    expect(() => condaRun(command({ argv: ['x'], creates: '/x' }) as never, ['python'], macArmFacts)).toThrow(/expected a condaEnv resource, got a command/)
  })
})

describe('parseEnvFile', () => {
  it('the real InvokeAI 2.0 files: channels, conda and pip dependencies, editables, variables', () => {
    const mac = parseEnvFile(MAC_YML)
    if (!mac.ok) throw new Error(mac.problem)
    expect(mac.spec).toMatchObject({ name: 'invokeai', channels: ['pytorch', 'conda-forge'], variables: MPS, editables: ['taming-transformers', 'clip', 'k_diffusion', 'gfpgan'], sha256: MAC_SHA })
    expect(mac.spec.dependencies).toHaveLength(27)
    expect(mac.spec.dependencies).toContain('nomkl=1.0')
    expect(mac.spec.pip.at(-1)).toBe('-e .')
    const linux = parseEnvFile(LINUX_YML)
    if (!linux.ok) throw new Error(linux.problem)
    expect(linux.spec).toMatchObject({ channels: ['pytorch', 'defaults'], variables: {} })
    expect(linux.spec.dependencies).toEqual(['python>=3.9', 'pip=20.3', 'cudatoolkit=11.3', 'pytorch=1.11.0', 'torchvision=0.12.0', 'numpy=1.19.2'])
    expect(linux.spec.pip).toHaveLength(28)
  })

  it('problems come with their line', () => {
    const lines = (s: string): unknown => {
      const r = parseEnvFile(s)
      return r.ok ? 'ok' : [r.line, r.problem]
    }
    expect(lines('name: x\ndependancies:\n  - a\n')).toEqual([2, expect.stringContaining('has the key "dependancies", which conda does not read')])
    expect(lines('name: x\ndependencies:\n  - a\n  - pip:\n    - -e git+https://x/y.git\n')).toEqual([5, expect.stringContaining('without #egg=<name>')])
    expect(lines('name: x\ndependencies:\n  - a\nvariables:\n  - A\n')).toEqual([5, 'variables must be a mapping of NAME: value'])
    expect(lines('name: x\nchannels: conda-forge\ndependencies: []\n')).toEqual([2, 'channels must be a list of channel names'])
    expect(lines('name: x\n')).toEqual([1, 'has no dependencies: list'])
    expect(lines('name: x\ndependencies:\n  - a\n  - a: 1\n')).toEqual([4, 'a dependency must be a package spec (python==3.9.13) or a pip: block'])
    expect(lines('name: x\nname: y\ndependencies: []\n')).toEqual([2, expect.stringContaining('Map keys must be unique')])
    expect(lines('name: x\ndependencies:\n\t- python\n')).toEqual([3, expect.stringContaining('Tabs are not allowed')])
  })
})
