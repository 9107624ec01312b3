import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, startCli } from '../helpers/cli.ts'
import { bytes, startHub, type Hub } from '../helpers/hub.ts'
import { tempDir } from '../helpers/tmp.ts'
import { rng } from '../helpers/rng.ts'

let hub: Hub
const MODEL = bytes(3 * 1024 * 1024 + 11, 9)
beforeAll(async () => {
  hub = await startHub()
  hub.addBlob('model.ckpt', MODEL)
})
afterAll(async () => hub?.close())

const OLD = { conf: 'old-conf\n'.repeat(100_000), profile: '# profile\nexport MODE=old\n' }
const NEW_CONF = 'new-conf\n'.repeat(400_000)

/**
 * An apply that writes a large file, edits a profile line, runs a slow command twice guarded (each
 * run checks that no other copy of it runs) and downloads a checkpoint from a slow CDN.
 */
function setup(dir: string): string {
  writeFileSync(join(dir, 'app.conf'), OLD.conf)
  writeFileSync(join(dir, 'profile'), OLD.profile)
  const recipe = join(dir, 'recipe.ts')
  writeFileSync(recipe, `import { command, defineRecipe, download, file, line } from ${JSON.stringify(`${ROOT}lib/index.ts`)}
const dir = ${JSON.stringify(dir)}
// Each copy records its pid; one that starts while an earlier copy still runs records the overlap
// (a killed copy may linger as a zombie when PID 1 does not reap: that one has ended).
const slow = ['sh', '-c', 'for p in $(cat "$0/pids" 2>/dev/null); do case $(ps -o stat= -p "$p" 2>/dev/null) in ""|Z*) ;; *) echo overlap >> "$0/overlaps" ;; esac; done; echo $$ >> "$0/pids"; sleep 0.6; touch "$0/built"', dir]
export default defineRecipe({ name: 'kill-me', resources: () => [
  file({ path: dir + '/app.conf', content: ${JSON.stringify(NEW_CONF)} }),
  line({ path: dir + '/profile', match: '^export MODE=', line: 'export MODE=new' }),
  command({ id: 'build', argv: slow, creates: dir + '/built' }),
  download({ url: ${JSON.stringify(`${hub.hubUrl}/m/resolve/main/model.ckpt`)}, dest: dir + '/model.ckpt' }),
] })
`)
  return recipe
}

describe('the controller SIGKILLed at random moments of an apply', () => {
  it('leaves every file old or new, never runs a step twice at once, and the next run converges', async () => {
    const seed = Number(process.env.KILL_SEED ?? Date.now() % 100_000)
    const random = rng(seed)
    for (let i = 0; i < 16; i++) {
      const dir = tempDir()
      const home = tempDir()
      const recipe = setup(dir)
      const args = ['--recipe', recipe, '--host', 'local', '--lock-path', `${dir}/lock`]
      hub.cdnModes.push('slow')
      const run = startCli(args, { cwd: dir, home })
      // tsx start-up is ~1 s; the apply itself about 3 s: kill anywhere in 0.3 .. 4.3 s.
      const at = 300 + Math.floor(random() * 4000)
      await new Promise((r) => setTimeout(r, at))
      run.child.kill('SIGKILL')
      await run.done
      const where = `seed ${seed}, kill ${i} at ${at} ms`
      const conf = readFileSync(join(dir, 'app.conf'), 'utf8')
      expect([OLD.conf, NEW_CONF].includes(conf), `${where}: app.conf is a mix (${conf.length} bytes)`).toBe(true)
      const profile = readFileSync(join(dir, 'profile'), 'utf8')
      expect([OLD.profile, '# profile\nexport MODE=new\n'].includes(profile), `${where}: profile is ${JSON.stringify(profile)}`).toBe(true)
      if (existsSync(join(dir, 'model.ckpt'))) expect(readFileSync(join(dir, 'model.ckpt')).equals(MODEL), `${where}: a partial checkpoint was put in place`).toBe(true)
      // Straight away, as a user would: the re-run must not overlap what the killed one started.
      hub.cdnModes.length = 0
      const again = await startCli(args, { cwd: dir, home }).done
      expect(again.code, `${where}: the re-run failed:\n${again.stdout}${again.stderr}`).toBe(0)
      expect(existsSync(join(dir, 'overlaps')), `${where}: two copies of the build step ran at once`).toBe(false)
      expect(readFileSync(join(dir, 'app.conf'), 'utf8') === NEW_CONF && readFileSync(join(dir, 'model.ckpt')).equals(MODEL)).toBe(true)
    }
    // A bound against hangs, not a speed check: each kill and re-run starts the CLI twice, 5-15 s
    // a pair on a 2-core machine that is busy with other test files.
  }, 480_000)
})
