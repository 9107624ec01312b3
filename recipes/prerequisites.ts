import { conda, defineRecipe, pkg, rustup, xcodeCommandLineTools } from '../lib/index.ts'
import type { Facts, Resource } from '../lib/index.ts'

/** InvokeAI 2.x's `tokenizers` (< 0.14.1) does not build with rustc >= 1.73 (`invalid_reference_casting`). */
export const TOKENIZERS_TOOLCHAIN = '1.72.1'

/** The id (inside this recipe) of the resource that brings git and the C build tools on this OS. */
export function toolsId(facts: Pick<Facts, 'os'>): string {
  return facts.os === 'darwin' ? 'xcode' : facts.os === 'windows' ? 'git' : 'tools'
}

/**
 * What InvokeAI's 2022 conda flow needs before its checkout: git and a C toolchain (the Command
 * Line Tools on macOS), a conda, and rustup with the toolchain that builds the env's `tokenizers`.
 * Included by `recipes/invokeai.ts` as `prereq`; usable on its own.
 */
export default defineRecipe({
  name: 'prerequisites',
  description: 'git, build tools, a conda and rustup, per OS',
  options: {
    conda: { type: 'enum', values: ['miniforge', 'miniconda', 'anaconda'], default: 'miniforge', description: 'conda flavour to install (miniconda/anaconda accept the default channels\' Terms of Service)' },
    condaPrefix: { type: 'path', description: 'where the conda is (or goes); default ~/miniforge3, ~/miniconda3 or ~/anaconda3' },
    rustToolchain: { type: 'string', default: TOKENIZERS_TOOLCHAIN, description: 'extra Rust toolchain installed beside stable' },
    // Ids every resource here waits for (an includer's preflight); fixed by the includer.
    after: { default: [] as string[], description: 'ids of resources to converge first' },
  },
  resources: ({ facts, options }) => {
    const after = (options.after as string[] | undefined) ?? []
    const out: Resource[] = []
    if (facts.os === 'darwin') {
      out.push(xcodeCommandLineTools({ id: 'xcode', become: true, after }))
    } else if (facts.os === 'windows') {
      out.push(pkg({ id: 'git', name: 'git', winget: 'Git.Git', acceptAgreements: true, after }))
    } else {
      out.push(pkg({
        id: 'tools',
        names: ['git', 'curl', 'build-essential'],
        dnf: ['git', 'curl', 'gcc', 'gcc-c++', 'make'],
        pacman: ['git', 'curl', 'base-devel'],
        become: true,
        after,
      }))
    }
    const flavor = options.conda
    out.push(conda({
      id: 'conda',
      flavor,
      ...(options.condaPrefix !== undefined ? { prefix: options.condaPrefix } : {}),
      ...(flavor !== 'miniforge' ? { acceptTos: true } : {}),
      after,
    }))
    out.push(rustup({ id: 'rustup', toolchains: [options.rustToolchain], after: facts.os === 'darwin' ? [...after, 'xcode'] : after }))
    return out
  },
})
