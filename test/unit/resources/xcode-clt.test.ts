import { describe, expect, it } from 'vitest'
import { CLT_PLACEHOLDER, cltLabels, pickLabel, xcodeCommandLineToolsType, type XcodeCommandLineToolsOptions } from '../../../lib/resources/xcode-clt.ts'
import { hex, none, probe, windowsFacts } from '../../helpers/facts.ts'
import { debianFacts, macArmFacts, macIntelFacts, macRosettaFacts } from '../../helpers/mac-facts.ts'
import { runCase, type Case } from '../../helpers/table.ts'
import { SOFTWAREUPDATE_LIST_SONOMA } from '../../helpers/tool-outputs.ts'

const CLT = '/Library/Developer/CommandLineTools'
/** The pre-Catalina shape (macOS 10.14): no "Label:", the label after the star. */
const LIST_MOJAVE = `Software Update Tool

Finding available software
Software Update found the following new or updated software:
   * Command Line Tools (macOS Mojave version 10.14) for Xcode-10.3
\tCommand Line Tools (macOS Mojave version 10.14) for Xcode (10.3), 199140K [recommended]
`
const LIST_NONE = 'Software Update Tool\n\nFinding available software\nNo new software available.\n'
const NO_DIR = 'xcode-select: error: unable to get active developer directory. Use `sudo xcode-select --switch path/to/Xcode.app` to select the active developer directory, or install Xcode and run this command again.\n'
const NO_TOOLS = 'xcode-select: note: No developer tools were found, requesting install.\nIf developer tools are located at a non-default location on disk, use `sudo xcode-select --switch path`, specifying the Xcode that you wish to use for command line developer tools, and cancel the installation dialog.\nSee `man xcode-select` for more details.\n'
const install = (label: string): string[] => ['sh', '-c', expect.stringContaining(`touch "$ph"`), 'statecraft-clt', label] as string[]

const cases: Case<XcodeCommandLineToolsOptions>[] = [
  {
    name: 'macOS arm64: xcode-select -p succeeds and clang answers: converged, nothing listed',
    facts: macArmFacts,
    desired: {},
    current: probe({ uid: '0', selectrc: '0', path: hex(`${CLT}\n`), answerrc: '0', answer: hex(`${CLT}/usr/bin/clang\n`), updates: undefined }),
    changes: [],
  },
  {
    name: 'macOS x86_64: Xcode.app selected and answering: converged',
    facts: macIntelFacts,
    desired: {},
    current: probe({ uid: '501', selectrc: '0', path: hex('/Applications/Xcode.app/Contents/Developer\n'), answerrc: '0', answer: hex('/Applications/Xcode.app/Contents/Developer/Toolchains/XcodeDefault.xctoolchain/usr/bin/clang\n'), updates: undefined }),
    changes: [],
  },
  {
    name: 'macOS arm64: no developer directory: the newest CLT label, installed headless',
    facts: macArmFacts,
    desired: {},
    current: probe({ uid: '0', selectrc: '2', path: hex(NO_DIR), updates: hex(SOFTWAREUPDATE_LIST_SONOMA), ...none('answerrc', 'answer') }),
    changes: ['install Command Line Tools for Xcode-15.3 with softwareupdate (xcode-select -p: xcode-select: error: unable to get active developer directory. Use `sudo xcode-select --switch path/to/Xcode.app` to select the active developer directory, or install Xcode and run this command again.)'],
    steps: [install('Command Line Tools for Xcode-15.3')],
  },
  {
    name: 'macOS arm64 under Rosetta: the directory is selected but the tools do not answer ("No developer tools were found")',
    facts: macRosettaFacts,
    desired: {},
    current: probe({ uid: '0', selectrc: '0', path: hex(`${CLT}\n`), answerrc: '1', answer: hex(NO_TOOLS), updates: hex(SOFTWAREUPDATE_LIST_SONOMA) }),
    changes: ['install Command Line Tools for Xcode-15.3 with softwareupdate (xcrun --find clang: xcode-select: note: No developer tools were found, requesting install.)'],
    steps: [install('Command Line Tools for Xcode-15.3')],
  },
  {
    name: 'macOS x86_64 (10.14): the old label shape',
    facts: macIntelFacts,
    desired: {},
    current: probe({ uid: '0', selectrc: '0', path: hex(`${CLT}\n`), updates: hex(LIST_MOJAVE), ...none('answerrc', 'answer') }),
    changes: [`install Command Line Tools (macOS Mojave version 10.14) for Xcode-10.3 with softwareupdate (${CLT} does not exist)`],
    steps: [install('Command Line Tools (macOS Mojave version 10.14) for Xcode-10.3')],
  },
  {
    name: 'no label offered: one clear error naming the GUI route',
    facts: macArmFacts,
    desired: {},
    current: probe({ uid: '0', selectrc: '2', path: hex(NO_DIR), updates: hex(LIST_NONE), ...none('answerrc', 'answer') }),
    changes: [`install the Command Line Tools (xcode-select -p: ${NO_DIR.trim()}): softwareupdate offers no "Command Line Tools" label`],
    applyError: /only the GUI route is left: on the Mac itself \(not over SSH\), run `xcode-select --install` in Terminal and click "Install" in the dialog that opens/,
  },
  {
    name: 'not root: planned, then refused (softwareupdate -i installs as root)',
    facts: macArmFacts,
    desired: {},
    current: probe({ uid: '501', selectrc: '2', path: hex(NO_DIR), updates: hex(SOFTWAREUPDATE_LIST_SONOMA), ...none('answerrc', 'answer') }),
    changes: [`install Command Line Tools for Xcode-15.3 with softwareupdate (xcode-select -p: ${NO_DIR.trim()}): needs root (become: true)`],
    applyError: /softwareupdate installs as root; declare it with become: true/,
  },
  { name: 'Debian 12: refused, macOS only', facts: debianFacts, desired: {}, error: /xcodeCommandLineTools: host is linux: the Xcode Command Line Tools exist only on macOS/ },
  { name: 'Windows 11: the standard error (no PowerShell half)', facts: windowsFacts, desired: {}, error: /not supported on windows \(the xcodeCommandLineTools resource has no PowerShell implementation\)/ },
]

describe('xcodeCommandLineTools table', () => {
  for (const c of cases) it(c.name, () => runCase(xcodeCommandLineToolsType, c))
})

describe('softwareupdate -l labels', () => {
  it('reads both shapes, skips other updates, and picks the newest release', () => {
    expect(cltLabels(SOFTWAREUPDATE_LIST_SONOMA)).toEqual(['Command Line Tools for Xcode-14.3', 'Command Line Tools for Xcode-15.3'])
    expect(cltLabels(LIST_NONE)).toEqual([])
    expect(pickLabel(['Command Line Tools for Xcode-15.3', 'Command Line Tools for Xcode-9.4'])).toBe('Command Line Tools for Xcode-15.3')
    expect(pickLabel(['Command Line Tools beta 5 for Xcode-16.0', 'Command Line Tools for Xcode-15.3'])).toBe('Command Line Tools for Xcode-15.3')
    expect(pickLabel([])).toBeUndefined()
  })

  it('the install step removes the placeholder whatever softwareupdate did, and the probe touches it only to list', () => {
    const d = xcodeCommandLineToolsType.validate({}, macArmFacts)
    const [step] = xcodeCommandLineToolsType.apply(d, { uid: 0, labels: [] }, [{ op: 'install', label: 'Command Line Tools for Xcode-15.3', text: 'x' }], macArmFacts)
    expect(step!.argv[2]).toBe(`ph=${CLT_PLACEHOLDER}\ntouch "$ph" || exit 1\n/usr/sbin/softwareupdate -i "$1" --verbose </dev/null\nrc=$?\nrm -f "$ph"\n[ $rc -eq 0 ] || exit $rc\n/usr/bin/xcode-select --switch /Library/Developer/CommandLineTools`)
    expect(step!.idleTimeout).toBe(1_800_000)
    const p = xcodeCommandLineToolsType.probe(d, macArmFacts)
    // xcrun is asked only when the developer directory exists (a shim would raise the install dialog).
    expect(p).toMatch(/if \[ -d "\$sc_p" \]; then\n  sc_a=\$\(\/usr\/bin\/xcrun --find clang/)
    expect(p).toContain('[ $sc_had -eq 1 ] || rm -f "$sc_ph"')
  })
})
