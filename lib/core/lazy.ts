import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/**
 * A CommonJS dependency loaded on first use, not when the library loads. For what only some runs
 * need — plist (46 files with its XML libraries: macOS services), semver (25: version ranges),
 * yaml (74: hosts.yaml, conda environment files, --set values) — a run that does not need it
 * skips that share of the start-up (bench/STARTUP.md).
 * @example
 * const plist = lazy<typeof import('plist')>('plist')
 * plist().build({ Label: 'x' })
 */
export function lazy<T>(id: string): () => T {
  let mod: T | undefined
  return () => (mod ??= require(id) as T)
}
