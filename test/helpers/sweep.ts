import { execFile } from 'node:child_process'
import { appendFileSync, existsSync, readFileSync } from 'node:fs'

/**
 * The secrets sweep. Tests register the secrets they hand to statecraft (tokens, sudo passwords);
 * for the whole run the process table is sampled and every CLI output is scanned for them: a
 * registered secret on any command line or in any output fails the suite.
 */
export const SECRETS_FILE_ENV = 'STATECRAFT_TEST_SECRETS_FILE'

/** Registers a secret for the sweep (the global setup names the file; without it, a no-op). */
export function registerSecret(secret: string): string {
  const file = process.env[SECRETS_FILE_ENV]
  if (file) appendFileSync(file, `${Buffer.from(secret).toString('base64')}\n`)
  return secret
}

export function registeredSecrets(file = process.env[SECRETS_FILE_ENV]): string[] {
  if (!file || !existsSync(file)) return []
  return [...new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => Buffer.from(l, 'base64').toString('utf8')))]
}

/** Where a registered secret shows in `text`: the secret masked, so the report leaks nothing. */
export function findSecrets(text: string, secrets: string[], where: string): string[] {
  return secrets.filter((s) => s.length >= 6 && text.includes(s)).map((s) => `${where}: secret ${s.slice(0, 2)}… (${s.length} chars) in ${JSON.stringify(text.split(s).join('********').slice(0, 300))}`)
}

/** Samples every process's command line until stopped; `hits` lists any that held a secret. */
export class ProcessSweep {
  readonly hits: string[] = []
  samples = 0
  private timer: NodeJS.Timeout | undefined
  private busy = false
  private readonly secrets: () => string[]

  constructor(secrets: () => string[]) {
    this.secrets = secrets
  }

  start(everyMs = 100): this {
    this.timer = setInterval(() => this.sample(), everyMs)
    this.timer.unref()
    return this
  }

  private sample(): void {
    if (this.busy) return
    this.busy = true
    execFile('ps', ['-eo', 'args'], { maxBuffer: 16 * 2 ** 20 }, (_e, out) => {
      this.busy = false
      this.samples++
      const secrets = this.secrets()
      for (const line of String(out ?? '').split('\n')) {
        for (const hit of findSecrets(line, secrets, 'process table')) if (!this.hits.includes(hit)) this.hits.push(hit)
      }
    })
  }

  stop(): void {
    clearInterval(this.timer)
  }
}
