import * as v from 'valibot'
import type { Step } from '../core/types.ts'
import { decodeHex } from '../shell/protocol.ts'
import { positive } from './fields.ts'
import { INSTALLER_IDLE_SECONDS, refuseConflicts } from './installer.ts'
import { defineResource } from './kit.ts'

export interface XcodeCommandLineToolsOptions {
  /** Seconds softwareupdate may print nothing before it counts as hung (default 1800). */
  idleTimeout?: number
}

interface CltCurrent {
  uid: number
  /** `xcode-select -p` succeeded: the developer directory it printed. */
  path?: string
  /** Why the tools do not count as there: what xcode-select or xcrun said. */
  problem?: string
  /** Listed only when the tools are missing: the "Command Line Tools" labels softwareupdate offers. */
  labels: string[]
}

type CltOp = { op: 'install'; label: string } | { op: 'conflict'; why: string }

/** Its presence makes `softwareupdate -l` list the Command Line Tools (what Homebrew's installer does too). */
export const CLT_PLACEHOLDER = '/tmp/.com.apple.dt.CommandLineTools.installondemand.in-progress'

/**
 * The "Command Line Tools" labels in `softwareupdate -l` output, in both shapes: macOS 10.15 and
 * later print `* Label: Command Line Tools for Xcode-15.3`, older ones
 * `   * Command Line Tools (macOS Mojave version 10.14) for Xcode-10.3`.
 */
export function cltLabels(out: string): string[] {
  const labels: string[] = []
  for (const line of out.split(/\r?\n/)) {
    const m = /^\s*\*\s+(?:Label:\s*)?(Command Line Tools.*?)\s*$/.exec(line)
    if (m) labels.push(m[1] as string)
  }
  return labels
}

const xcodeVersion = (label: string): number[] => (/Xcode-([\d.]+)/.exec(label)?.[1] ?? '0').split('.').map(Number)

/** The newest release label (betas only when nothing else is offered). */
export function pickLabel(labels: string[]): string | undefined {
  const release = labels.filter((l) => !/beta/i.test(l))
  const pool = release.length > 0 ? release : labels
  return [...pool].sort((a, b) => {
    const [x, y] = [xcodeVersion(a), xcodeVersion(b)]
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0)
    return 0
  }).pop()
}

const GUI = 'xcodeCommandLineTools: softwareupdate offers no "Command Line Tools" package to this Mac, so the headless install is not possible; ' +
  'only the GUI route is left: on the Mac itself (not over SSH), run `xcode-select --install` in Terminal and click "Install" in the dialog that opens, then run statecraft again'

/** Touch the placeholder, install the label, always remove the placeholder, then select the tools. */
const INSTALL_SCRIPT = `ph=${CLT_PLACEHOLDER}
touch "$ph" || exit 1
/usr/sbin/softwareupdate -i "$1" --verbose </dev/null
rc=$?
rm -f "$ph"
[ $rc -eq 0 ] || exit $rc
/usr/bin/xcode-select --switch /Library/Developer/CommandLineTools`

/**
 * Xcode's Command Line Tools on macOS, installed headless through softwareupdate. Present when
 * `xcode-select -p` succeeds and the tools answer (`/usr/bin/xcrun --find clang`, asked only when
 * the developer directory exists, so the probe never raises the install dialog). Installing runs
 * as root: declare it with `become: true`.
 * @example
 * xcodeCommandLineTools({ become: true })
 */
export const xcodeCommandLineTools = defineResource<XcodeCommandLineToolsOptions, CltCurrent, CltOp>({
  type: 'xcodeCommandLineTools',
  describe: () => 'xcodeCommandLineTools',
  fields: { idleTimeout: v.optional(positive('seconds')) },
  normalise(d, facts, fail) {
    if (facts.os !== 'darwin') fail('host', `is ${facts.os}: the Xcode Command Line Tools exist only on macOS; leave this resource out for this host (check facts.os in the recipe)`)
    return d
  },
  defaultId: () => 'xcodeCommandLineTools',
  parse(data): CltCurrent {
    const c: CltCurrent = { uid: Number(data.get('uid')), labels: [] }
    const printed = decodeHex(data.get('path') ?? '').trim()
    if (data.get('selectrc') === '0') c.path = printed
    if (data.get('selectrc') !== '0') c.problem = `xcode-select -p: ${printed || `exit ${data.get('selectrc')}`}`
    else if (data.get('answerrc') === undefined) c.problem = `${printed} does not exist`
    else if (data.get('answerrc') !== '0') c.problem = `xcrun --find clang: ${decodeHex(data.get('answer') ?? '').trim().split('\n')[0]}`
    if (data.has('updates')) c.labels = cltLabels(decodeHex(data.get('updates') ?? ''))
    return c
  },
  diff(_d, c) {
    if (!c.problem) return []
    const label = pickLabel(c.labels)
    if (!label) return [{ op: 'conflict', why: GUI, text: `install the Command Line Tools (${c.problem}): softwareupdate offers no "Command Line Tools" label` }]
    if (c.uid !== 0) {
      return [{ op: 'conflict', why: `xcodeCommandLineTools: softwareupdate installs as root; declare it with become: true (found ${label} to install)`, text: `install ${label} with softwareupdate (${c.problem}): needs root (become: true)` }]
    }
    return [{ op: 'install', label, text: `install ${label} with softwareupdate (${c.problem})` }]
  },
  posix: {
    probe: () => `echo "uid=$(id -u)"
sc_p=$(/usr/bin/xcode-select -p </dev/null 2>&1); echo "selectrc=$?"
printf 'path='; printf '%s' "$sc_p" | sc_hex; echo
sc_ok=0
if [ -d "$sc_p" ]; then
  sc_a=$(/usr/bin/xcrun --find clang </dev/null 2>&1); sc_rc=$?; echo "answerrc=$sc_rc"
  printf 'answer='; printf '%s' "$sc_a" | sc_hex; echo
  [ $sc_rc -eq 0 ] && sc_ok=1
fi
if [ $sc_ok -eq 0 ]; then
  sc_ph=${CLT_PLACEHOLDER}
  if [ -e "$sc_ph" ]; then sc_had=1; else sc_had=0; touch "$sc_ph" 2>/dev/null; fi
  printf 'updates='; /usr/sbin/softwareupdate -l </dev/null 2>&1 | sc_hex; echo
  [ $sc_had -eq 1 ] || rm -f "$sc_ph"
fi`,
    apply(d, _c, changes): Step[] {
      refuseConflicts(changes)
      return changes.flatMap((ch) => (ch.op === 'install' ? [{ argv: ['sh', '-c', INSTALL_SCRIPT, 'statecraft-clt', ch.label], idleTimeout: (d.idleTimeout ?? INSTALLER_IDLE_SECONDS) * 1000, label: `softwareupdate -i '${ch.label}' --verbose` }] : []))
    },
  },
  examples: ({ value }) => [{ desired: {}, current: { uid: 0, problem: 'missing', labels: [`Command Line Tools for Xcode-${value}`] } }],
})

export const xcodeCommandLineToolsType = xcodeCommandLineTools.type
