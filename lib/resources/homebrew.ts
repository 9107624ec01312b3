import { ValidationError } from '../core/errors.ts'
import type { CommonOptions, Resource, Step } from '../core/types.ts'
import { cleanupStep, computed, fetchStep, INSTALLER_IDLE_SECONDS, installerPath, installerFields, type Pinned, recipeInstaller, refuseConflicts } from './installer.ts'
import { defineResource, type Declarer } from './kit.ts'

/** Homebrew's install.sh at a fixed commit of Homebrew/install, hash computed from that commit's file. */
export const HOMEBREW_INSTALL: Pinned = {
  url: 'https://raw.githubusercontent.com/Homebrew/install/ca0130bd52235f2fcb2bf23cfdda004bc5d250c1/install.sh',
  sha256: '8ff338091a5e10bb5fc040b38316648110f42feff057ecf9feaab51fd0a13ef9',
  file: 'homebrew-install-ca0130bd.sh',
}

export interface HomebrewOptions {
  /** Another install.sh (a mirror, a fork); needs sha256. */
  url?: string
  sha256?: string
  idleTimeout?: number
  /** Decided by the hardware; a recipe cannot set it. */
  prefix?: string
  resolved?: { installer: Pinned & { path: string }; appleSilicon: boolean; other: string }
}

interface HomebrewCurrent {
  uid: number
  present: boolean
  /** A brew at the other prefix (an x86_64 one in /usr/local on an Apple Silicon Mac). */
  other: boolean
}

type HomebrewOp = { op: 'install' } | { op: 'conflict'; why: string }

const ROOT = 'Homebrew refuses to run as root (its installer aborts with "Don\'t run this as root!"), and a root-owned prefix would break every later brew command'

/** The prefix Homebrew's installer uses for this hardware: /opt/homebrew on Apple Silicon, even from a Rosetta shell. */
export const brewPrefix = (appleSilicon: boolean): string => (appleSilicon ? '/opt/homebrew' : '/usr/local')

function explainInstall(r: { stderr: string; askpass?: boolean }): string | undefined {
  if (/Need sudo access on macOS/.test(r.stderr)) {
    if (r.askpass) {
      return 'homebrew: the installer could not use sudo with the become password statecraft handed it (through SUDO_ASKPASS): ' +
        'the user must be an Administrator of the Mac (sudo -l mkdir must be allowed)'
    }
    return 'homebrew: the installer needs sudo (NONINTERACTIVE=1 runs `sudo -n`, which fails when sudo asks for a password): ' +
      'give the host become settings with the password (becomePasswordEnv in the inventory, or answer the prompt on a terminal) and statecraft hands it to the installer through SUDO_ASKPASS; ' +
      'or a NOPASSWD rule for this user. The user must be an Administrator'
  }
  if (/Don't run this as root/.test(r.stderr)) return `homebrew: ${ROOT}`
  return undefined
}

const base = defineResource<HomebrewOptions, HomebrewCurrent, HomebrewOp>({
  type: 'homebrew',
  describe: () => 'homebrew',
  fields: {
    prefix: computed('is decided by the hardware (/opt/homebrew on Apple Silicon, /usr/local on Intel), as Homebrew requires; leave it out'),
    ...installerFields(),
  },
  normalise(d, facts, fail) {
    if (facts.os !== 'darwin') fail('host', `is ${facts.os}: this resource installs Homebrew on macOS only; on Linux use the distribution's packages`)
    if (facts.uid === 0) fail('host', `logs in as root: ${ROOT}; connect as the administrator who will own Homebrew`)
    const p: Pinned = recipeInstaller(d, fail) ?? HOMEBREW_INSTALL
    return { ...d, prefix: brewPrefix(facts.appleSilicon), resolved: { installer: { ...p, path: installerPath(p.file, facts) }, appleSilicon: facts.appleSilicon, other: brewPrefix(!facts.appleSilicon) } }
  },
  defaultId: () => 'homebrew',
  paths: (d) => [{ path: d.prefix as string, kind: 'directory' }],
  parse: (data) => ({ uid: Number(data.get('uid')), present: data.get('brew') === '1', other: data.get('other') === '1' }),
  diff(d, c) {
    if (c.present) return []
    const r = d.resolved as NonNullable<HomebrewOptions['resolved']>
    if (c.uid === 0) return [{ op: 'conflict', why: `homebrew: ${ROOT}; this resource ran as root (become): declare it without become (or with become: false when the host's default is become)`, text: `install Homebrew at ${d.prefix}: refused as root` }]
    const beside = c.other && r.appleSilicon ? ', beside the x86_64 Homebrew in /usr/local (left as it is)' : ''
    return [{ op: 'install', text: `install Homebrew at ${d.prefix} (NONINTERACTIVE=1 ${r.installer.file}, sha256 ${r.installer.sha256.slice(0, 12)}…)${beside}` }]
  },
  posix: {
    probe: (d) => `echo "uid=$(id -u)"
if [ -x ${d.prefix}/bin/brew ]; then echo brew=1; else echo brew=0; fi
if [ -x ${d.resolved?.other}/bin/brew ]; then echo other=1; else echo other=0; fi`,
    apply(d, _c, changes, facts): Step[] {
      refuseConflicts(changes)
      const r = d.resolved as NonNullable<HomebrewOptions['resolved']>
      // install.sh picks the prefix from uname -m: under Rosetta it would say x86_64 and install
      // an Intel Homebrew in /usr/local. arch -arm64 runs it natively.
      const arch = r.appleSilicon ? ['/usr/bin/arch', '-arm64'] : []
      return [
        fetchStep('homebrew', r.installer, r.installer.path, facts),
        // install.sh runs `sudo -A` when SUDO_ASKPASS is set: askpass hands it the become password.
        { argv: [...arch, '/bin/bash', r.installer.path], env: { NONINTERACTIVE: '1' }, askpass: true, idleTimeout: (d.idleTimeout ?? INSTALLER_IDLE_SECONDS) * 1000, label: `NONINTERACTIVE=1 /bin/bash ${r.installer.file}`, explain: explainInstall },
        cleanupStep(r.installer.path, facts),
      ]
    },
  },
  askpass: () => true,
  examples: ({ value }) => [{ desired: { url: `https://mirror.example/${encodeURIComponent(value)}/install.sh`, sha256: 'c'.repeat(64) }, current: { uid: 501, present: false, other: true } }],
})

/**
 * Homebrew at the prefix the hardware decides (/opt/homebrew on Apple Silicon, also from a
 * Rosetta shell; /usr/local on Intel), installed with its official install.sh (pinned, checked)
 * and NONINTERACTIVE=1 when missing; the installer's own `sudo` gets the run's become password through
 * a SUDO_ASKPASS helper when the host has one (Step.askpass). Never as root: `become: true` is refused here, and a root
 * probe (a host whose default is become) is refused before anything runs. Use brew by its
 * absolute path afterwards (`/opt/homebrew/bin/brew`, see brewPrefix).
 * @example
 * homebrew()
 */
export const homebrew: Declarer<HomebrewOptions, HomebrewCurrent, HomebrewOp> = Object.assign(
  (opts: HomebrewOptions & CommonOptions = {}): Resource<HomebrewOptions> => {
    if (opts.become === true) throw new ValidationError(`homebrew: become must not be true: ${ROOT}. It runs as the login user, and its installer calls sudo itself (with the become password through SUDO_ASKPASS)`)
    return base(opts)
  },
  { type: base.type },
)

export const homebrewType = base.type
