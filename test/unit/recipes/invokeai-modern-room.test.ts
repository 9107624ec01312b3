import { describe, expect, it } from 'vitest'
import type { Facts } from '../../../lib/core/types.ts'
import { cacheDir, room, type RoomOptions } from '../../../recipes/invokeai-modern/room.ts'
import { hex, linuxFacts, macFacts, probe, psHex, windowsFacts } from '../../helpers/facts.ts'
import { runCase, type Case } from '../../helpers/table.ts'

const KiB_PER_GiB = 1024 * 1024
const GiB = 1024 ** 3
/** What the probe prints for one part: its filesystem (df's 1st field, hex) and free KiB (df -Pk's 4th). */
const fs = (part: 'root' | 'cache' | 'store', dev: string, gib: number, ps = false): Record<string, string> =>
  ({ [`fs_${part}`]: ps ? psHex(dev) : hex(dev), [`avail_${part}`]: String(Math.round(gib * KiB_PER_GiB)) })

/** The H100 box: cu130 env (~8 GB, wheels ~4 GB), the full-EMA checkpoint (7.2 GB) into the store. */
const linux: RoomOptions = {
  root: '/home/ana/invokeai-modern',
  ready: '/home/ana/invokeai-modern/envs/invokeai-6.0.0-cu128/.statecraft-ready',
  cache: '/home/ana/.cache/uv',
  store: '/home/ana/.local/share/statecraft/models',
  checkpoint: '/home/ana/.local/share/statecraft/models/sd-v1-4-full-ema.ckpt',
  checkpointBytes: 7703807346,
  envBytes: 8 * GiB,
  cacheBytes: 4 * GiB,
  modelsBytes: 0,
  marginBytes: 2 * GiB,
}
const WHAT = 'free some space, or put a part on another disk (the root option for the env, modelStore for the models, UV_CACHE_DIR for uv\'s cache)'

const cases: Case<RoomOptions>[] = [
  {
    name: 'one disk, all three parts missing: added up, each part named with its size, the free space, what to do',
    facts: linuxFacts,
    desired: linux,
    current: probe({ ...fs('root', '/dev/nvme0n1p2', 20), ...fs('cache', '/dev/nvme0n1p2', 20), ...fs('store', '/dev/nvme0n1p2', 20), ready: '0', ckpt: '0' }),
    changes: [`refuse to build: not enough free disk for InvokeAI: 20.0 GB free on /dev/nvme0n1p2, 21.2 GB needed there (env ~8.0 GB in /home/ana/invokeai-modern, margin 2.0 GB, its wheels in the cache ~4.0 GB in /home/ana/.cache/uv, models checkpoint 7.2 GB in /home/ana/.local/share/statecraft/models); ${WHAT}`],
    applyError: /^not enough free disk for InvokeAI: 20\.0 GB free on \/dev\/nvme0n1p2.*; nothing was changed$/,
  },
  {
    name: 'one disk with room for all of it: nothing to do',
    facts: linuxFacts,
    desired: linux,
    current: probe({ ...fs('root', '/dev/nvme0n1p2', 22), ...fs('cache', '/dev/nvme0n1p2', 22), ...fs('store', '/dev/nvme0n1p2', 22), ready: '0', ckpt: '0' }),
    changes: [],
  },
  {
    name: 'the store on its own disk: only that disk is short, and only the models are named there',
    facts: linuxFacts,
    desired: { ...linux, store: '/data/models', checkpoint: '/data/models/sd-v1-4-full-ema.ckpt', modelsBytes: 10 * GiB },
    current: probe({ ...fs('root', '/dev/sda1', 15), ...fs('cache', '/dev/sda1', 15), ...fs('store', '/dev/sdb1', 12), ready: '0', ckpt: '0' }),
    changes: [`refuse to build: not enough free disk for InvokeAI: 12.0 GB free on /dev/sdb1, 17.2 GB needed there (models checkpoint 7.2 GB + 10.0 GB kept free (modelsGB) in /data/models); ${WHAT}`],
  },
  {
    name: 'the env converged, the checkpoint already in the store: nothing but the margin is needed',
    facts: linuxFacts,
    desired: linux,
    current: probe({ ...fs('root', '/dev/sda1', 2.5), ...fs('cache', '/dev/sda1', 2.5), ...fs('store', '/dev/sda1', 2.5), ready: '1', ckpt: '1' }),
    changes: [],
  },
  {
    name: 'the env converged, the store still lacks the checkpoint: room for the checkpoint only',
    facts: linuxFacts,
    desired: linux,
    current: probe({ ...fs('root', '/dev/sda1', 5), ...fs('cache', '/dev/sda1', 5), ...fs('store', '/dev/sda1', 5), ready: '1', ckpt: '0' }),
    changes: [`refuse to build: not enough free disk for InvokeAI: 5.0 GB free on /dev/sda1, 9.2 GB needed there (models checkpoint 7.2 GB in /home/ana/.local/share/statecraft/models, margin 2.0 GB); ${WHAT}`],
  },
  {
    name: 'a part df could not read (no avail): not guessed, the rest still checked',
    facts: linuxFacts,
    desired: { ...linux, checkpoint: undefined as never, checkpointBytes: 0 },
    current: probe({ ...fs('root', '/dev/sda1', 1), fs_cache: hex(''), avail_cache: '', ...fs('store', '/dev/sdc1', 100), ready: '0', ckpt: undefined }),
    changes: [`refuse to build: not enough free disk for InvokeAI: 1.0 GB free on /dev/sda1, 10.0 GB needed there (env ~8.0 GB in /home/ana/invokeai-modern, margin 2.0 GB); ${WHAT}`],
  },
  {
    name: 'Windows: parts grouped by drive, C: short, D: (the store) fine',
    facts: windowsFacts,
    desired: { ...linux, root: 'C:\\Users\\ana\\invokeai-modern', ready: 'C:\\Users\\ana\\invokeai-modern\\envs\\x\\.statecraft-ready', cache: 'C:\\Users\\ana\\AppData\\Local\\uv\\cache', store: 'D:\\models', checkpoint: 'D:\\models\\sd-v1-4-full-ema.ckpt' },
    current: probe({ ...fs('root', 'C:\\', 6, true), ...fs('cache', 'C:\\', 6, true), ...fs('store', 'D:\\', 400, true), ready: '0', ckpt: '0' }),
    changes: [`refuse to build: not enough free disk for InvokeAI: 6.0 GB free on C:\\, 14.0 GB needed there (env ~8.0 GB in C:\\Users\\ana\\invokeai-modern, margin 2.0 GB, its wheels in the cache ~4.0 GB in C:\\Users\\ana\\AppData\\Local\\uv\\cache); ${WHAT}`],
  },
]

describe('recipes/invokeai-modern room: env + uv cache + models, each on its filesystem', () => {
  // A refusal's apply throws its problem, nothing else: every refusing case says so.
  for (const c of cases) it(c.name, () => runCase(room.type, c.changes?.length && !c.applyError ? { ...c, applyError: /^not enough free disk for InvokeAI: .*; nothing was changed$/ } : c))

  it('the cache each route fills, per OS', () => {
    const mac: Facts = macFacts
    expect([cacheDir(linuxFacts, 'uv'), cacheDir(linuxFacts, 'pip')]).toEqual(['/home/ana/.cache/uv', '/home/ana/.cache/pip'])
    expect([cacheDir(mac, 'uv'), cacheDir(mac, 'pip')]).toEqual(['/Users/ana/.cache/uv', '/Users/ana/Library/Caches/pip'])
    expect([cacheDir(windowsFacts, 'uv'), cacheDir(windowsFacts, 'pip')]).toEqual(['C:\\Users\\ana\\AppData\\Local\\uv\\cache', 'C:\\Users\\ana\\AppData\\Local\\pip\\Cache'])
  })

  it('the probe reads each part\'s filesystem from df on POSIX and the drive on Windows', () => {
    const d = room.type.validate(linux, linuxFacts)
    const sh = room.type.probe(d, linuxFacts)
    for (const p of ['root', 'cache', 'store']) expect(sh).toContain(`sc_kv_hex fs_${p} `)
    expect(sh).toContain("df -Pk -- \"$sc_p\" 2>/dev/null | awk 'NR==2 {print $1; print $4}'")
    const w = room.type.validate({ ...linux, root: 'C:\\i', ready: 'C:\\i\\r', cache: 'C:\\c', store: 'D:\\m', checkpoint: 'D:\\m\\x.ckpt' }, windowsFacts)
    expect(room.type.probe(w, windowsFacts)).toContain("Sc-KvHex 'fs_store' $sc_r")
  })
})
