import type { Facts, GpuFacts } from '../../lib/core/types.ts'
import { CHECKPOINTS } from '../../recipes/invokeai.ts'
import { defaultModelStore } from '../../recipes/invokeai/store.ts'
import type { ReplayedFs } from './types.ts'

/**
 * Per recipe, how its macOS and Windows snapshots are built: the state a converged host of each OS
 * holds (its files; the managed tools are then answered as converged), the controller environment
 * the options are resolved from, and where its Debian 12 pair comes from: recorded on this machine
 * by this script ('here'), or from a lab host by `npm run smoke -- --snapshots DIR` ('lab').
 */
export interface RecipeReplay {
  converged(f: Facts): ReplayedFs
  env?: Record<string, string>
  debian: 'here' | 'lab'
}

/**
 * The GPUs the fixture tables give these hosts (test/unit/recipes/invokeai-plan.test.ts), for a
 * recipe that declares facts: ['gpu']: an M1 Pro, and the gaming PC's RTX 2070.
 */
export const REPLAYED_GPU: Record<'darwin' | 'windows', GpuFacts> = {
  darwin: { vendor: 'apple', devices: [{ name: 'Apple M1 Pro' }] },
  windows: { vendor: 'nvidia', devices: [{ name: 'NVIDIA GeForce RTX 2070', memoryBytes: 8 * 1024 ** 3 }], driver: '566.36', cuda: '12.7' },
}

/**
 * A stand-in for the reviewer's HF_TOKEN: the preflight's and the download's HEAD carry a token
 * (masked in the recorded probe hash), so a simulation is planned with HF_TOKEN set to any value.
 */
export const PLACEHOLDER_TOKEN = 'hf_replayed_snapshot_placeholder'

const join = (f: Facts, ...p: string[]): string => [f.home, ...p].join(f.os === 'windows' ? '\\' : '/')
const dir = (f: Facts, perm = 'drwxr-xr-x') => ({ kind: 'directory' as const, perm, owner: f.user })
const file = (f: Facts, content: string, perm = '-rw-r--r--') => ({ kind: 'file' as const, perm, owner: f.user, content })

export const REPLAYS: Record<string, RecipeReplay> = {
  demo: {
    debian: 'here',
    converged(f) {
      const j = (...p: string[]): string => join(f, 'statecraft-demo', ...p)
      const greeting = 'hello from statecraft'
      return {
        [j()]: dir(f),
        [j('conf')]: dir(f, 'drwx------'),
        [j('hello.txt')]: file(f, `${greeting}\n`),
        [j('conf', 'host.env')]: file(f, `HOST_OS=${f.os}\nHOST_ARCH=${f.arch}\n`, '-rw-------'),
        [j('profile')]: file(f, `export DEMO_GREETING='${greeting}'\n`),
        [j('current')]: { kind: 'link', perm: f.os === 'darwin' ? 'lrwxr-xr-x' : 'lrwxrwxrwx', owner: f.user, target: 'hello.txt' },
        [j('stamp.txt')]: file(f, 'Mon Dec  7 01:00:00 UTC 2026\n'),
      }
    },
  },
  invokeai: {
    debian: 'lab',
    env: { HF_TOKEN: PLACEHOLDER_TOKEN },
    // The default options: the fork's checkout in ~/invokeai, the full-EMA checkpoint with its known hash.
    converged(f) {
      const models = ['invokeai', 'models', 'ldm', 'stable-diffusion-v1']
      // The checkpoint's one copy in the model store (its download is answered as converged), and the checkout's link to it.
      const store = defaultModelStore(f)
      const ckpt = `${store}${f.os === 'windows' ? '\\' : '/'}sd-v1-4-full-ema.ckpt`
      return {
        [store]: dir(f),
        [join(f, ...models)]: dir(f),
        [join(f, ...models, 'model.ckpt')]: { kind: 'link', perm: f.os === 'darwin' ? 'lrwxr-xr-x' : 'lrwxrwxrwx', owner: f.user, target: ckpt },
        [join(f, ...models, 'model.sha256')]: file(f, CHECKPOINTS['sd-v1-4-full-ema.ckpt'].sha256),
      }
    },
  },
}
