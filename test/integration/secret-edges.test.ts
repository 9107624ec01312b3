import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { command, converge, defineRecipe, line } from '../../lib/index.ts'
import { registerSecret } from '../helpers/sweep.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

const SECRET = registerSecret(`hf_${'Z9'.repeat(10)}${Math.random().toString(36).slice(2, 10)}`)
const env = { HF_TOKEN: SECRET }

describe('secrets at the edges of what is shown', () => {
  it('a failing command printing a secret near the cut: redacted first, so no part of it survives', async () => {
    const dir = tempDir()
    // stderr ends with the secret followed by 590 characters: the last 600 begin inside the secret.
    const recipe = defineRecipe({
      name: 'leaky',
      options: { token: { secret: true, env: 'HF_TOKEN', required: true } },
      resources: ({ options }) => [
        command({ argv: ['sh', '-c', 'printf "%s%s" "$T" "$(printf "%0590d" 0)" >&2; exit 3'], env: { T: String(options.token) }, creates: `${dir}/never` }),
      ],
    })
    const r = await converge({ recipe, hosts: [{ name: 'local', transport: localHost(tempDir()) }], env })
    const msg = r.hosts[0]!.resources[0]!.error!.message
    expect(msg).toMatch(/exited with 3/)
    const json = JSON.stringify(r)
    // Any 6 consecutive characters of the secret would be a partial leak.
    for (let i = 0; i + 6 <= SECRET.length; i++) expect(json).not.toContain(SECRET.slice(i, i + 6))
  })

  it('after a rotation, the old value read back from the host is not shown: a resource holding a secret is sensitive', async () => {
    const dir = tempDir()
    const OLD = 'OLDsecret-4f9a1c2e77'
    writeFileSync(`${dir}/profile`, `# x\nexport HF_TOKEN=${OLD}\n`)
    const recipe = defineRecipe({
      name: 'rotate',
      options: { token: { secret: true, env: 'HF_TOKEN', required: true } },
      resources: ({ options }) => [line({ path: `${dir}/profile`, match: '^export HF_TOKEN=', line: `export HF_TOKEN=${String(options.token)}` })],
    })
    const hosts = [{ name: 'local', transport: localHost(tempDir()) }]
    const plan = await converge({ recipe, hosts, env, mode: 'plan', diff: true })
    expect(plan.hosts[0]!.resources[0]!.changes).toEqual([`replace line 2 of ${dir}/profile: (sensitive) with (sensitive)`])
    const applied = await converge({ recipe, hosts, env, diff: true })
    expect(applied.ok).toBe(true)
    for (const r of [plan, applied]) expect(JSON.stringify(r)).not.toMatch(/OLDsecret|4f9a1c2e77/)
    expect(readFileSync(`${dir}/profile`, 'utf8')).toBe(`# x\nexport HF_TOKEN=${SECRET}\n`)
  })
})
