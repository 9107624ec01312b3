/** Shared shapes of the resource model. Everything here is data; behaviour lives in the engine. */
import { recordSite } from './site.ts'

export type OsName = 'linux' | 'darwin' | 'windows'
export type Dialect = 'posix' | 'powershell'

/** What the first exec learns about a host. Recipes branch on these, never on the controller. */
export interface Facts {
  os: OsName
  /** Normalised CPU architecture: 'x64', 'arm64', or what `uname -m` printed. */
  arch: string
  /** True on Apple Silicon even when the shell runs under Rosetta (where uname -m says x86_64). */
  appleSilicon: boolean
  kernel: string
  user: string
  uid: number | null
  home: string
  hostname: string
  dialect: Dialect
  /** Changes on every boot; a lock recorded under another boot id is provably stale. */
  bootId: string
  /**
   * The OS version as the OS prints it: macOS `14.2.1` (sw_vers), Windows `10.0.22631.4391`
   * (major.minor.build.UBR from the registry), Linux the os-release `VERSION_ID` (`12`, `24.04`).
   * Undefined where none is printed (Arch, Debian testing, an older host). Compare it with
   * `versionSatisfies(facts.osVersion, '>=12.3')`.
   */
  osVersion?: string
  /** Linux only: the os-release `ID`, `VERSION_ID` and `ID_LIKE` (`{ id: 'ubuntu', version: '24.04', like: ['debian'] }`). */
  distro?: Distro
  /** Windows only: the registry's `EditionID` (`Professional`) and `DisplayVersion` (`23H2`). */
  windows?: { edition?: string; displayVersion?: string }
  /**
   * Package managers found: `apt`, `dpkg`, `dnf`, `yum`, `rpm`, `zypper`, `pacman`, `apk`, `brew`
   * (also at its absolute paths, which a non-interactive SSH PATH lacks), `winget`, `choco`,
   * `scoop`, `conda`, `mamba`, `micromamba`. Empty when none is found.
   */
  packageManagers: string[]
  /** Physical memory in bytes (Windows: the visible memory, a little less); undefined when unreadable. */
  memoryBytes?: number
  /** The CPU's name as the OS prints it; macOS only (`Apple M1 Pro`, `Intel(R) Core(TM) i9-9880H …`). */
  cpu?: string
  /** A reboot is pending: Windows' registry markers, Debian/Ubuntu's /var/run/reboot-required. */
  rebootPending: boolean
  /** Hosts with become only: whether sudo is there and works without a password (`sudo -n true`). */
  sudo?: 'nopasswd' | 'password' | 'missing'
  /**
   * The GPUs. Costly (hundreds of ms), so gathered only for a recipe that declares
   * `facts: ['gpu']` (itself or through an included recipe); undefined otherwise, and reading it
   * in a recipe that did not declare it throws a ValidationError saying so.
   */
  gpu?: GpuFacts
}

/** Facts that cost time to gather; a recipe lists those it reads in `defineRecipe({ facts: [...] })`. */
export type CostlyFact = 'gpu'
export const COSTLY_FACTS: readonly CostlyFact[] = ['gpu']

export interface Distro {
  /** os-release `ID`: `debian`, `ubuntu`, `fedora`, `arch`. */
  id: string
  /** os-release `VERSION_ID`; undefined on rolling releases. */
  version?: string
  /** os-release `ID_LIKE`, split: `['debian']` on Ubuntu, `['rhel', 'fedora']` on Rocky. */
  like: string[]
}

export interface GpuDevice {
  /** As the vendor's tool names it: `NVIDIA H100 80GB HBM3`, `Apple M1 Pro`; a PCI id when no tool names it. */
  name: string
  /** Dedicated memory; undefined for Apple's unified memory or when no tool reports it. */
  memoryBytes?: number
}

export interface GpuFacts {
  /** Whose GPUs were found: NVIDIA (nvidia-smi or a PCI id), AMD (PCI id or WMI), Apple Silicon; 'none' otherwise. */
  vendor: 'nvidia' | 'amd' | 'apple' | 'none'
  devices: GpuDevice[]
  /** NVIDIA driver version, `580.159.04`. */
  driver?: string
  /** The CUDA version the NVIDIA driver supports, `13.0` (not the toolkit's nvcc). */
  cuda?: string
  /** What the tool said when it found the vendor's GPU but listed no device (a driver that is not loaded). */
  problem?: string
}

/** What a change does, with its data: `{ op: 'chmod', mode: '0755' }`. Each resource has its own union. */
export interface ChangeOp {
  op: string
}

/** What a change says to people, and the content it changes (for `--diff`). */
export interface ChangeText {
  /** Worded as the action that fixes the difference; shown in plans and reports, never parsed. */
  text: string
  /** Old and new content, for `--diff`. */
  before?: string
  after?: string
  path?: string
}

/**
 * One difference between the current and the desired state: the operation that fixes it (what
 * `apply` switches on) and its text for people. `Change` alone is what the engine handles.
 */
export type Change<O extends ChangeOp = ChangeOp> = O & ChangeText

/** What a command reads on stdin: text, bytes, or a controller-side file from an offset (streamed). */
export type StdinSource = string | Uint8Array | { file: string; start: number }

/** A command to run on the host: always an argv array, quoted by the host's dialect. */
export interface Step {
  argv: string[]
  cwd?: string
  env?: Record<string, string>
  /** Text, bytes, or a controller-side file streamed from an offset. */
  stdin?: StdinSource
  /** Milliseconds; the command is killed after this. */
  timeout?: number
  /** Milliseconds without any output after which the command is killed (long work is bounded by progress). */
  idleTimeout?: number
  /** Milliseconds a command may stay silent after printing what looks like a prompt (default 10 s). */
  promptTimeout?: number
  /** How logs and errors name the step when argv is a helper script. */
  label?: string
  /** On PowerShell hosts: PowerShell code to run instead of argv (data embedded, no stdin). */
  psScript?: string
  /** Runs on the controller before the command (e.g. fills the download cache the stdin reads). */
  prepare?: () => Promise<void>
  /** Set by the engine: receives `statecraft-progress BYTES TOTAL` lines the command prints on stderr. */
  progress?: (bytes: number, total?: number) => void
  /** Figures for the report, read from the command's stdout (e.g. bytes transferred). */
  details?: (stdout: string) => Record<string, number | string>
  /**
   * The command may call `sudo -A` itself (an installer that escalates on its own): on a POSIX
   * host, the run's become password reaches it through a SUDO_ASKPASS helper (shell/posix/askpass.ts).
   * Its resource type says so with `askpass`, so that the password is settled before the first change.
   */
  askpass?: boolean
  /**
   * Turns a failure into a clearer message (e.g. a gated model); undefined keeps the default.
   * `askpass`: whether the become password was handed to the step through SUDO_ASKPASS.
   */
  explain?: (r: { code: number | null; stderr: string; askpass?: boolean }) => string | undefined
  /**
   * Exit codes that mean "done, and the host must restart to complete it": the host's run stops
   * there as reboot required. Windows hosts add the installers' 3010 and 1641 to these.
   */
  rebootExitCodes?: number[]
  /**
   * Finishes promptly, reads no input and prints nothing the engine needs (mkdir, chmod, ln): the
   * engine may run it with the steps of other independent resources in one exec, unwatched.
   */
  quick?: boolean
  /**
   * The step is an atomic write of these bytes (shell/posix/write.ts): the engine may write many
   * small files in one exec instead, with the same guarantees (shell/posix/apply-batch.ts).
   */
  write?: { path: string; bytes: Uint8Array; mode: string; owner?: string; fresh?: boolean }
}

/** Run-wide switches a probe may need. */
export interface RunFlags {
  /** Hash artifacts in full even when their stamp matches. */
  verifyArtifacts: boolean
}

/** Key/value lines a probe snippet printed, already split and decoded. */
export type ProbeData = Map<string, string>

/** Options every resource accepts, next to its own fields. */
export interface CommonOptions {
  /** Stable id; defaults to `<type>:<path or name>`. */
  id?: string
  /** Ids of resources that must be converged first; this one is re-checked after they change. */
  after?: string[]
  /**
   * Ids of resources to notify when this one changes: handlers (a command with `onlyIfNotified`)
   * or any resource whose type can be notified (it then also makes its `notified` change).
   */
  notify?: string[]
  /** Labels for `--only` / `--skip`. */
  tags?: string[]
  /** Run with privileges (sudo) — or, set false, as the login user even on a `become` host. */
  become?: boolean
}

/** A path a resource manages, used to add implicit ordering edges. */
export interface ManagedPath {
  path: string
  /** 'uses': read or run in, not managed (a command's cwd); ordered after a directory holding or being it. */
  kind: 'directory' | 'file' | 'uses'
}

/** A desired state (and, for apply, a current one) that the shell lint tests run a type with. */
export interface Example<D = any, C = any> {
  desired: D
  current?: C
}

/**
 * The contract every resource family implements (`defineResource` in resources/kit.ts builds it).
 * `probe` returns a snippet in the host's dialect that prints `key=value` lines; values that can
 * hold arbitrary bytes are hex encoded by the snippet.
 */
export interface ResourceType<D, C, O extends ChangeOp = ChangeOp> {
  type: string
  defaultId(d: D): string
  /** Throws ValidationError naming the field; returns the normalised desired state. */
  validate(d: D, facts: Facts): D
  paths(d: D): ManagedPath[]
  probe(d: D, facts: Facts, run?: RunFlags): string
  parse(data: ProbeData, d: D): C
  /** Pure. Empty when converged. Only properties the author set are compared. */
  diff(d: D, c: C): Change<O>[]
  /** Pure: the steps for `changes`, chosen by their `op`. `c` is undefined for a handler (never probed). */
  apply(d: D, c: C, changes: Change<O>[], facts: Facts): Step[]
  /** True for resources that only act when notified (handlers). */
  onlyIfNotified?(d: D): boolean
  /** The change to make when a resource that notifies this one changed; absent: cannot be notified. */
  notified?(d: D, by: string[]): Change<O>
  /**
   * True when its own changes in this run already do what being notified would (a service that is
   * started or restarted anyway, an env just built): the notified change is then left out, so a
   * first install does not start a service and restart it at once.
   */
  notifiedCoveredBy?(own: Change<O>[]): boolean
  /**
   * Its steps may run sudo themselves (Step.askpass): before the first change of such a resource,
   * the engine settles the run's become password, to hand it to them through SUDO_ASKPASS.
   */
  askpass?(d: D): boolean
  /** Values to redact from diffs and messages. */
  secrets?(d: D): string[]
  /**
   * What the probe could not check (a hub or git remote out of reach: `--plan` must work without
   * network): shown as the host's warnings, never a failure. Pure, from the probed state.
   */
  warnings?(d: D, c: C): string[]
  /**
   * The same desired state with its content hidden from plans and diffs. The engine uses it when
   * the desired state holds a secret: what is read back from the host (the value before a rotation)
   * may be one too, and only the new value is known to redact.
   */
  markSensitive?(d: D): D
  /**
   * What a snapshot (`--snapshot`) keeps of this probe's output: file content the plan does not
   * need in full is replaced by what it does need (a hash, a size). Absent: kept as printed
   * (secrets are masked either way). The result must parse to the same diff texts.
   */
  snapshotProbe?(data: ProbeData, d: D): ProbeData
  /**
   * Desired states built around a path and an arbitrary (hostile) value, for the shell lint tests;
   * `current` is what apply is run against.
   */
  examples?(v: { path: string; value: string }): Example<D, C>[]
}

/** A resource as a recipe declares it: the type, the author's data and the common options. */
export interface Resource<D = any> {
  readonly kind: ResourceType<D, any, any>
  readonly desired: D
  readonly id?: string
  readonly after: string[]
  readonly notify: string[]
  readonly tags: string[]
  readonly become?: boolean
}

export function declare<D extends object>(kind: ResourceType<D, any, any>, input: D & CommonOptions): Resource<D> {
  const { id, after, notify, tags, become, ...desired } = input
  const r: Resource<D> = {
    kind,
    desired: desired as D,
    id,
    ...(become !== undefined ? { become } : {}),
    after: after ?? [],
    notify: notify ?? [],
    tags: tags ?? [],
  }
  recordSite(r)
  return r
}
