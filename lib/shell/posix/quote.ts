import type { Step } from '../../core/types.ts'

/** POSIX sh quoting: single quotes, with embedded single quotes closed, escaped and reopened. */
export function quote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s
  return `'${s.replaceAll("'", `'\\''`)}'`
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

const RESERVED = new Set(['!', '{', '}', 'case', 'do', 'done', 'elif', 'else', 'esac', 'fi', 'for', 'if', 'in', 'then', 'until', 'while'])

/** The program name: quoted whenever sh could read it as an assignment (`a=b`) or a reserved word. */
function quoteProgram(s: string): string {
  return s.includes('=') || RESERVED.has(s) ? `'${s.replaceAll("'", `'\\''`)}'` : quote(s)
}

/**
 * The command line that runs `step` under any POSIX sh (dash, bash, zsh, busybox ash). Environment
 * values are shell assignments in front of the program, not arguments of `env`: run from a script
 * on stdin (see dialect.ts) they never appear in any process's argv, where `ps` would show them.
 */
export function commandLine(step: Step): string {
  if (step.argv.length === 0) throw new Error('empty argv')
  const parts: string[] = []
  if (step.cwd !== undefined) parts.push(`cd -- ${quote(step.cwd)} &&`)
  for (const [k, v] of Object.entries(step.env ?? {})) {
    if (!ENV_NAME.test(k)) throw new Error(`invalid environment variable name ${JSON.stringify(k)}`)
    parts.push(`${k}=${quote(v)}`)
  }
  const [program, ...args] = step.argv as [string, ...string[]]
  parts.push(quoteProgram(program), ...args.map(quote))
  return parts.join(' ')
}

/** An argv as people read it in plans and logs: each word quoted the way sh would need it. */
export function showArgv(argv: string[]): string {
  return argv.map(quote).join(' ')
}

/**
 * The inverse of `quote` for one word as it prints it: single-quoted runs, `\'`, and the bare
 * characters it leaves unquoted. Anything else (expansions, spaces outside quotes) is undefined:
 * such a word is not a literal the batch may read ahead of the script.
 */
export function unquote(word: string): string | undefined {
  let out = ''
  let i = 0
  while (i < word.length) {
    const c = word[i] as string
    if (c === "'") {
      const end = word.indexOf("'", i + 1)
      if (end < 0) return undefined
      out += word.slice(i + 1, end)
      i = end + 1
    } else if (c === '\\' && word[i + 1] === "'") {
      out += "'"
      i += 2
    } else if (/[A-Za-z0-9_@%+=:,./-]/.test(c)) {
      out += c
      i++
    } else {
      return undefined
    }
  }
  return word === '' ? undefined : out
}
