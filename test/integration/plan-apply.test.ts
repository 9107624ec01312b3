import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { command, converge, defineRecipe, directory, file, line, symlink } from '../../lib/index.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'
import { rng } from '../helpers/rng.ts'

function randomStart(dir: string, r: () => number): void {
  const pick = <T,>(xs: T[]): T => xs[Math.floor(r() * xs.length)] as T
  const conf = pick(['absent', 'same', 'other', 'mode'])
  if (conf !== 'absent') {
    mkdirSync(`${dir}/etc`, { recursive: true })
    writeFileSync(`${dir}/etc/app.conf`, conf === 'other' ? 'old\n' : 'port=9090\n')
    chmodSync(`${dir}/etc/app.conf`, conf === 'mode' ? 0o600 : 0o644)
  }
  if (r() < 0.5) {
    mkdirSync(`${dir}/data`, { recursive: true })
    chmodSync(`${dir}/data`, pick([0o700, 0o755]))
  }
  const link = pick(['absent', 'same', 'other'])
  if (link !== 'absent') symlinkSync(link === 'same' ? 'etc/app.conf' : 'elsewhere', `${dir}/current`)
  const profile = pick(['absent', 'empty', 'old', 'same', 'other-lines'])
  if (profile !== 'absent') {
    const content = { empty: '', old: 'export MODE=old\n', same: 'export MODE=new\n', 'other-lines': '# hi\nexport X=1' }[profile]
    writeFileSync(`${dir}/profile`, content as string)
  }
  if (r() < 0.5) writeFileSync(`${dir}/stamp`, '')
  if (r() < 0.5) writeFileSync(`${dir}/obsolete`, 'x')
}

const recipe = (dir: string) =>
  defineRecipe({
    name: 'agreement',
    resources: () => [
      directory({ path: `${dir}/etc`, mode: '0755' }),
      file({ path: `${dir}/etc/app.conf`, content: 'port=9090\n', mode: '0644' }),
      directory({ path: `${dir}/data`, mode: '0755' }),
      symlink({ path: `${dir}/current`, target: 'etc/app.conf' }),
      line({ path: `${dir}/profile`, match: '^export MODE=', line: 'export MODE=new' }),
      command({ id: 'stamp', argv: ['touch', `${dir}/stamp`], creates: `${dir}/stamp` }),
      file({ path: `${dir}/obsolete`, state: 'absent' }),
      command({ id: 'after-stamp', after: ['stamp'], argv: ['touch', `${dir}/after`], creates: `${dir}/after` }),
    ],
  })

describe('plan and apply agree', () => {
  it('for 40 generated starting states: apply makes exactly the planned changes, then nothing is left', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const home = tempDir()
      const dir = tempDir()
      randomStart(dir, rng(seed))
      const hosts = [{ name: 'local', transport: localHost(home) }]
      const plan = await converge({ recipe: recipe(dir), hosts, mode: 'plan' })
      const apply = await converge({ recipe: recipe(dir), hosts: [{ name: 'local', transport: localHost(home) }] })
      expect(apply.ok, `seed ${seed}: ${JSON.stringify(apply.hosts[0])}`).toBe(true)
      const planned = plan.hosts[0]!.resources
      const applied = apply.hosts[0]!.resources
      for (const [i, p] of planned.entries()) {
        const a = applied[i]!
        if (p.status === 'pending') {
          expect(p.changes[0], `seed ${seed} ${p.id}`).toMatch(/^re-checked after /)
          continue
        }
        expect({ id: a.id, status: a.status, changes: a.changes }, `seed ${seed}`).toEqual({ id: p.id, status: p.status, changes: p.changes })
      }
      const again = await converge({ recipe: recipe(dir), hosts: [{ name: 'local', transport: localHost(home) }], mode: 'plan' })
      expect(again.summary, `seed ${seed}`).toMatchObject({ changed: 0, pending: 0, failed: 0 })
    }
  })
})
