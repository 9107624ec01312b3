import { parseArgs } from 'node:util'
import { ValidationError } from '../core/errors.ts'

export interface CliArgs {
  recipe: string
  hosts: string[]
  group?: string
  inventory?: string
  plan: boolean
  json: boolean
  diff: boolean
  verbose: boolean
  set: string[]
  only: string[]
  skip: string[]
  concurrency: number
  shard?: { index: number; count: number }
  failFast: boolean
  acceptNewHostKeys: boolean
  lockPath?: string
  verifyArtifacts: boolean
  reboot: boolean
  /** Seconds (--reboot-timeout). */
  rebootTimeout?: number
  /** Write the report as JUnit XML here too (--junit). */
  junit?: string
  /** Record the one host's facts and probe outputs here (--snapshot; a plan). */
  snapshot?: string
  /** Plan against these recorded snapshots, with no connection (--simulate). */
  simulate: string[]
  help: boolean
  version: boolean
}

export const USAGE = `Usage: npx tsx provision.ts [--recipe NAME|PATH] (--host NAME[,NAME] | --group NAME) [options]
       npx tsx provision.ts [--recipe NAME|PATH] --simulate FILE [--simulate FILE]... [options]

Converge hosts to the state a recipe describes: read, plan, apply what differs, verify.

Options:
  --recipe NAME|PATH   recipe from recipes/ by name, or a module path (default: invokeai)
  --host NAME[,NAME]   host(s) from the inventory; 'local' is this machine; user@address[:port]
                       needs no inventory (~/.ssh/config and known_hosts apply) (repeatable)
  --group NAME         every host of an inventory group
  --inventory FILE     inventory file (default: ./hosts.yaml if present)
  --plan               show what would change, change nothing (exit 0: nothing to do, 2: changes)
  --diff               show content changes (secrets redacted)
  --json               print one JSON report instead of text
  --set KEY=VALUE      set a recipe option (YAML scalar; repeatable)
  --only ID|TAG        run only these resources (repeatable, comma-separated)
  --skip ID|TAG        leave these resources out (repeatable, comma-separated)
  --concurrency N      hosts converged at once (default 10)
  --shard I/N          only the I-th of N slices of the selected hosts (hosts sorted by name)
  --fail-fast          start no further host once one has failed
  --accept-new-host-keys  trust and record the key of a host seen for the first time
                       (like StrictHostKeyChecking=accept-new; a changed key is still refused)
  --verify-artifacts   re-hash downloaded files in full even when their recorded stamp matches
  --lock-path PATH     the run lock's path on each host (default ~/.statecraft/run.lock)
  --reboot             when a host needs a restart to go on, restart it, wait for SSH to come
                       back, and go on (at most 3 restarts per host; never with --plan)
  --reboot-timeout S   seconds a restarted host may take to answer again (default 600)
  --junit FILE         also write the report as JUnit XML (Jenkins, GitLab): a testcase per
                       host and resource, with its changes and its error
  --snapshot FILE      with one --host: plan, and record that host's facts and probe outputs
                       (redacted: secrets masked, file content hashed) for --simulate
  --simulate FILE      plan against a recorded snapshot instead of a host (repeatable): no
                       connection at all; --recipe defaults to the snapshot's; exit codes as --plan,
                       and 1 when a resource is not in the snapshot ("unknown: not in snapshot")
  --verbose            print every command as it runs
  --version            print the version
  --help               print this help

Other commands:
  check [--recipe NAME|PATH] [--set KEY=VALUE]…
                       type-check the recipe (tsc --noEmit) and validate it against Linux, macOS
                       and Windows facts, without connecting to any host

Each host line ends with its round trips: the commands sent to the host and waited for (one for
facts and the run lock, one batched probe of every resource, one per change and its verify, one
to release the lock). A run that changes nothing costs 3 however many resources the recipe has.

--help --recipe NAME|PATH also lists that recipe's options (types, defaults, secret variables).

Exit codes: 0 converged / nothing to do, 2 changes pending (--plan), 1 a host failed or needs a
restart (its status is reboot-required; run again after restarting it, or use --reboot), 130 interrupted.`

const list = (vs: string[] | undefined): string[] => (vs ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean)

export function parseCli(argv: string[]): CliArgs {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        recipe: { type: 'string' },
        host: { type: 'string', multiple: true },
        group: { type: 'string' },
        inventory: { type: 'string' },
        plan: { type: 'boolean' },
        json: { type: 'boolean' },
        diff: { type: 'boolean' },
        verbose: { type: 'boolean' },
        set: { type: 'string', multiple: true },
        only: { type: 'string', multiple: true },
        skip: { type: 'string', multiple: true },
        concurrency: { type: 'string' },
        shard: { type: 'string' },
        'fail-fast': { type: 'boolean' },
        'accept-new-host-keys': { type: 'boolean' },
        'lock-path': { type: 'string' },
        'verify-artifacts': { type: 'boolean' },
        reboot: { type: 'boolean' },
        'reboot-timeout': { type: 'string' },
        junit: { type: 'string' },
        snapshot: { type: 'string' },
        simulate: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }))
  } catch (e) {
    throw new ValidationError(`${(e as Error).message}. Run with --help for the options.`)
  }
  const concurrency = values.concurrency === undefined ? 10 : Number(values.concurrency)
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ValidationError(`--concurrency must be a whole number of at least 1 (got ${JSON.stringify(values.concurrency)})`)
  }
  const args: CliArgs = {
    // Simulating, the snapshot names the recipe unless --recipe says otherwise (main.ts).
    recipe: values.recipe ?? (values.simulate ? '' : 'invokeai'),
    hosts: list(values.host),
    plan: values.plan ?? false,
    json: values.json ?? false,
    diff: values.diff ?? false,
    verbose: values.verbose ?? false,
    set: values.set ?? [],
    only: list(values.only),
    skip: list(values.skip),
    concurrency,
    failFast: values['fail-fast'] ?? false,
    acceptNewHostKeys: values['accept-new-host-keys'] ?? false,
    verifyArtifacts: values['verify-artifacts'] ?? false,
    reboot: values.reboot ?? false,
    simulate: values.simulate ?? [],
    help: values.help ?? false,
    version: values.version ?? false,
  }
  if (values['lock-path'] !== undefined) args.lockPath = values['lock-path']
  if (values['reboot-timeout'] !== undefined) {
    const t = Number(values['reboot-timeout'])
    if (!(t > 0)) throw new ValidationError(`--reboot-timeout must be a positive number of seconds (got ${JSON.stringify(values['reboot-timeout'])})`)
    args.rebootTimeout = t
  }
  if (values.junit !== undefined) args.junit = values.junit
  if (values.snapshot !== undefined) args.snapshot = values.snapshot
  if (values.shard !== undefined) args.shard = parseShard(values.shard)
  if (values.group !== undefined) args.group = values.group
  if (values.inventory !== undefined) args.inventory = values.inventory
  checkSnapshotArgs(args)
  if (!args.help && !args.version && args.hosts.length === 0 && !args.group && args.simulate.length === 0) {
    throw new ValidationError('no hosts given: use --host NAME (e.g. --host local) or --group NAME. Run with --help for the options.')
  }
  return args
}

/** --snapshot records one reachable host by planning it; --simulate plans without any host. */
function checkSnapshotArgs(a: CliArgs): void {
  if (a.snapshot !== undefined && (a.hosts.length !== 1 || a.group !== undefined)) {
    throw new ValidationError(`--snapshot records one host: give exactly one --host NAME (got ${a.group !== undefined ? `--group ${a.group}` : a.hosts.length === 0 ? 'none' : a.hosts.join(', ')})`)
  }
  if (a.snapshot !== undefined && a.simulate.length > 0) throw new ValidationError('--snapshot records a live host and --simulate plans without one: use one of them')
  if (a.simulate.length > 0 && (a.hosts.length > 0 || a.group !== undefined)) {
    throw new ValidationError('--simulate plans the hosts recorded in the snapshots: leave out --host and --group')
  }
  if (a.simulate.length > 0 && (a.reboot || a.lockPath !== undefined)) throw new ValidationError('--simulate changes nothing and takes no lock: leave out --reboot and --lock-path')
}

function parseShard(v: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v)
  const index = Number(m?.[1])
  const count = Number(m?.[2])
  if (!m || count < 1 || index < 1 || index > count) {
    throw new ValidationError(`--shard ${JSON.stringify(v)}: expected I/N with 1 <= I <= N, e.g. --shard 2/4`)
  }
  return { index, count }
}

/** 1-based shard: hosts sorted by name, host k (0-based) goes to shard k mod n + 1. */
export function shardOf<T extends { name: string }>(hosts: T[], shard: { index: number; count: number }): T[] {
  return [...hosts].sort((a, b) => a.name.localeCompare(b.name)).filter((_, k) => (k % shard.count) + 1 === shard.index)
}
