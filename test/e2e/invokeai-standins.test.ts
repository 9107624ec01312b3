import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { quote } from '../../lib/shell/posix/quote.ts'
import { installCondaOnHost, MODEL_REPO, startInvokeAIStandIns, type InvokeAIStandIns } from '../helpers/invokeai/stand-ins.ts'
import { startLab, type Lab, type LabHost } from '../helpers/lab.ts'
import { controllerHome } from '../helpers/sshd.ts'

// The stand-ins the InvokeAI recipe's end-to-end run uses, checked on a fresh lab host without
// the recipe: the host clones the InvokeAI-shaped repository from the git server on the gateway,
// fetches the gated checkpoint with and without a token, builds the env with the conda stand-in
// and serves the web UI's liveness URL with the host's own Python.
let lab: Lab
let host: LabHost
let si: InvokeAIStandIns
let home = ''

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'sc-ctl-'))
  lab = await startLab({ hosts: 1, authorizedKey: controllerHome(home).pub, services: false })
  host = lab.hosts[0] as LabHost
  si = await startInvokeAIStandIns(lab.gateway)
}, 600_000)

afterAll(async () => {
  await si?.close()
  await lab?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
})

/** Runs `script` on the host as the `dev` user (login shell: its HOME, cwd and PATH). */
async function asLab(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return host.exec(`runuser -l dev -c ${quote(script)}`)
}

async function ok(script: string): Promise<string> {
  const r = await asLab(script)
  expect(r, `${script}\n${r.stderr}`).toMatchObject({ code: 0 })
  return r.stdout
}

const ROOT = '/home/dev/invokeai'
const CKPT = 'models/ldm/stable-diffusion-v1/model.ckpt'

describe('the InvokeAI stand-ins on a lab host', () => {
  it('clones the repository over the network from the git server, with both tags', async () => {
    expect(await ok(`git clone -q ${si.gitUrl} ${ROOT} && cd ${ROOT} && git tag && git rev-parse HEAD && git -c advice.detachedHead=false checkout -q v2.0.0 && git rev-parse HEAD && cat ldm/invoke/_version.py`)).toBe(
      `v2.0.0\nv2.0.1\n${si.repo.commits.main}\n${si.repo.commits['v2.0.0']}\n__version__ = '2.0.0'\n`,
    )
    expect(si.git.requests).toContain('/InvokeAI.git/info/refs')
    expect(await ok(`cd ${ROOT} && ls scripts configs && git status --porcelain`)).toBe('configs:\nmodels.yaml\nstable-diffusion\n\nscripts:\ninvoke.py\npreload_models.py\n')
    // A new commit and tag on the server reaches the host's next fetch.
    const id = si.repo.commit('environment: a new dependency', { 'environment.yml': `${await ok(`cat ${ROOT}/environment.yml`)}  - tqdm=4.64.0\n` }, 'v2.0.2')
    expect(await ok(`cd ${ROOT} && git fetch -q --tags origin && git rev-parse v2.0.2^{commit} && git show v2.0.2:environment.yml | tail -1`)).toBe(`${id}\n  - tqdm=4.64.0\n`)
  }, 120_000)

  it('serves the checkpoint only with a token whose owner accepted the licence (401, 403, 302 + Range)', async () => {
    const ck = si.checkpoints['sd-v1-4.ckpt']
    const status = (auth: string) => ok(`curl -s -o /dev/null -w '%{http_code} ' -I ${auth} ${ck.url}; curl -sI ${auth} ${ck.url} | tr -d '\\r' | grep -i '^x-error-code' || true`)
    expect(await status('')).toBe('401 X-Error-Code: GatedRepo\n')
    expect(await status("-H 'Authorization: Bearer hf_not_accepted'")).toBe('403 X-Error-Code: GatedRepo\n')
    // This test's own curl, not statecraft, holds the token on its command line: it uses a token
    // of its own that the hub also accepts, so the recipe's token (which the suite's secrets sweep
    // watches for on every command line) never appears there.
    const token = 'hf_standins_own_curl_token'
    si.hub.goodTokens.add(token)
    const auth = `printf 'header = "Authorization: Bearer %s"\\n' '${token}'`
    const head = await ok(`${auth} | curl -sI -K - ${ck.url} | tr -d '\\r'`)
    expect(head).toMatch(/^HTTP\/1\.1 302 /)
    expect(head).toContain(`X-Linked-Etag: "${ck.sha256}"\n`)
    expect(head).toContain(`X-Linked-Size: ${ck.size}\n`)
    expect(head).toContain(`Location: ${si.hub.cdnUrl}/blob/${ck.file}\n`)
    const dest = `${ROOT}/${CKPT}`
    // Half a download (cut short), then resumed: the CDN honours Range as the real one does.
    expect(await ok(`${auth} | curl -fsSL -K - ${ck.url} | head -c ${ck.size / 2} > ${dest}; stat -c %s ${dest}`)).toBe(`${ck.size / 2}\n`)
    expect(await ok(`${auth} | curl -fsSL -K - -C - -o ${dest} ${ck.url} && sha256sum < ${dest}`)).toBe(`${ck.sha256}  -\n`)
    expect(si.hub.gets.at(-1)).toEqual({ start: ck.size / 2, sent: ck.size / 2 })
    expect(si.hub.requests.filter((r) => r.origin === 'hub' && r.url === `/${MODEL_REPO}/resolve/main/${ck.file}`).length).toBeGreaterThanOrEqual(5)
  }, 60_000)

  it('builds the env with the conda stand-in, whose python is the host\'s python3', async () => {
    const conda = await installCondaOnHost(host, 'dev')
    expect(conda).toBe('/home/dev/miniforge3/bin/conda')
    const info = JSON.parse(await ok(`${conda} info --json`)) as Record<string, unknown>
    expect(info).toMatchObject({ conda_prefix: '/home/dev/miniforge3', root_prefix: '/home/dev/miniforge3', platform: 'linux-64' })
    const out = await ok(`cd ${ROOT} && PIP_EXISTS_ACTION=w ${conda} env create -n invokeai -f environment.yml`)
    expect(out).toContain('Platform: linux-64\n')
    expect(out).toContain('#     $ conda activate /home/dev/miniforge3/envs/invokeai\n')
    expect(JSON.parse(await ok(`${conda} env list --json`)).envs).toEqual(['/home/dev/miniforge3', '/home/dev/miniforge3/envs/invokeai'])
    expect(await ok(`${conda} run -n invokeai --no-capture-output python -c 'import sys, os; print(os.path.realpath(sys.executable), os.environ["CONDA_PREFIX"])'`)).toBe('/usr/bin/python3.11 /home/dev/miniforge3/envs/invokeai\n')
    // pip's editable checkouts land in src/, which the repository ignores.
    expect(await ok(`cd ${ROOT} && ls src && git status --porcelain`)).toBe('clip\ngfpgan\nk-diffusion\ntaming-transformers\n')
  }, 60_000)

  it('runs preload_models.py idempotently: the HF cache is filled once, the second run skips', async () => {
    const preload = `cd ${ROOT} && ~/miniforge3/bin/conda run -n invokeai --no-capture-output python scripts/preload_models.py`
    const first = await ok(preload)
    expect(first.match(/: downloaded$/gm)).toHaveLength(3)
    const files = `find ~/.cache/huggingface ${ROOT}/models/codeformer -type f -exec sha256sum {} + | sort`
    const before = await ok(files)
    expect(before).toContain('/home/dev/.cache/huggingface/transformers/bert-base-uncased/vocab.txt\n')
    const second = await ok(preload)
    expect(second.match(/already downloaded, skipping$/gm)).toHaveLength(3)
    expect(await ok(files)).toBe(before)
    expect((await ok('grep -c " preload " ~/.cache/invokeai-standin/events.log'))).toBe('2\n')
    expect(await ok(`cd ${ROOT} && git status --porcelain`)).toBe('')
  }, 60_000)

  it('serves the liveness URL from scripts/invoke.py --web, once the checkpoint is in place', async () => {
    const start = (unit: string, flags: string) =>
      host.exec(`systemd-run --quiet --uid=dev --unit=${unit} --property=WorkingDirectory=${ROOT} --setenv=HOME=/home/dev /home/dev/miniforge3/bin/conda run -n invokeai --no-capture-output python scripts/invoke.py --web ${flags}`)
    const health = (port: number) => ok(`for i in $(seq 100); do curl -fsS http://127.0.0.1:${port}/flaskwebgui-keep-server-alive && exit 0; sleep 0.1; done; exit 1`)
    try {
      // Without the checkpoint it stops at the model load, as v2.0 does.
      await ok(`mv ${ROOT}/${CKPT} ${ROOT}/${CKPT}.away`)
      expect(await start('invokeai-nomodel', '--port 9091')).toMatchObject({ code: 0 })
      expect(await ok('for i in $(seq 100); do grep -q " no-model " ~/.cache/invokeai-standin/events.log 2>/dev/null && exit 0; sleep 0.1; done; exit 1')).toBe('')
      await ok(`mv ${ROOT}/${CKPT}.away ${ROOT}/${CKPT}`)

      expect(await start('invokeai-standin', '--host 127.0.0.1 --port 9090 --outdir outputs/img-samples --sampler ddim --full_precision')).toMatchObject({ code: 0 })
      expect(await health(9090)).toBe('{"message":"Server Running"}\n')
      const info = JSON.parse(await ok('curl -fsS http://127.0.0.1:9090/standin/info')) as Record<string, unknown>
      expect(info).toMatchObject({ port: 9090, sampler: 'ddim', full_precision: true, sha256: si.checkpoints['sd-v1-4.ckpt'].sha256, hashed: true, prefix: '/home/dev/miniforge3/envs/invokeai', cwd: ROOT })
      expect(await ok(`cat ${ROOT}/models/ldm/stable-diffusion-v1/model.sha256; echo; ls -d ${ROOT}/outputs/img-samples`)).toBe(`${si.checkpoints['sd-v1-4.ckpt'].sha256}\n${ROOT}/outputs/img-samples\n`)
      // Bound to 127.0.0.1: not reachable from the gateway's side of the bridge.
      expect((await host.exec(`curl -fsS -m 2 http://${host.address}:9090/flaskwebgui-keep-server-alive`)).code).not.toBe(0)
      // A model.sha256 newer than the checkpoint is trusted: no re-hash at the next start.
      expect(await host.exec('systemctl stop invokeai-standin')).toMatchObject({ code: 0 })
      expect(await start('invokeai-standin2', '--port 9090')).toMatchObject({ code: 0 })
      await health(9090)
      expect(JSON.parse(await ok('curl -fsS http://127.0.0.1:9090/standin/info'))).toMatchObject({ hashed: false, sampler: 'k_lms', full_precision: false })
      expect(await ok(`cd ${ROOT} && git status --porcelain`)).toBe('')
    } finally {
      await host.exec('systemctl stop invokeai-standin invokeai-standin2 invokeai-nomodel 2>/dev/null; systemctl reset-failed 2>/dev/null; true')
    }
  }, 90_000)
})
