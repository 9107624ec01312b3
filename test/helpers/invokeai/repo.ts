import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { git } from '../git.ts'
import { INVOKE, PRELOAD_MODELS } from './python.ts'

const FIXTURES = join(import.meta.dirname, '../../fixtures/invokeai-2.0')

/**
 * The real yml of InvokeAI v2.0.0 with its pip `-e git+https://github.com/…` checkouts pointed at
 * `.invalid` (a name that never resolves): nothing in it is downloadable, and nothing needs to
 * be, because the conda stand-in builds the env.
 */
export function standInYml(file: 'environment.yml' | 'environment-mac.yml'): string {
  const real = readFileSync(join(FIXTURES, file), 'utf8')
  return `# statecraft e2e stand-in, derived from InvokeAI v2.0.0's ${file}; the conda stand-in builds it.\n${real.replace(/git\+https:\/\/github\.com\//g, 'git+https://github.invalid/')}`
}

// What InvokeAI's own .gitignore keeps out of `git status`: the checkpoint and its hash, pip's
// editable checkouts (src/), outputs and the weights preload_models.py drops into the tree.
const GITIGNORE = ['__pycache__/', '*.pyc', 'outputs/', 'src/', 'models/ldm/stable-diffusion-v1/model.ckpt', 'models/ldm/stable-diffusion-v1/model.sha256', 'models/codeformer/', ''].join('\n')

/** Path -> content of the repository at v2.0.0. */
export function v200Files(): Record<string, string> {
  return {
    'README.md': '# InvokeAI stand-in\n\nShaped like InvokeAI v2.0.0 for statecraft\'s end-to-end tests; it generates nothing.\n',
    '.gitignore': GITIGNORE,
    'environment.yml': standInYml('environment.yml'),
    'environment-mac.yml': standInYml('environment-mac.yml'),
    'configs/models.yaml': readFileSync(join(FIXTURES, 'models.yaml'), 'utf8'),
    'configs/stable-diffusion/v1-inference.yaml': 'model:\n  base_learning_rate: 1.0e-04\n  target: ldm.models.diffusion.ddpm.LatentDiffusion\n',
    'scripts/preload_models.py': PRELOAD_MODELS,
    'scripts/invoke.py': INVOKE,
    'models/ldm/stable-diffusion-v1/README': 'Put the checkpoint here as model.ckpt.\n',
    'ldm/invoke/_version.py': "__version__ = '2.0.0'\n",
  }
}

export interface StandInRepo {
  /** The bare repository the git server serves. */
  bare: string
  /** Commit id of each tag, and of main. */
  commits: Record<string, string>
  /**
   * Commits `files` (path -> content) on main, tags the commit when `tag` is given, and makes
   * it visible to dumb-HTTP clients (update-server-info). Returns the commit id.
   */
  commit(message: string, files: Record<string, string>, tag?: string): string
}

/**
 * A small repository shaped like InvokeAI: v2.0.0 (annotated tag), then v2.0.1 (a later tag:
 * the version file and a README line change, the yml does not), main at v2.0.1.
 */
export function makeStandInRepo(root: string): StandInRepo {
  const bare = join(root, 'InvokeAI.git')
  const work = join(root, 'work')
  mkdirSync(work, { recursive: true })
  git(root, 'init', '-q', '--bare', bare)
  git(work, 'init', '-q')
  git(work, 'remote', 'add', 'origin', bare)
  const commits: Record<string, string> = {}
  const commit = (message: string, files: Record<string, string>, tag?: string): string => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(work, path)), { recursive: true })
      writeFileSync(join(work, path), content, { mode: path.startsWith('scripts/') ? 0o755 : 0o644 })
    }
    git(work, 'add', '-A')
    git(work, 'commit', '-q', '-m', message)
    const id = git(work, 'rev-parse', 'HEAD')
    if (tag) {
      git(work, 'tag', '-a', '-m', `InvokeAI ${tag}`, tag)
      commits[tag] = id
    }
    git(work, 'push', '-q', 'origin', 'HEAD:refs/heads/main', ...(tag ? [`refs/tags/${tag}`] : []))
    commits.main = id
    // The dumb HTTP protocol reads info/refs and objects/info/packs: refresh them on each change.
    git(bare, 'update-server-info')
    return id
  }
  commit('InvokeAI 2.0.0', v200Files(), 'v2.0.0')
  commit('InvokeAI 2.0.1', { 'ldm/invoke/_version.py': "__version__ = '2.0.1'\n", 'README.md': '# InvokeAI stand-in\n\nShaped like InvokeAI v2.0.1 for statecraft\'s end-to-end tests; it generates nothing.\n' }, 'v2.0.1')
  return { bare, commits, commit }
}
