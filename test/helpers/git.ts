import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** git with a fixed identity and no user or system config, so tests never read the machine's. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=statecraft-test', '-c', 'user.email=test@statecraft.invalid', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', HOME: cwd },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString().trim()
}

export interface TestRepo {
  bare: string
  work: string
  commits: Record<string, string>
  /** Commits `file` with `content` on the current branch of the work clone and pushes it. */
  push(branch: string, file: string, content: string): string
}

/**
 * A bare repository with history: v1.0 (annotated tag) -> v2.0 (lightweight tag) -> main,
 * and a dev branch off main. The checkout ignores models/*.ckpt, like InvokeAI's.
 */
export function makeRepo(root: string): TestRepo {
  const bare = join(root, 'origin.git')
  const work = join(root, 'work')
  mkdirSync(work, { recursive: true })
  git(root, 'init', '-q', '--bare', bare)
  git(work, 'init', '-q')
  git(work, 'remote', 'add', 'origin', bare)
  const commit = (file: string, content: string, msg: string): string => {
    mkdirSync(join(work, file, '..'), { recursive: true })
    writeFileSync(join(work, file), content)
    git(work, 'add', '-A')
    git(work, 'commit', '-q', '-m', msg)
    return git(work, 'rev-parse', 'HEAD')
  }
  writeFileSync(join(work, '.gitignore'), 'models/**/*.ckpt\n')
  const c1 = commit('README.md', 'v1\n', 'one')
  git(work, 'tag', '-a', 'v1.0', '-m', 'release 1.0')
  const c2 = commit('environment-mac.yml', 'name: invokeai\n', 'two')
  git(work, 'tag', 'v2.0')
  const c3 = commit('README.md', 'v3\n', 'three')
  git(work, 'push', '-q', 'origin', 'main', '--tags')
  git(work, 'checkout', '-q', '-b', 'dev')
  const c4 = commit('dev.txt', 'dev\n', 'four')
  git(work, 'push', '-q', 'origin', 'dev')
  git(work, 'checkout', '-q', 'main')
  return {
    bare,
    work,
    commits: { c1, c2, c3, c4 },
    push(branch, file, content) {
      git(work, 'checkout', '-q', branch)
      const sha = commit(file, content, `update ${file}`)
      git(work, 'push', '-q', 'origin', branch)
      return sha
    },
  }
}

export const head = (dir: string): string => git(dir, 'rev-parse', 'HEAD')
