/** Past these, `--diff` prints a summary line instead of a patch: Myers' diff is O(N·D). */
const MAX_CHARS = 1024 * 1024
const TIMEOUT_MS = 2000

export type Patch = (path: string, before: string, after: string) => string

const lines = (s: string): number => (s === '' ? 0 : s.split('\n').length - (s.endsWith('\n') ? 1 : 0))

/**
 * The unified diff of a content change for `--diff`, bounded in size and time so a large or very
 * different file cannot freeze the controller. The diff library loads only when asked for.
 */
export async function loadPatch(): Promise<Patch> {
  const { createTwoFilesPatch } = await import('diff')
  return (path, before, after) => {
    const summary = (why: string): string =>
      `Index: ${path}\n===\n(diff not shown: ${lines(before)} lines -> ${lines(after)} lines, ${why})`
    if (before.length + after.length > MAX_CHARS) return summary(`more than ${MAX_CHARS / 1024} KiB to compare`)
    const p = createTwoFilesPatch(path, path, before, after, 'current', 'desired', { timeout: TIMEOUT_MS })
    return p ?? summary(`not comparable within ${TIMEOUT_MS / 1000} s`)
  }
}
