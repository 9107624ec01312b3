import type { Step } from '../../core/types.ts'

/** POSIX sh quoting: single quotes, with embedded single quotes closed, escaped and reopened. */
export function quote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s
  return `'${s.replaceAll("'", `'\\''`)}'`
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** The command line that runs `step` under any POSIX sh (dash, bash, zsh, busybox ash). */
export function commandLine(step: Step): string {
  if (step.argv.length === 0) throw new Error('empty argv')
  const parts: string[] = []
  if (step.cwd !== undefined) parts.push(`cd -- ${quote(step.cwd)} &&`)
  const env = Object.entries(step.env ?? {})
  if (env.length > 0) {
    parts.push('env')
    for (const [k, v] of env) {
      if (!ENV_NAME.test(k)) throw new Error(`invalid environment variable name ${JSON.stringify(k)}`)
      parts.push(quote(`${k}=${v}`))
    }
  }
  parts.push(...step.argv.map(quote))
  return parts.join(' ')
}

/** An argv as people read it in plans and logs: each word quoted the way sh would need it. */
export function showArgv(argv: string[]): string {
  return argv.map(quote).join(' ')
}
