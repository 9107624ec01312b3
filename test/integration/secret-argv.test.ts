import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { command, converge, defineRecipe } from '../../lib/index.ts'
import { registerSecret } from '../helpers/sweep.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

const SECRET = registerSecret(`tok-${Math.random().toString(36).slice(2)}-secret`)

/** Every command line on the machine, as `ps` shows them to any user. */
const processTable = (): string => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })

describe('a command with a secret in its env', () => {
  it('gets the value, and no process on the host ever shows it in its command line', async () => {
    const home = tempDir()
    const dir = tempDir()
    const recipe = defineRecipe({
      name: 'secret-env',
      resources: () => [
        command({
          argv: ['sh', '-c', 'printf %s "$TOK" > got; sleep 1.5; touch done'],
          cwd: dir,
          env: { TOK: SECRET },
          creates: `${dir}/done`,
          unless: ['sh', '-c', 'test "$TOK" = never'],
        }),
      ],
    })
    let seen = 0
    let leaked = ''
    const poll = setInterval(() => {
      const ps = processTable()
      seen += ps.includes('sleep 1.5') ? 1 : 0
      if (ps.includes(SECRET)) leaked = ps.split('\n').find((l) => l.includes(SECRET)) ?? ''
    }, 50)
    try {
      const r = await converge({ recipe, hosts: [{ name: 'local', transport: localHost(home) }] })
      expect(r.ok).toBe(true)
    } finally {
      clearInterval(poll)
    }
    expect(readFileSync(`${dir}/got`, 'utf8')).toBe(SECRET)
    expect(seen).toBeGreaterThan(5) // the poll really watched the command run
    expect(leaked).toBe('')
  })
})
