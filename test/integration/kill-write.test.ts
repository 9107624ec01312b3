import { existsSync, readdirSync, readFileSync, watch, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, startCli } from '../helpers/cli.ts'
import { tempDir } from '../helpers/tmp.ts'

const OLD = 'o'.repeat(5 * 2 ** 20)
const NEW_SIZE = 40 * 2 ** 20

function setup(): { dir: string; home: string; recipe: string; target: string } {
  const dir = tempDir()
  const target = join(dir, 'model.cfg')
  writeFileSync(target, OLD)
  const recipe = join(dir, 'recipe.ts')
  writeFileSync(recipe, `import { defineRecipe, file } from ${JSON.stringify(`${ROOT}lib/index.ts`)}
export default defineRecipe({ name: 'big', resources: () => [file({ path: ${JSON.stringify(target)}, content: 'n'.repeat(${NEW_SIZE}) })] })
`)
  return { dir, home: tempDir(), recipe, target }
}

/** The temp file the write helper creates beside the target: seen the moment it appears. */
async function whenWriting(dir: string): Promise<void> {
  await new Promise<void>((resolve) => {
    const w = watch(dir, (_e, name) => {
      if (String(name).startsWith('.statecraft.')) {
        w.close()
        resolve()
      }
    })
  })
}

const content = (p: string): 'old' | 'new' | string => {
  const s = readFileSync(p, 'latin1')
  if (s === OLD) return 'old'
  if (s.length === NEW_SIZE && !s.includes('o')) return 'new'
  return `a mix of ${s.length} bytes`
}

const settle = async (dir: string): Promise<void> => {
  // Up to 30 s: on a busy machine the writer's trap may wait long for a CPU before it removes its temp.
  for (let i = 0; i < 1200 && readdirSync(dir).some((n) => n.startsWith('.statecraft.')); i++) await new Promise((r) => setTimeout(r, 25))
}

describe('the controller killed while a file is being written', () => {
  it.each(['SIGKILL', 'SIGTERM'] as const)('%s: the target keeps its old content or gets the whole new one, never a part; no temp file stays', async (sig) => {
    const outcomes: string[] = []
    for (let trial = 0; trial < 4; trial++) {
      const { dir, home, recipe, target } = setup()
      const run = startCli(['--recipe', recipe, '--host', 'local', '--lock-path', `${dir}/lock`], { cwd: dir, home })
      await whenWriting(dir)
      run.child.kill(sig)
      const r = await run.done
      await settle(dir)
      outcomes.push(content(target))
      expect(readdirSync(dir).filter((n) => n.startsWith('.statecraft.'))).toEqual([])
      if (sig === 'SIGTERM') {
        expect(r.code).toBe(130) // interrupted, like Ctrl-C: the lock is released
        expect(existsSync(`${dir}/lock`)).toBe(false)
      }
      // The next run converges whatever the kill left.
      const again = await startCli(['--recipe', recipe, '--host', 'local', '--lock-path', `${dir}/lock`], { cwd: dir, home }).done
      expect(again.code).toBe(0)
      expect(content(target)).toBe('new')
    }
    expect(outcomes.every((o) => o === 'old' || o === 'new')).toBe(true)
    // The kill landed while the bytes were travelling at least once: the old file was kept.
    expect(outcomes).toContain('old')
  }, 120_000)
})
