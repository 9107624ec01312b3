import { directory, download, symlink } from '../../lib/index.ts'
import type { Facts, Resource } from '../../lib/index.ts'
import { absolute } from './checks.ts'

/** The two checkpoints of CompVis/stable-diffusion-v-1-4-original, as the hub announces them. */
export const CHECKPOINTS = {
  'sd-v1-4-full-ema.ckpt': { size: 7703807346, sha256: '14749efc0ae8ef0329391ad4436feb781b402f4fece4883c7ad8d10556d8a36a' },
  'sd-v1-4.ckpt': { size: 4265380512, sha256: 'fe4efff1e174c627256e44ec2991ba279b3816e364b49f9be2abc0b3ff3f8556' },
} as const
export const MODEL_REPO = 'CompVis/stable-diffusion-v-1-4-original'
export type CheckpointName = keyof typeof CHECKPOINTS

/** The options both InvokeAI recipes share for the model store (same names, same meaning). */
export interface StoreInputs {
  modelStore?: string | undefined
  checkpoint: CheckpointName
  hubUrl: string
  hfToken?: string | undefined
  checkpointUrl?: string | undefined
  checkpointSha256?: string | undefined
  checkpointSize?: number | undefined
}

export interface ModelStore {
  /** The store's folder (absolute). */
  dir: string
  /** The checkpoint's one copy on the host, inside the store. */
  checkpointPath: string
  checkpoint: { url: string; sha256?: string; size?: number }
  /** The store's folder and the checkpoint's download, declared identically by every recipe that uses it (but for after/notify). */
  resources: Resource[]
  /** The download's id (a default id: the same in every recipe), for `after`. */
  downloadId: string
}

/** Tag of the store's resources and of each install's links to it: `--only models`. */
export const MODELS_TAG = 'models'

/**
 * Where the store is unless the recipe says otherwise: the user's data folder per OS (not inside
 * any install, so removing an install keeps it), the same path for every recipe on the host.
 */
export function defaultModelStore(facts: Facts): string {
  const home = facts.home.replace(/[\\/]+$/, '')
  if (facts.os === 'windows') return `${home}\\AppData\\Local\\statecraft\\models`
  if (facts.os === 'darwin') return `${home}/Library/Application Support/statecraft/models`
  return `${home}/.local/share/statecraft/models`
}

/**
 * The model store both InvokeAI flows share: the checkpoint is downloaded once, into the store,
 * and each install links to it. The folder and the download carry no explicit id: two recipes
 * included together on one host declare them identically, and composition keeps one of each (one
 * download), after each recipe's own gate (`after`: its preflight; `downloadAfter`: what brings
 * curl) and notifying each one's service (`notify`). Each recipe orders its own link after `downloadId`.
 */
export function modelStore(facts: Facts, o: StoreInputs, wiring: { after: string[]; notify: string[]; downloadAfter?: string[] }): ModelStore {
  const win = facts.os === 'windows'
  const sep = win ? '\\' : '/'
  const dir = absolute((o.modelStore ?? defaultModelStore(facts)).replace(/[\\/]+$/, ''), facts)
  const checkpointPath = `${dir}${sep}${o.checkpoint}`
  const ckpt = checkpointOf(o)
  return {
    dir,
    checkpointPath,
    checkpoint: ckpt,
    downloadId: `download:${checkpointPath}`,
    resources: [
      directory({ path: dir, after: wiring.after, tags: [MODELS_TAG] }),
      download({
        url: ckpt.url,
        dest: checkpointPath,
        ...(ckpt.sha256 ? { sha256: ckpt.sha256 } : {}),
        ...(ckpt.size !== undefined ? { size: ckpt.size } : {}),
        ...(o.hfToken ? { token: o.hfToken } : { hubToken: true }),
        after: [...wiring.after, ...(wiring.downloadAfter ?? [])],
        notify: wiring.notify,
        tags: [MODELS_TAG],
      }),
    ],
  }
}

/** An install's link to the store's checkpoint, after its download; `notify` is the install's own service. */
export function storeLink(store: ModelStore, o: { id: string; path: string; notify: string[]; after?: string[] }): Resource {
  return symlink({ id: o.id, path: o.path, target: store.checkpointPath, after: [...(o.after ?? []), store.downloadId], notify: o.notify, tags: [MODELS_TAG] })
}

/**
 * The checkpoint's URL and what it must be: the hub's file with the known size and hash, or, when a
 * test overrides any of checkpointUrl / checkpointSha256 / checkpointSize, exactly what it gives
 * (an override without a hash trusts the hub's X-Linked-Etag, as `download` does).
 */
export function checkpointOf(o: StoreInputs): { url: string; sha256?: string; size?: number } {
  const url = o.checkpointUrl ?? `${o.hubUrl.replace(/\/+$/, '')}/${MODEL_REPO}/resolve/main/${o.checkpoint}`
  if (o.checkpointUrl === undefined && o.checkpointSha256 === undefined && o.checkpointSize === undefined) return { url, ...CHECKPOINTS[o.checkpoint] }
  return { url, ...(o.checkpointSha256 ? { sha256: o.checkpointSha256.toLowerCase() } : {}), ...(o.checkpointSize !== undefined ? { size: o.checkpointSize } : {}) }
}
