import type { EnvSpec } from './yml.ts'

export interface CondaEnvOptions {
  /** The env's name (`conda … -n`); give this or `prefix`. */
  name?: string
  /** The env's directory (`conda … -p`); give this or `name`. */
  prefix?: string
  /**
   * The environment file ON THE HOST, e.g. `~/invokeai/environment-mac.yml` in a checkout the
   * `git` resource made. The probe reads it (up to 256 KiB) and it is checked before any conda
   * command runs; conda runs pip in its directory, where `-e .` and the `src/` checkouts live.
   * With `content`, the path it is written to.
   */
  file: string
  /**
   * The yml's text from the controller (a recipe's own environment file): checked when the
   * recipe is validated, before any host is touched, and written to `file` when it differs.
   */
  content?: string
  /** CONDA_SUBDIR for the build; default from the hardware: osx-arm64 on Apple Silicon (also under Rosetta), osx-64 on Intel Macs, linux-64, linux-aarch64, win-64. */
  subdir?: string
  /** More environment variables for the build commands (not for commands run inside). */
  env?: Record<string, string>
  /**
   * The yml's `variables:` as the recipe expects them: `condaRun` sets them explicitly on every
   * command run inside. A yml that sets one the recipe does not list (or to another value) is
   * refused, so no command runs without it.
   */
  variables?: Record<string, string>
  /** When the yml changed since the last build: 'update' (`conda env update --prune`, the default) or 'recreate' (remove, then create). */
  onDrift?: 'update' | 'recreate'
  /** The conda to use: its executable or its installation prefix; default ~/miniforge3 (the `conda` resource's default). */
  conda?: string
  /** Seconds a build may print nothing before it counts as hung (default 3600: pip compiles wheels silently). */
  idleTimeout?: number
  /** Filled in by statecraft from the facts. */
  resolved?: Resolved
}

export interface Resolved {
  conda: string
  subdir: string
  /** The yml's directory: where conda runs pip, and where src/ is. */
  dir: string
  appleSilicon: boolean
  windows: boolean
  /** `content`, checked. */
  spec?: EnvSpec
}

/** The host's yml as the probe read it; `sha256` of its bytes whenever they were read. */
export type Yml =
  | { kind: 'ok'; spec: EnvSpec; sha256: string }
  | { kind: 'broken'; line: number; problem: string; sha256: string }
  | { kind: 'absent' }
  | { kind: 'other' }
  | { kind: 'large'; size: number }

export interface CondaEnvCurrent {
  conda: boolean
  /** conda printed no JSON for `env list --json`. */
  broken?: boolean
  envPrefix?: string
  /** The sha256 recorded at the last successful build. */
  built?: string
  /** The subdir the env was built for: its stamp's, else that of the python conda linked into it. */
  builtFor?: string
  yml: Yml
}

export type CondaEnvOp = { op: 'write' } | { op: 'create' } | { op: 'update' } | { op: 'recreate' } | { op: 'conflict'; why: string }

export const label = (d: CondaEnvOptions): string => (d.name !== undefined ? d.name : (d.prefix as string))
export const who = (i: Record<string, any>): string => `conda env ${String(i.name ?? i.prefix ?? '?')}`
