import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, symlinkSync } from 'node:fs'
import { promisify } from 'node:util'
import { ROOT } from './cli.ts'
import { tempDir } from './tmp.ts'

/** The third-party resource package of issue 7: plain JavaScript importing statecraft/kit only. */
export const EXT_FIXTURE = `${ROOT}test/fixtures/ext-resource`

/**
 * A consumer project as npm would lay it out: this project linked as node_modules/statecraft
 * (its `exports` point into dist/), the fixture copied in as node_modules/statecraft-marker.
 * Copied, not linked: Node resolves a linked package's imports from its real path, where no
 * node_modules/statecraft exists — an installed package sits beside its peer.
 */
export function extConsumer(): string {
  if (!existsSync(`${ROOT}dist/lib/kit.js`)) throw new Error('dist/ is missing: run npm run build first (npm test does)')
  const dir = tempDir('sc-ext-')
  mkdirSync(`${dir}/node_modules`)
  symlinkSync(ROOT.replace(/\/$/, ''), `${dir}/node_modules/statecraft`, 'dir')
  cpSync(EXT_FIXTURE, `${dir}/node_modules/statecraft-marker`, { recursive: true })
  return dir
}

const run = promisify(execFile)

/** Plain Node (no tsx, no loader flags inherited from the test runner, no ssh-agent). */
export async function plainNode(args: string[], cwd: string, home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, NO_COLOR: '1' }
  delete env.NODE_OPTIONS
  delete env.SSH_AUTH_SOCK
  try {
    const r = await run(process.execPath, args, { cwd, env })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string }
    return { code: x.code, stdout: x.stdout, stderr: x.stderr }
  }
}
