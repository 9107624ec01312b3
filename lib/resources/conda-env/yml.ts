import { createHash } from 'node:crypto'
import type { Node } from 'yaml'
import { lazy } from '../../core/lazy.ts'

// Only for conda environment files (lazy.ts).
const yaml = lazy<typeof import('yaml')>('yaml')

/**
 * A conda environment file (`environment.yml`) as conda reads it: `name`, `channels`,
 * `dependencies` (conda specs, and one `pip:` block), `variables:`. `prefix` is accepted and
 * ignored (the resource's own name/prefix decides where the env goes). Any other top-level key is
 * refused: a typo such as `dependancies:` would otherwise build an empty environment.
 */
export interface EnvSpec {
  name?: string
  channels: string[]
  dependencies: string[]
  pip: string[]
  /** As strings, the way activation exports them: `PYTORCH_ENABLE_MPS_FALLBACK: 1` is '1'. */
  variables: Record<string, string>
  /**
   * The egg names of the `-e git+…#egg=NAME` pip entries: pip checks these out under `src/` next
   * to the yml (conda runs pip there, outside a virtualenv), and a checkout left by a failed
   * build makes the next build hang or fail.
   */
  editables: string[]
  sha256: string
}

export type EnvFileResult = { ok: true; spec: EnvSpec } | { ok: false; line: number; problem: string }

const KNOWN = ['name', 'channels', 'dependencies', 'variables', 'prefix']
const EGG = /#(?:.*&)?egg=([A-Za-z0-9._-]+)/

export function sha256Of(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Parses and checks an environment file; a problem comes with its 1-based line. */
export function parseEnvFile(bytes: Uint8Array | string): EnvFileResult {
  const { isMap, isScalar, isSeq, LineCounter, parseDocument } = yaml()
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8')
  const lc = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true })
  const first = doc.errors[0]
  if (first) return { ok: false, line: first.linePos?.[0].line ?? 1, problem: (first.message.split('\n')[0] as string).replace(/ at line \d+, column \d+:?$/, '') }
  const lineOf = (n: unknown): number => {
    const r = (n as Node | null)?.range
    return r ? lc.linePos(r[0]).line : 1
  }
  const fail = (n: unknown, problem: string): EnvFileResult => ({ ok: false, line: lineOf(n), problem })
  const root = doc.contents
  if (!isMap(root)) return fail(root, 'is not a mapping of name, channels, dependencies and variables')
  const spec: EnvSpec = { channels: [], dependencies: [], pip: [], variables: {}, editables: [], sha256: sha256Of(bytes) }
  let hasDeps = false
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : ''
    const val = pair.value
    if (!KNOWN.includes(key)) return fail(pair.key, `has the key ${JSON.stringify(key)}, which conda does not read (known: ${KNOWN.join(', ')}); check its spelling`)
    if (key === 'name') {
      if (!isScalar(val) || typeof val.value !== 'string' || val.value === '') return fail(val ?? pair.key, 'name must be a non-empty string')
      spec.name = val.value
    } else if (key === 'channels') {
      const list = strings(val)
      if (!list.ok) return fail(list.at ?? pair.key, 'channels must be a list of channel names')
      spec.channels = list.items
    } else if (key === 'dependencies') {
      hasDeps = true
      if (!isSeq(val)) return fail(val ?? pair.key, 'dependencies must be a list')
      for (const item of val.items) {
        if (isScalar(item) && (typeof item.value === 'string' || typeof item.value === 'number') && String(item.value) !== '') {
          spec.dependencies.push(String(item.value))
          continue
        }
        const pip = isMap(item) && item.items.length === 1 && isScalar(item.items[0]?.key) && item.items[0].key.value === 'pip' ? item.items[0].value : undefined
        if (!pip) return fail(item, 'a dependency must be a package spec (python==3.9.13) or a pip: block')
        const list = strings(pip)
        if (!list.ok) return fail(list.at ?? item, 'the pip: block must be a list of requirements')
        for (const [i, req] of list.items.entries()) {
          const r = editable(req)
          if (r === false) return fail((pip as { items: unknown[] }).items[i], `the pip entry ${JSON.stringify(req)} is an editable VCS checkout without #egg=<name> (letters, digits, . _ -): statecraft must know which src/<name> it leaves`)
          if (r) spec.editables.push(r)
        }
        spec.pip.push(...list.items)
      }
    } else if (key === 'variables') {
      if (val === null || (isScalar(val) && val.value === null)) continue
      if (!isMap(val)) return fail(val, 'variables must be a mapping of NAME: value')
      for (const v of val.items) {
        const name = isScalar(v.key) ? String(v.key.value) : ''
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return fail(v.key, `variables: ${JSON.stringify(name)} is not a valid environment variable name`)
        if (!isScalar(v.value) || v.value.value === null || typeof v.value.value === 'object') return fail(v.value ?? v.key, `variables: ${name} must have a plain value (a string, number or true/false)`)
        spec.variables[name] = String(v.value.value)
      }
    }
  }
  if (!hasDeps) return fail(root, 'has no dependencies: list')
  return { ok: true, spec }
}

function strings(n: unknown): { ok: true; items: string[] } | { ok: false; at?: unknown } {
  const { isScalar, isSeq } = yaml()
  if (!isSeq(n)) return { ok: false, at: n }
  const items: string[] = []
  for (const i of n.items) {
    if (!isScalar(i) || (typeof i.value !== 'string' && typeof i.value !== 'number') || String(i.value) === '') return { ok: false, at: i }
    items.push(String(i.value))
  }
  return { ok: true, items }
}

/** The egg of an editable VCS entry; undefined when not one (`-e .` is the repo itself); false when its egg is unusable. */
function editable(req: string): string | undefined | false {
  const m = /^-e\s+(\S+)$|^--editable[=\s]+(\S+)$/.exec(req.trim())
  const target = m?.[1] ?? m?.[2]
  if (!target || !/^(git|hg|svn|bzr)\+/.test(target)) return undefined
  return EGG.exec(target)?.[1] ?? false
}

/**
 * The directory names pip gives an editable checkout under src/: the egg as written and its
 * canonical form (lower case, runs of `-_.` as `-`: `k_diffusion` is `src/k-diffusion`), since
 * pip versions differ in which they use.
 */
export function srcDirs(editables: string[]): string[] {
  const out = new Set<string>()
  for (const e of editables) {
    out.add(e)
    out.add(e.toLowerCase().replace(/[-_.]+/g, '-'))
  }
  return [...out]
}
