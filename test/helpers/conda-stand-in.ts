import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'

/**
 * A stand-in for conda (no channel is reachable here), installed as ROOT/bin/conda. It answers
 * the subcommands the condaEnv resource uses, printing what conda 25 prints for them:
 * - `env list --json`: `{"envs": [ROOT, ROOT/envs/*, prefixes created with -p], "envs_details": {…}}`,
 *   json.dumps with indent 2 and sorted keys, with the per-env details newer condas add;
 * - `env create -n|-p … -f FILE`: `CondaValueError: prefix already exists: …` when it does, else
 *   the Channels/Platform header (Platform is CONDA_SUBDIR), conda-meta/, the pip stage and the
 *   activation banner;
 * - `env update -n|-p … -f FILE --prune`; `remove -n|-p … --all --yes`;
 * - `run -n|-p … --no-capture-output ARGV`: ARGV with CONDA_PREFIX and the env's bin/ on PATH;
 * - `info --json`: the keys the conda resource reads (conda_prefix, root_prefix, platform,
 *   conda_version) among others real conda prints, sorted, indent 2.
 * An env whose yml lists `python` gets bin/python and bin/python3 linked to the host's python3,
 * so `conda run -n X --no-capture-output python script.py` runs real Python (the e2e lab's
 * InvokeAI stand-in serves HTTP that way).
 * The pip stage stands for pip's editable checkouts: each `-e git+…#egg=NAME` of the yml becomes
 * `src/<name>` in the working directory, and one that already exists fails the build the way a
 * real pip stops at its "(i)gnore, (w)ipe, (b)ackup, (a)bort" question (the real one waits).
 * A file ROOT/fail-pip makes the pip stage fail after the checkouts, like a wheel that does not
 * build. Every build is logged to ROOT/calls.log with its CONDA_SUBDIR, PIP_EXISTS_ACTION and cwd.
 */
export const CONDA_STAND_IN = `#!/bin/sh
root=$(cd "$(dirname "$0")/.." && pwd)
platform=$(uname -m | sed 's/x86_64/linux-64/; s/aarch64/linux-aarch64/')
target() {
  case "$1" in -n) printf '%s/envs/%s' "$root" "$2" ;; -p) printf '%s' "$2" ;; *) echo "stand-in conda: expected -n or -p, got $1" >&2; exit 2 ;; esac
}
build() {
  sub=$1 t=$2 f=$3
  [ -f "$f" ] || { echo "EnvironmentFileNotFound: '$f' file not found" >&2; exit 1; }
  echo "$sub $t CONDA_SUBDIR=\${CONDA_SUBDIR:-} PIP_EXISTS_ACTION=\${PIP_EXISTS_ACTION:-} cwd=$(pwd) file=$f\${4:+ $4}" >> "$root/calls.log"
  echo 'Channels:'
  sed -n '/^channels:/,/^[a-z]/s/^ *- \\(.*\\)/ - \\1/p' "$f"
  echo "Platform: \${CONDA_SUBDIR:-$platform}"
  echo 'Collecting package metadata (repodata.json): done'
  echo 'Solving environment: done'
  mkdir -p "$t/conda-meta" "$t/bin"
  echo "==> $(date '+%Y-%m-%d %H:%M:%S') <==" >> "$t/conda-meta/history"
  echo "# cmd: $0 env $sub -f $f" >> "$t/conda-meta/history"
  echo '# conda version: 25.3.0' >> "$t/conda-meta/history"
  echo "+conda-forge/\${CONDA_SUBDIR:-$platform}::python-3.9.13-h_0_cpython" >> "$t/conda-meta/history"
  py=$(PATH=$(printf '%s' "$PATH" | sed "s#$t/bin:##g") command -v python3 || true)
  if [ -n "$py" ] && grep -Eq '^ *- *python([<>=! ]|$)' "$f"; then ln -sf "$py" "$t/bin/python"; ln -sf "$py" "$t/bin/python3"; fi
  eggs=$(sed -n 's/.*-e git+.*#egg=\\([A-Za-z0-9._-]*\\).*/\\1/p' "$f")
  if [ -n "$eggs" ]; then
    echo 'Installing pip dependencies: - Ran pip subprocess with arguments:'
    for e in $eggs; do
      d=src/$(printf '%s' "$e" | tr 'A-Z_.' 'a-z--')
      if [ -e "$d" ]; then
        echo "Pip subprocess error:" >&2
        echo "Obtaining $e: $(pwd)/$d already exists. What to do?  (i)gnore, (w)ipe, (b)ackup, (a)bort" >&2
        exit 1
      fi
      mkdir -p "$d" && echo "Obtaining $e (checked out into $d)"
    done
    if [ -e "$root/fail-pip" ]; then
      echo 'Pip subprocess error:' >&2
      echo '  error: failed to compile tokenizers v0.13.3' >&2
      echo 'CondaEnvException: Pip failed' >&2
      exit 1
    fi
  fi
  echo 'done'
  echo '#'
  echo '# To activate this environment, use'
  echo '#'
  echo "#     \\$ conda activate $t"
  echo '#'
}
case "$1 $2" in
  "info --json")
    printf '{\n  "active_prefix": null,\n  "channels": [\n    "https://conda.anaconda.org/conda-forge/%s",\n    "https://conda.anaconda.org/conda-forge/noarch"\n  ],\n' "$platform"
    printf '  "conda_prefix": "%s",\n  "conda_version": "25.3.0",\n  "default_prefix": "%s",\n  "envs_dirs": [\n    "%s/envs"\n  ],\n' "$root" "$root" "$root"
    printf '  "platform": "%s",\n  "python_version": "3.12.10.final.0",\n  "root_prefix": "%s",\n  "root_writable": true\n}\n' "$platform" "$root"
    ;;
  "env list")
    [ "$3" = --json ] || { echo 'stand-in conda: only env list --json' >&2; exit 2; }
    envs=$root
    for e in "$root"/envs/*/ $(cat "$root/registered" 2>/dev/null); do
      e=\${e%/}; [ -d "$e/conda-meta" ] && envs="$envs
$e"
    done
    printf '{\\n  "envs": ['
    sep=''
    printf '%s\\n' "$envs" | while IFS= read -r e; do printf '%s\\n    "%s"' "$sep" "$e"; sep=','; done
    printf '\\n  ],\\n  "envs_details": {'
    sep=''
    printf '%s\\n' "$envs" | while IFS= read -r e; do
      if [ "$e" = "$root" ]; then b=true n=base; else b=false n=\${e##*/}; fi
      printf '%s\\n    "%s": {\\n      "active": false,\\n      "base": %s,\\n      "frozen": false,\\n      "name": "%s",\\n      "writable": true\\n    }' "$sep" "$e" "$b" "$n"
      sep=','
    done
    printf '\\n  }\\n}\\n'
    ;;
  "env create")
    t=$(target "$3" "$4") || exit 2
    [ "$5" = -f ] || { echo 'stand-in conda: env create -n|-p X -f FILE' >&2; exit 2; }
    if [ -e "$t" ]; then echo "CondaValueError: prefix already exists: $t" >&2; exit 1; fi
    [ "$3" = -p ] && echo "$t" >> "$root/registered"
    build create "$t" "$6"
    ;;
  "env update")
    t=$(target "$3" "$4") || exit 2
    [ "$5 $7" = '-f --prune' ] || { echo 'stand-in conda: env update -n|-p X -f FILE --prune' >&2; exit 2; }
    [ -d "$t/conda-meta" ] || { echo "EnvironmentLocationNotFound: Not a conda environment: $t" >&2; exit 1; }
    build update "$t" "$6" --prune
    ;;
  "remove -n"|"remove -p")
    t=$(target "$2" "$3") || exit 2
    [ "$4 $5" = '--all --yes' ] || { echo 'stand-in conda: remove -n X --all --yes' >&2; exit 2; }
    echo "remove $t" >> "$root/calls.log"
    echo ''
    echo "Remove all packages in environment $t:"
    rm -rf -- "$t"
    ;;
  "run -n"|"run -p")
    t=$(target "$2" "$3") || exit 2
    [ -d "$t/conda-meta" ] || { echo "EnvironmentLocationNotFound: Not a conda environment: $t" >&2; exit 1; }
    [ "$4" = --no-capture-output ] || { echo 'stand-in conda: without --no-capture-output the output would not stream' >&2; exit 2; }
    shift 4
    CONDA_PREFIX=$t PATH="$t/bin:$PATH" exec "$@"
    ;;
  *) echo "stand-in conda: $* is not a subcommand it knows" >&2; exit 2 ;;
esac
`

/** Installs the stand-in as ROOT/bin/conda; returns its path. */
export function installCondaStandIn(root: string): string {
  mkdirSync(`${root}/bin`, { recursive: true })
  mkdirSync(`${root}/envs`, { recursive: true })
  const exe = `${root}/bin/conda`
  writeFileSync(exe, CONDA_STAND_IN)
  chmodSync(exe, 0o755)
  return exe
}

/** The builds the stand-in ran (create/update/remove lines), oldest first. */
export function condaCalls(root: string): string[] {
  const log = `${root}/calls.log`
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []
}
