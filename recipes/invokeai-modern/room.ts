import * as v from 'valibot'
import { defineResource, normalisePath, path, psQuote, quote, StatecraftError } from '../../lib/kit.ts'
import type { TorchBuild } from './backend.ts'

/**
 * Free disk for a new env, checked before anything changes: the env itself, the uv/pip cache
 * that holds its wheels, and the models, together, on the filesystem of the root (its nearest
 * existing parent on a fresh host). A converged host (the env there and ready) needs nothing.
 */
export interface RoomOptions {
  root: string
  /** The env this run would build; when it is there and passed its smoke test, no room is needed. */
  ready: string
  envBytes: number
  cacheBytes: number
  modelsBytes: number
  marginBytes: number
}

export interface RoomCurrent {
  availKiB?: number
  ready: boolean
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

export const room = defineResource<RoomOptions, RoomCurrent, RoomOp>({
  type: 'envRoom',
  describe: (i) => `envRoom ${String(i.root)}`,
  fields: { root: path(), ready: path(), envBytes: bytes(), cacheBytes: bytes(), modelsBytes: bytes(), marginBytes: bytes() },
  normalise: (d, facts, fail) => ({ ...d, root: normalisePath(d.root, 'root', facts, fail), ready: normalisePath(d.ready, 'ready', facts, fail) }),
  defaultId: (d) => `envRoom:${d.root}`,
  parse(data) {
    const a = data.get('avail')
    return { ready: data.get('ready') === '1', ...(a && /^\d+$/.test(a) ? { availKiB: Number(a) } : {}) }
  },
  diff(d, c) {
    if (c.ready || c.availKiB === undefined) return []
    const need = d.envBytes + d.cacheBytes + d.modelsBytes + d.marginBytes
    if (c.availKiB * 1024 >= need) return []
    const problem = `not enough free disk at ${d.root}: ${human(c.availKiB * 1024)} free, ${human(need)} needed (env ~${human(d.envBytes)}, its wheels in the uv/pip cache ~${human(d.cacheBytes)}, models ${human(d.modelsBytes)}, margin ${human(d.marginBytes)}); free some space or set root to another disk`
    return [{ op: 'refuse', problem, text: `refuse to build: ${problem}` }]
  },
  posix: {
    // df -P: one line per filesystem, the 4th field is the free KiB.
    probe: (d) => `sc_p=${quote(d.root)}
while [ ! -d "$sc_p" ] && [ "$sc_p" != / ]; do sc_p=$(dirname -- "$sc_p"); done
printf 'avail=%s\\n' "$(df -Pk -- "$sc_p" 2>/dev/null | awk 'NR==2 {print $4}')"
if [ -f ${quote(d.ready)} ]; then echo ready=1; else echo ready=0; fi`,
    apply: (_d, _c, changes) => refuse(changes),
  },
  powershell: {
    probe: (d) => `$sc_p = ${psQuote(d.root)}
while (-not (Test-Path -LiteralPath $sc_p) -and (Split-Path -Parent $sc_p)) { $sc_p = Split-Path -Parent $sc_p }
try { $sc_d = New-Object System.IO.DriveInfo ([System.IO.Path]::GetPathRoot($sc_p)); "avail=$([math]::Floor($sc_d.AvailableFreeSpace / 1024))" } catch { 'avail=' }
if (Test-Path -LiteralPath ${psQuote(d.ready)} -PathType Leaf) { 'ready=1' } else { 'ready=0' }`,
    apply: (_d, _c, changes) => refuse(changes),
  },
  examples: ({ path: p, value }) => [
    { desired: { root: p, ready: `${p}/${value}`, envBytes: GiB, cacheBytes: GiB, modelsBytes: 0, marginBytes: GiB }, current: { availKiB: 2 ** 40, ready: false } },
  ],
})

function refuse(changes: { problem?: string }[]): never {
  throw new StatecraftError('E_PREFLIGHT', `${changes.map((c) => c.problem).join('; ')}; nothing was changed`)
}
