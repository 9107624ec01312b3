import * as v from 'valibot'
import { decodeHex, defineResource, normalisePath, path, psQuote, quote, StatecraftError } from '../../lib/kit.ts'
import type { Facts } from '../../lib/index.ts'
import type { TorchBuild } from './backend.ts'
import type { Route } from './commands.ts'

/**
 * Free disk for what a run adds, checked before anything changes, each part on the filesystem
 * where it lands: the new env under the root, its wheels in the uv/pip cache, and the models in
 * the model store (the checkpoint, while the store lacks it, plus what the user keeps free for
 * models). Parts that share a filesystem are added up; a converged env needs no room for itself
 * or its wheels, a checkpoint already in the store none for itself.
 */
export interface RoomOptions {
  root: string
  /** The env this run would build; when it is there and passed its smoke test, no room is needed for it. */
  ready: string
  /** The uv (or pip) cache the env's wheels land in. */
  cache: string
  /** The model store. */
  store: string
  /** The checkpoint in the store; while it is missing, `checkpointBytes` are needed there. */
  checkpoint?: string
  checkpointBytes: number
  envBytes: number
  cacheBytes: number
  modelsBytes: number
  marginBytes: number
}

type Part = 'root' | 'cache' | 'store'
const PARTS: readonly Part[] = ['root', 'cache', 'store']

export interface RoomCurrent {
  ready: boolean
  checkpoint: boolean
  /** Per part: the filesystem it lands on (df's device, or the Windows drive) and its free KiB. */
  fs: Partial<Record<Part, { id: string; availKiB: number }>>
}

type RoomOp = { op: 'refuse'; problem: string }

const GiB = 1024 ** 3
const human = (b: number): string => `${(b / GiB).toFixed(1)} GB`
const bytes = () => v.pipe(v.number(), v.integer(), v.minValue(0))

/** What an env of each build takes installed, and its wheels in the cache (rounded up from PyTorch's wheel sizes). */
export function envSizes(build: TorchBuild): { envBytes: number; cacheBytes: number } {
  if (build.backend.startsWith('rocm')) return { envBytes: 16 * GiB, cacheBytes: 6 * GiB }
  if (build.backend.startsWith('cu')) return { envBytes: 8 * GiB, cacheBytes: 4 * GiB }
  return { envBytes: 2 * GiB, cacheBytes: 1 * GiB }
}

/** The cache the route's installer fills: uv's (`~/.cache/uv`, Windows `%LOCALAPPDATA%\uv\cache`) or pip's. */
export function cacheDir(facts: Facts, route: Route): string {
  const home = facts.home.replace(/[\\/]+$/, '')
  if (facts.os === 'windows') return route === 'uv' ? `${home}\\AppData\\Local\\uv\\cache` : `${home}\\AppData\\Local\\pip\\Cache`
  if (route === 'pip' && facts.os === 'darwin') return `${home}/Library/Caches/pip`
  return `${home}/.cache/${route === 'uv' ? 'uv' : 'pip'}`
}

/**
 * The room each part needs now (bytes), given what is there. A run that adds nothing (env ready,
 * checkpoint in the store) needs none; the margin goes with the root while the env is built, else
 * with the store.
 */
function needs(d: RoomOptions, c: RoomCurrent): Record<Part, number> {
  const ckpt = d.checkpoint !== undefined && !c.checkpoint ? d.checkpointBytes : 0
  if (c.ready && ckpt === 0) return { root: 0, cache: 0, store: 0 }
  return {
    root: c.ready ? 0 : d.envBytes + d.marginBytes,
    cache: c.ready ? 0 : d.cacheBytes,
    store: ckpt + d.modelsBytes + (c.ready ? d.marginBytes : 0),
  }
}

/** One problem for every filesystem that lacks room: each part's size, the free space, what to do. */
export function roomProblem(d: RoomOptions, c: RoomCurrent): string | undefined {
  const need = needs(d, c)
  const groups = new Map<string, Part[]>()
  for (const p of PARTS) {
    const fs = c.fs[p]
    if (!fs) continue
    groups.set(fs.id, [...(groups.get(fs.id) ?? []), p])
  }
  const short: string[] = []
  for (const [id, parts] of groups) {
    const total = parts.reduce((s, p) => s + need[p], 0)
    const avail = (c.fs[parts[0] as Part]?.availKiB ?? 0) * 1024
    if (avail >= total) continue
    const what = parts.flatMap((p) => describe(p, d, c))
    short.push(`${human(avail)} free on ${id}, ${human(total)} needed there (${what.join(', ')})`)
  }
  if (short.length === 0) return undefined
  return `not enough free disk for InvokeAI: ${short.join('; ')}; free some space, or put a part on another disk (the root option for the env, modelStore for the models, UV_CACHE_DIR for uv's cache)`
}

function describe(p: Part, d: RoomOptions, c: RoomCurrent): string[] {
  const margin = `margin ${human(d.marginBytes)}`
  if (p === 'root') return c.ready ? [] : [`env ~${human(d.envBytes)} in ${d.root}`, margin]
  if (p === 'cache') return c.ready ? [] : [`its wheels in the cache ~${human(d.cacheBytes)} in ${d.cache}`]
  const ckpt = d.checkpoint && !c.checkpoint ? [`checkpoint ${human(d.checkpointBytes)}`] : []
  const kept = d.modelsBytes > 0 || ckpt.length === 0 ? [`${human(d.modelsBytes)} kept free (modelsGB)`] : []
  return [`models ${[...ckpt, ...kept].join(' + ')} in ${d.store}`, ...(c.ready ? [margin] : [])]
}

export const room = defineResource<RoomOptions, RoomCurrent, RoomOp>({
  type: 'envRoom',
  describe: (i) => `envRoom ${String(i.root)}`,
  fields: {
    root: path(), ready: path(), cache: path(), store: path(), checkpoint: v.optional(path()),
    checkpointBytes: bytes(), envBytes: bytes(), cacheBytes: bytes(), modelsBytes: bytes(), marginBytes: bytes(),
  },
  normalise: (d, facts, fail) => ({
    ...d,
    root: normalisePath(d.root, 'root', facts, fail),
    ready: normalisePath(d.ready, 'ready', facts, fail),
    cache: normalisePath(d.cache, 'cache', facts, fail),
    store: normalisePath(d.store, 'store', facts, fail),
    ...(d.checkpoint !== undefined ? { checkpoint: normalisePath(d.checkpoint, 'checkpoint', facts, fail) } : {}),
  }),
  defaultId: (d) => `envRoom:${d.root}`,
  parse(data) {
    const fs: RoomCurrent['fs'] = {}
    for (const p of PARTS) {
      const a = data.get(`avail_${p}`)
      if (a && /^\d+$/.test(a) && data.has(`fs_${p}`)) fs[p] = { id: decodeHex(data.get(`fs_${p}`)) || '?', availKiB: Number(a) }
    }
    return { ready: data.get('ready') === '1', checkpoint: data.get('ckpt') === '1', fs }
  },
  diff(d, c) {
    const problem = roomProblem(d, c)
    return problem ? [{ op: 'refuse', problem, text: `refuse to build: ${problem}` }] : []
  },
  posix: {
    // df -P: one line per filesystem; the 1st field names it, the 4th is the free KiB.
    probe: (d) => [
      ...PARTS.map((p) => `sc_p=${quote(d[p])}
while [ ! -d "$sc_p" ] && [ "$sc_p" != / ]; do sc_p=$(dirname -- "$sc_p"); done
sc_df=$(df -Pk -- "$sc_p" 2>/dev/null | awk 'NR==2 {print $1; print $4}')
sc_kv_hex fs_${p} "$(printf '%s\\n' "$sc_df" | sed -n 1p)"
printf 'avail_${p}=%s\\n' "$(printf '%s\\n' "$sc_df" | sed -n 2p)"`),
      `if [ -f ${quote(d.ready)} ]; then echo ready=1; else echo ready=0; fi`,
      ...(d.checkpoint ? [`if [ -f ${quote(d.checkpoint)} ]; then echo ckpt=1; else echo ckpt=0; fi`] : []),
    ].join('\n'),
    apply: (_d, _c, changes) => refuse(changes),
  },
  powershell: {
    probe: (d) => [
      ...PARTS.map((p) => `$sc_p = ${psQuote(d[p])}
while (-not (Test-Path -LiteralPath $sc_p) -and (Split-Path -Parent $sc_p)) { $sc_p = Split-Path -Parent $sc_p }
try { $sc_r = [System.IO.Path]::GetPathRoot($sc_p); $sc_d = New-Object System.IO.DriveInfo ($sc_r); Sc-KvHex 'fs_${p}' $sc_r; "avail_${p}=$([math]::Floor($sc_d.AvailableFreeSpace / 1024))" } catch { 'avail_${p}=' }`),
      `if (Test-Path -LiteralPath ${psQuote(d.ready)} -PathType Leaf) { 'ready=1' } else { 'ready=0' }`,
      ...(d.checkpoint ? [`if (Test-Path -LiteralPath ${psQuote(d.checkpoint)} -PathType Leaf) { 'ckpt=1' } else { 'ckpt=0' }`] : []),
    ].join('\n'),
    apply: (_d, _c, changes) => refuse(changes),
  },
  examples: ({ path: p, value }) => [
    { desired: { root: p, ready: `${p}/${value}`, cache: `${p}/c`, store: `${p}/s`, checkpoint: `${p}/s/${value}.ckpt`, checkpointBytes: GiB, envBytes: GiB, cacheBytes: GiB, modelsBytes: 0, marginBytes: GiB }, current: { ready: false, checkpoint: false, fs: { root: { id: '/dev/sda1', availKiB: 2 ** 40 } } } },
  ],
})

function refuse(changes: { problem?: string }[]): never {
  throw new StatecraftError('E_PREFLIGHT', `${changes.map((c) => c.problem).join('; ')}; nothing was changed`)
}
