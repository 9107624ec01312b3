import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CONDA_STAND_IN } from '../conda-stand-in.ts'
import { bytes, startHub, type Hub } from '../hub.ts'
import type { LabHost } from '../lab.ts'
import { startGitServer, type GitServer } from './git-server.ts'
import { makeStandInRepo, type StandInRepo } from './repo.ts'

/** The Hugging Face repository of the v1.4 checkpoints, gated behind its licence. */
export const MODEL_REPO = 'CompVis/stable-diffusion-v-1-4-original'
export const GOOD_TOKEN = 'hf_good_token_123'

export interface StandInCheckpoint {
  file: string
  size: number
  sha256: string
  /** `${HF_ENDPOINT}/${MODEL_REPO}/resolve/main/${file}` */
  url: string
}

/**
 * What an InvokeAI install needs from the internet, for the lab's hosts: a git server with the
 * InvokeAI-shaped repository (dumb HTTP) and a gated hub with both v1.4 checkpoint names as small
 * blobs (302 to a CDN with Range and X-Linked-Etag; 401/403 GatedRepo without a good token).
 * Both listen on `host` (the lab's gateway, which every lab host reaches over the bridge).
 */
export interface InvokeAIStandIns {
  repo: StandInRepo
  git: GitServer
  /** The clone URL: `http://<gateway>:<port>/InvokeAI.git`. */
  gitUrl: string
  hub: Hub
  /** The hub's base URL, as HF_ENDPOINT gives it to huggingface_hub. */
  hfEndpoint: string
  token: string
  checkpoints: Record<'sd-v1-4-full-ema.ckpt' | 'sd-v1-4.ckpt', StandInCheckpoint>
  close(): Promise<void>
}

export async function startInvokeAIStandIns(host: string): Promise<InvokeAIStandIns> {
  const dir = mkdtempSync(join(tmpdir(), 'sc-invokeai-'))
  const closers: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })]
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c()
  }
  try {
    const repo = makeStandInRepo(dir)
    const git = await startGitServer(dir, host)
    closers.push(() => git.close())
    const hub = await startHub(host)
    closers.push(() => hub.close())
    hub.gatedRepos.add(MODEL_REPO)
    const ckpt = (file: string, size: number, seed: number): StandInCheckpoint => {
      const b = hub.addBlob(file, bytes(size, seed))
      return { file, size, sha256: b.sha256, url: `${hub.hubUrl}/${MODEL_REPO}/resolve/main/${file}` }
    }
    const checkpoints = { 'sd-v1-4-full-ema.ckpt': ckpt('sd-v1-4-full-ema.ckpt', 384 * 1024, 14), 'sd-v1-4.ckpt': ckpt('sd-v1-4.ckpt', 256 * 1024, 15) }
    return { repo, git, gitUrl: `${git.url}/InvokeAI.git`, hub, hfEndpoint: hub.hubUrl, token: GOOD_TOKEN, checkpoints, close }
  } catch (e) {
    await close()
    throw e
  }
}

/**
 * Puts the conda stand-in on a lab host at ~user/miniforge3 (where the conda resource installs
 * Miniforge), owned by the user, as if that resource had run: the real installer cannot be
 * fetched here. Returns the conda's path.
 */
export async function installCondaOnHost(host: LabHost, user = 'dev'): Promise<string> {
  const b64 = Buffer.from(CONDA_STAND_IN).toString('base64')
  const r = await host.exec(`set -e
home=$(getent passwd ${user} | cut -d: -f6)
[ -n "$home" ] || { echo "no user ${user} on this host" >&2; exit 1; }
mkdir -p "$home/miniforge3/bin" "$home/miniforge3/envs" "$home/miniforge3/conda-meta"
printf '%s' '${b64}' | base64 -d > "$home/miniforge3/bin/conda"
chmod 0755 "$home/miniforge3/bin/conda"
chown -R ${user}: "$home/miniforge3"
printf '%s' "$home/miniforge3/bin/conda"`)
  if (r.code !== 0) throw new Error(`installing the conda stand-in on ${host.name} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}
