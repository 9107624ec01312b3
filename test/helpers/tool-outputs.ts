/**
 * What real tools print, as the fixture tables and the replayed snapshots (scripts/replayed/) both
 * replay it: one copy, so a snapshot built from replayed outputs answers exactly what the tables test.
 */

/** `xcode-select -p` on a Mac with no developer directory (stderr). */
export const XCODE_SELECT_NO_DIR = 'xcode-select: error: unable to get active developer directory. Use `sudo xcode-select --switch path/to/Xcode.app` to select the active developer directory, or install Xcode and run this command again.\n'

/** softwareupdate -l on macOS 14 with the placeholder present. */
export const SOFTWAREUPDATE_LIST_SONOMA = `Software Update Tool

Finding available software
Software Update found the following new or updated software:
* Label: Command Line Tools for Xcode-14.3
\tTitle: Command Line Tools for Xcode, Version: 14.3, Size: 711817KiB, Recommended: YES, 
* Label: Command Line Tools for Xcode-15.3
\tTitle: Command Line Tools for Xcode, Version: 15.3, Size: 707501KiB, Recommended: YES, 
* Label: macOS Sonoma 14.4.1-23E224
\tTitle: macOS Sonoma 14.4.1, Version: 14.4.1, Size: 7520724KiB, Recommended: YES, Action: restart, 
`

/** `conda info --json` as conda 25.3 prints it (abridged to the keys around the ones read). */
export function condaInfoJson(prefix: string, platform: string): string {
  return `{
  "active_prefix": null,
  "active_prefix_name": null,
  "channels": [
    "https://conda.anaconda.org/conda-forge/${platform}",
    "https://conda.anaconda.org/conda-forge/noarch"
  ],
  "conda_build_version": "not installed",
  "conda_prefix": "${prefix}",
  "conda_shlvl": -1,
  "conda_version": "25.3.0",
  "envs": [
    "${prefix}"
  ],
  "platform": "${platform}",
  "python_version": "3.12.10.final.0",
  "root_prefix": "${prefix}",
  "root_writable": true,
  "user_agent": "conda/25.3.0 requests/2.32.3 CPython/3.12.10 Darwin/24.4.0 OSX/15.4.1 solver/libmamba conda-libmamba-solver/25.3.0 libmambapy/2.1.0"
}
`
}

export interface LaunchctlService {
  label: string
  uid: number
  /** The plist's path. */
  path: string
  argv: string[]
  cwd: string
  env: Record<string, string>
  /** stdout and stderr path. */
  log: string
}

/** `launchctl print gui/<uid>/<label>` on macOS 14 for a LaunchAgent (abridged: the same layout, fewer of the trailing lines). */
export const launchctlPrint = (o: LaunchctlService, pid = 4242, state = 'running', lastExit = '(never exited)'): string => `gui/${o.uid}/${o.label} = {
	active count = ${state === 'running' ? 1 : 0}
	path = ${o.path}
	type = LaunchAgent
	state = ${state}

	program = ${o.argv[0]}
	arguments = {
${o.argv.map((a) => `\t\t${a}\n`).join('')}	}

	working directory = ${o.cwd}

	stdout path = ${o.log}
	stderr path = ${o.log}
	inherited environment = {
		SSH_AUTH_SOCK => /private/tmp/com.apple.launchd.kD1yM3QxLs/Listeners
	}

	default environment = {
		PATH => /usr/bin:/bin:/usr/sbin:/sbin
	}

	environment = {
${Object.entries({ ...o.env, XPC_SERVICE_NAME: o.label }).map(([k, v]) => `\t\t${k} => ${v}\n`).join('')}	}

	domain = gui/${o.uid} [100008]
	asid = 100008
	minimum runtime = 10
	exit timeout = 5
	runs = 1
${state === 'running' ? `	pid = ${pid}\n` : ''}	immediate reason = speculative
	forks = 0
	execs = 1
	initialized = 1
	trampolined = 1
	started suspended = 0
	proxy started suspended = 0
	last exit code = ${lastExit}

	spawn type = daemon (3)
	jetsam priority = 40
	jetsam memory limit (active) = (unlimited)
	jetsam memory limit (inactive) = (unlimited)
	jetsamproperties = {
	}

	resource coalition = {
		ID = 1077
		type = resource
		state = active
		active count = 1
		name = ${o.label}
	}

	properties = keepalive | runatload | inferred program
}
`
