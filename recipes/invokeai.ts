import { command, condaEnv, condaRun, defineRecipe, directory, file, git, httpCheck, include, service } from '../lib/index.ts'
import type { Resource } from '../lib/index.ts'
import prerequisites, { TOKENIZERS_TOOLCHAIN, toolsId } from './prerequisites.ts'
import { absolute, factChecks, isLoopback } from './invokeai/checks.ts'
import { firewall } from './invokeai/firewall.ts'
import { preflight } from './invokeai/preflight.ts'
import { removal } from './invokeai/absent.ts'
import { MODELS_TAG, modelStore, storeLink } from './invokeai/store.ts'

export { CHECKPOINTS, MODEL_REPO } from './invokeai/store.ts'
/** nunocoracao/InvokeAI's main on 2022-10-10: upstream v2.0.0 with the env renamed ldm -> invokeai. */
export const FORK_COMMIT = '67ddba9cfff83c3c3baba970a773defc10783bd1'
const GiB = 1024 ** 3

/**
 * The 2022 InvokeAI 2.0.x workstation: prerequisites, the checkout, the checkpoint (downloaded
 * into the model store while the env builds, linked into the checkout), the conda env,
 * preload_models.py, the web UI as a service and its health.
 * @example
 * import invokeai from 'statecraft/recipes/invokeai'
 * await converge({ recipe: invokeai, hosts: ['studio-mac'], inventory: 'hosts.yaml' })
 */
export default defineRecipe({
  name: 'invokeai',
  description: 'InvokeAI 2.0.x (the 2022 conda flow) as a service, on macOS, Linux or Windows',
  facts: ['gpu'],
  include: [include(prerequisites, {
    prefix: 'prereq',
    options: { conda: (o) => o.conda, condaPrefix: (o) => o.condaPrefix, rustToolchain: TOKENIZERS_TOOLCHAIN, after: ['preflight'] },
  })],
  options: {
    repo: { type: 'string', default: 'https://github.com/nunocoracao/InvokeAI.git', description: 'any git URL: the fork, https://github.com/invoke-ai/InvokeAI.git, a mirror, file://' },
    ref: { type: 'string', default: FORK_COMMIT, description: 'a commit, tag (v2.0.2) or branch' },
    root: { type: 'path', default: '~/invokeai', description: 'the checkout and install directory' },
    checkpoint: { type: 'enum', values: ['sd-v1-4-full-ema.ckpt', 'sd-v1-4.ckpt'], default: 'sd-v1-4-full-ema.ckpt', description: 'which Stable Diffusion 1.4 checkpoint' },
    modelStore: { type: 'path', description: 'where the checkpoint is downloaded once, shared with recipes/invokeai-modern (default: ~/.local/share/statecraft/models, ~/Library/Application Support/statecraft/models, %LOCALAPPDATA%\\statecraft\\models)' },
    conda: { type: 'enum', values: ['miniforge', 'miniconda', 'anaconda'], default: 'miniforge', description: 'conda flavour installed when none is at condaPrefix' },
    condaPrefix: { type: 'path', description: 'the conda to use or install (default ~/miniforge3, ~/miniconda3, ~/anaconda3)' },
    envName: { type: 'string', default: 'invokeai', description: 'the conda env' },
    bind: { type: 'string', default: '127.0.0.1', description: 'the web UI\'s address; not loopback: the port is opened in the firewall' },
    port: { type: 'number', default: 9090, description: 'the web UI\'s port' },
    sampler: { type: 'enum', values: ['ddim', 'k_dpm_2_a', 'k_dpm_2', 'k_euler_a', 'k_euler', 'k_heun', 'k_lms', 'plms'], default: 'k_lms', description: 'invoke.py --sampler' },
    fullPrecision: { type: 'boolean', description: '--full_precision (default: on Macs, off elsewhere)' },
    service: { type: 'boolean', default: true, description: 'run the web UI as a service and wait for it to answer' },
    hfToken: { type: 'string', secret: true, env: 'HF_TOKEN', description: 'Hugging Face token (read from HF_TOKEN only)' },
    hubUrl: { type: 'string', env: 'HF_ENDPOINT', default: 'https://huggingface.co', description: 'the hub (HF_ENDPOINT, as huggingface_hub reads it)' },
    state: { type: 'enum', values: ['present', 'absent'], default: 'present', description: 'absent: remove what the recipe installed, in reverse order' },
    removeModels: { type: 'boolean', default: false, description: 'with state absent: remove models/ (the link to the store) too; the model store itself is always kept' },
    checkpointUrl: { type: 'string', description: 'TEST ONLY: download the checkpoint from here instead of the hub' },
    checkpointSha256: { type: 'string', description: 'TEST ONLY: the checkpoint\'s sha256 instead of the known one (a stand-in hub\'s small file)' },
    checkpointSize: { type: 'number', description: 'TEST ONLY: the checkpoint\'s size in bytes instead of the known one' },
  },
  resources: ({ facts, options: o }) => {
    const win = facts.os === 'windows'
    const mac = facts.os === 'darwin'
    const root = o.root.replace(/[\\/]+$/, '')
    const sep = win ? '\\' : '/'
    const condaPrefix = o.condaPrefix ?? `~/${o.conda === 'miniforge' ? 'miniforge3' : o.conda === 'miniconda' ? 'miniconda3' : 'anaconda3'}`
    // The download needs curl, which prereq/tools brings on Linux (and the Mac's tools, git): after them.
    // The download runs curl: a fresh Debian may lack it until prereq/tools; macOS ships curl and
    // Windows downloads with PowerShell, so there it need not wait for the CLT or git (and a fresh
    // host's plan can say what the 7.7 GB download will do).
    const store = modelStore(facts, o, { after: ['preflight'], ...(facts.os === 'linux' ? { downloadAfter: [`prereq/${toolsId(facts)}`] } : {}), notify: o.service ? ['service'] : [] })
    const ckpt = store.checkpoint
    const modelDir = `${root}${sep}models${sep}ldm${sep}stable-diffusion-v1`
    const python = absolute(win ? `${condaPrefix}\\envs\\${o.envName}\\python.exe` : `${condaPrefix}/envs/${o.envName}/bin/python`, facts)
    if (o.state === 'absent') return removal(facts, { root: absolute(root, facts), condaPrefix: absolute(condaPrefix, facts), envName: o.envName, removeModels: o.removeModels, python })

    const checks = factChecks(facts, { root, condaPrefix })
    const variables: Record<string, string> = mac ? { PYTORCH_ENABLE_MPS_FALLBACK: '1' } : {}
    const env = condaEnv({
      id: 'env',
      name: o.envName,
      file: `${root}${sep}${mac ? 'environment-mac.yml' : 'environment.yml'}`,
      conda: condaPrefix,
      variables,
      // tokenizers < 0.14.1 builds from source on arm64 and fails on rustc >= 1.73: pip's cargo is the pinned one.
      env: win ? { RUSTUP_TOOLCHAIN: TOKENIZERS_TOOLCHAIN } : { RUSTUP_TOOLCHAIN: TOKENIZERS_TOOLCHAIN, PATH: `${facts.home}/.cargo/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin` },
      after: ['invokeai', 'prereq/conda', 'prereq/rustup'],
      notify: ['preload', ...(o.service ? ['service'] : [])],
    })
    const full = o.fullPrecision ?? mac
    const web = condaRun(env, ['python', 'scripts/invoke.py', '--web', '--host', o.bind, '--port', String(o.port), '--sampler', o.sampler, ...(full ? ['--full_precision'] : [])], facts, { cwd: root })
    const userUnit = facts.os === 'linux' && facts.uid !== 0
    const out: Resource[] = [
      preflight({
        id: 'preflight',
        root, checkpoint: store.checkpointPath, link: `${modelDir}${sep}model.ckpt`, checkpointBytes: ckpt.size ?? 0, envBytes: 12 * GiB, marginBytes: 2 * GiB,
        condaPrefix, envName: o.envName, port: o.port, token: Boolean(o.hfToken), appleSilicon: facts.appleSilicon,
        checkpointUrl: ckpt.url, ...(o.hfToken ? { hubToken: o.hfToken } : {}),
        problems: checks.problems, notes: checks.notes,
      }),
      // On Windows git.ts passes -c core.longpaths=true itself.
      git({ id: 'invokeai', repo: o.repo, dest: root, ref: o.ref, after: ['preflight', `prereq/${toolsId(facts)}`], ...(o.service ? { notify: ['service'] } : {}) }),
      directory({ id: 'models', path: modelDir, after: ['invokeai'], tags: [MODELS_TAG] }),
      // The checkpoint's one copy is in the store (shared with recipes/invokeai-modern); the
      // checkout links to it. The download is after the preflight and the tools (not the checkout),
      // so it downloads while the env builds.
      ...store.resources,
      storeLink(store, { id: 'checkpoint', path: `${modelDir}${sep}model.ckpt`, after: ['models'], notify: o.service ? ['service'] : [] }),
      ...(ckpt.sha256 ? [file({ id: 'model-sha256', path: `${modelDir}${sep}model.sha256`, content: ckpt.sha256, after: ['checkpoint'] })] : []),
      env,
      // From the repo root, inside the env: BERT/CLIP tokenizers, GFPGAN, CodeFormer, Real-ESRGAN weights.
      command({ id: 'preload', ...condaRun(env, ['python', 'scripts/preload_models.py'], facts, { cwd: root }), onlyIfNotified: true, idleTimeout: 1800 }),
    ]
    if (o.service) {
      out.push(service({
        id: 'service',
        name: 'invokeai',
        argv: web.argv,
        cwd: root,
        env: web.env,
        // become: lingering (loginctl enable-linger) is root's to grant where no polkit lets a user do it over SSH.
        ...(userUnit ? { scope: 'user', become: true } : {}),
        description: 'InvokeAI web UI (statecraft)',
        after: ['env', 'checkpoint', ...(ckpt.sha256 ? ['model-sha256'] : []), 'preload'],
      }))
      if (!isLoopback(o.bind)) out.push(...firewall(facts, o.port, python, ['env']))
      const host = o.bind === '0.0.0.0' || o.bind === '::' || isLoopback(o.bind) ? '127.0.0.1' : o.bind
      out.push(httpCheck({
        id: 'health',
        url: `http://${host.includes(':') ? `[${host}]` : host}:${o.port}/flaskwebgui-keep-server-alive`,
        expect: { status: 200, bodyIncludes: 'Server Running' },
        // The port opens only once the model is loaded: minutes on a laptop.
        timeout: 900,
        ...(facts.os === 'linux' ? { logs: userUnit ? { unit: 'invokeai', user: facts.user } : { unit: 'invokeai' } } : mac ? { logs: { file: '~/Library/Logs/invokeai.log' } } : {}),
        after: ['service'],
      }))
    }
    return out
  },
})
