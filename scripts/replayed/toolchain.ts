import { condaInfoJson, SOFTWAREUPDATE_LIST_SONOMA, XCODE_SELECT_NO_DIR } from '../../test/helpers/tool-outputs.ts'
import { kv, type Replies } from './types.ts'

/**
 * The prerequisites' probes (xcodeCommandLineTools, conda, rustup, pkg by winget), answered with
 * the outputs the resources' fixture tables state: test/unit/resources/{xcode-clt,conda,rustup,
 * pkg}.test.ts and test/unit/recipes/invokeai-plan.test.ts (a fresh host of each OS).
 */

const CLT = '/Library/Developer/CommandLineTools'


/** rustup.test.ts: `rustup --version` and `rustup toolchain list` with stable and the pinned one. */
const RUSTUP_VERSION = 'rustup 1.28.2 (e4f3ad6f8 2025-04-28)\n'
const toolchains = (triple: string, eol: string): string => `stable-${triple} (active, default)${eol}1.72.1-${triple}${eol}`

/** pkg.test.ts: winget draws a spinner (CR-separated) before its table. */
const SPIN = '\r   - \r   \\ \r   | \r   / \r'
const WINGET_PATH = 'C:\\Users\\ana\\AppData\\Local\\Microsoft\\WindowsApps\\winget.exe'
const wingetList = (rows: string): string => `${SPIN}Name Id      Version  Available Source\r\n--------------------------------------\r\n${rows}`
const WINGET_NONE = `${SPIN}No installed package found matching input criteria.\r\n`
const WINGET_SHOW = `${SPIN}Found Git [Git.Git]\r\nVersion\r\n-------\r\n2.43.0\r\n`

export const toolchainReplies: Replies = (n, { facts, has, hex }) => {
  const converged = has(n.id)
  const d = n.desired as Record<string, any>
  const win = facts.os === 'windows'
  switch (n.kind.type) {
    case 'xcodeCommandLineTools':
      // Probed as root (become: true), as softwareupdate needs.
      return converged
        ? kv({ uid: '0', selectrc: '0', path: hex(`${CLT}\n`), answerrc: '0', answer: hex(`${CLT}/usr/bin/clang\n`) })
        : kv({ uid: '0', selectrc: '2', path: hex(XCODE_SELECT_NO_DIR), updates: hex(SOFTWAREUPDATE_LIST_SONOMA) })
    case 'conda': {
      if (!converged) return kv({ found: 'none', exists: '0' })
      // JSON escapes a Windows path's backslashes.
      const prefix = win ? String(d.prefix).replaceAll('\\', '\\\\') : String(d.prefix)
      return kv({ found: 'prefix', exists: '1', info: hex(condaInfoJson(prefix, d.resolved.subdir)) })
    }
    case 'rustup': {
      if (!converged) return kv({ present: '0' })
      const list = win ? toolchains('x86_64-pc-windows-msvc', '\r\n') : toolchains(facts.arch === 'arm64' ? 'aarch64-apple-darwin' : 'x86_64-apple-darwin', '\n')
      return kv({ present: '1', version: hex(RUSTUP_VERSION), toolchains: hex(list) })
    }
    case 'pkg': {
      // Only the winget row is replayed (Windows 11); a Mac's brew and Linux are recorded from real hosts.
      if (!win || d.winget !== 'Git.Git') return undefined
      return converged
        ? kv({ manager: 'winget', wingetpath: hex(WINGET_PATH), installed_0: hex(wingetList('Git  Git.Git 2.43.0            winget\r\n')) })
        : kv({ manager: 'winget', wingetpath: hex(WINGET_PATH), installed_0: hex(WINGET_NONE), available_0: hex(WINGET_SHOW) })
    }
  }
  return undefined
}
