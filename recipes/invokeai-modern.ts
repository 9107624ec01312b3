import { ValidationError } from '../lib/core/errors.ts'
import { defineRecipe, directory, file, httpCheck, pkg, service } from '../lib/index.ts'
import type { Facts, Resource } from '../lib/index.ts'
import { chooseTorchBuild, refusalText } from './invokeai-modern/backend.ts'
import { envCommands, smokeTest, type Route } from './invokeai-modern/commands.ts'
import { envSwap, READY } from './invokeai-modern/env-swap.ts'
import { cacheDir, envSizes, room } from './invokeai-modern/room.ts'
import { managerShipsUv, uvInstall } from './invokeai-modern/uv-install.ts'
import { invokeaiYaml } from './invokeai-modern/yaml.ts'
import { absolute, isLoopback } from './invokeai/checks.ts'
import { MODELS_TAG, modelStore, storeLink, type CheckpointName } from './invokeai/store.ts'

export { uvPath } from './invokeai-modern/uv-install.ts'

/**
 * Today's InvokeAI (5/6) the way its docs install it, over SSH: uv (the package manager's, else
 * Astral's pinned installer; or the host's python3 with venv + pip), the torch build the GPU needs,
 * invokeai.yaml under the root, `invokeai-web --root` as a service and its health. A checkpoint,
 * when asked for, comes from the model store shared with recipes/invokeai (downloaded once). Every version or torch-build change builds a new env beside the
 * running one, smoke-tests the GPU in it, then swaps (blue/green, see invokeai-modern/env-swap.ts).
 * @example
 * import modern from 'statecraft/recipes/invokeai-modern'
 * await converge({ recipe: modern, hosts: ['gpu-box'], inventory: 'hosts.yaml', set: { version: '6.0.0' } })
 */
export default defineRecipe({
  name: 'invokeai-modern',
  description: 'InvokeAI 5/6 through uv (or venv + pip), GPU-aware, blue/green updates, as a service',
  facts: ['gpu'],
  options: {
    version: { type: 'string', default: '6.0.0', description: 'the InvokeAI release (pip version) to install' },
    torch: { type: 'string', default: '2.7', description: 'the torch line that InvokeAI release pins (2.7 for 6.0); picks the builds to choose from' },
    torchBackend: { type: 'string', description: 'force a torch build (cu128, rocm6.3, cpu, mps) instead of the one chosen from the GPU facts' },
    root: { type: 'path', default: '~/invokeai-modern', description: 'InvokeAI\'s root (invokeai.yaml, models, outputs) and the envs beside it' },
    route: { type: 'enum', values: ['auto', 'uv', 'pip'], default: 'auto', description: 'auto: uv where a package manager has it (brew, winget, pacman), else the host\'s python3 -m venv + pip; uv: also where none has it, from Astral\'s installer (pinned sha256)' },
    uv: { type: 'path', description: 'an uv already on the host (route uv); by default the package manager\'s, or ~/.local/bin/uv from the installer' },
    uvInstallerUrl: { type: 'string', description: 'route uv without a package manager: the installer from here (a mirror) instead of the pinned one; with uvInstallerSha256' },
    uvInstallerSha256: { type: 'string', description: 'sha256 of uvInstallerUrl' },
    python3: { type: 'string', default: 'python3', description: 'route pip: the python (3.11 or 3.12) that builds the venv' },
    index: { type: 'string', description: 'a package index that replaces PyPI (a mirror or a local wheel index)' },
    bind: { type: 'string', default: '127.0.0.1', description: 'invokeai.yaml host' },
    port: { type: 'number', default: 9090, description: 'invokeai.yaml port' },
    origins: { type: 'string', default: '', description: 'invokeai.yaml allow_origins, comma-separated (empty: InvokeAI\'s default)' },
    modelsGB: { type: 'number', default: 0, description: 'disk to keep free in the model store for the models you will install (GB), checked with the env and its cache' },
    checkpoint: { type: 'enum', values: ['none', 'sd-v1-4-full-ema.ckpt', 'sd-v1-4.ckpt'], default: 'none', description: 'a Stable Diffusion 1.4 checkpoint from the model store (downloaded once, shared with recipes/invokeai), linked under models/ and registered at startup' },
    modelStore: { type: 'path', description: 'the model store shared with recipes/invokeai (default: ~/.local/share/statecraft/models, ~/Library/Application Support/statecraft/models, %LOCALAPPDATA%\\statecraft\\models)' },
    hfToken: { type: 'string', secret: true, env: 'HF_TOKEN', description: 'Hugging Face token for the checkpoint (read from HF_TOKEN only)' },
    hubUrl: { type: 'string', env: 'HF_ENDPOINT', default: 'https://huggingface.co', description: 'the hub (HF_ENDPOINT, as huggingface_hub reads it)' },
    checkpointUrl: { type: 'string', description: 'TEST ONLY: download the checkpoint from here instead of the hub' },
    checkpointSha256: { type: 'string', description: 'TEST ONLY: the checkpoint\'s sha256 instead of the known one' },
    checkpointSize: { type: 'number', description: 'TEST ONLY: the checkpoint\'s size in bytes instead of the known one' },
    service: { type: 'boolean', default: true, description: 'run invokeai-web as a service and wait for /api/v1/app/version' },
  },
  resources: ({ facts, options: o }) => {
    const build = chooseTorchBuild(facts, o.torch, o.torchBackend)
    if (!build.ok) throw new ValidationError(`${refusalText(build)} (nothing was changed)`)
    const root = absolute(o.root.replace(/[\\/]+$/, ''), facts)
    const route = routeOf(facts, o.route)
    const name = `invokeai-${o.version}-${build.backend}`
    const sep = facts.os === 'windows' ? '\\' : '/'
    const envs = `${root}${sep}envs`
    const link = `${root}${sep}current`
    const tool = route === 'uv'
      ? uvInstall(facts, { ...(o.uv !== undefined ? { given: absolute(o.uv, facts) } : {}), ...(o.uvInstallerUrl !== undefined ? { installerUrl: o.uvInstallerUrl } : {}), ...(o.uvInstallerSha256 !== undefined ? { installerSha256: o.uvInstallerSha256 } : {}), after: ['room'] })
      : { uv: '', resources: [], ids: [] }
    const cmds = envCommands(facts, { route, env: `${envs}${sep}${name}`, version: o.version, build, uv: tool.uv, python3: o.python3, ...(o.index ? { index: o.index } : {}) })
    const userUnit = facts.os === 'linux' && facts.uid !== 0
    const venvPkg = route === 'pip' && facts.packageManagers.includes('apt') && o.python3 === 'python3'
    const ckptName = o.checkpoint === 'none' ? undefined : o.checkpoint as CheckpointName
    // The download runs curl; a minimal Linux (Debian's netinst, a container) may lack it.
    const curl = ckptName !== undefined && facts.os === 'linux'
    const store = modelStore(facts, { ...o, checkpoint: ckptName ?? 'sd-v1-4-full-ema.ckpt' }, { after: ['room'], ...(curl ? { downloadAfter: ['curl'] } : {}), notify: o.service ? ['service'] : [] })
    const models: Resource[] = ckptName === undefined ? [] : [
      ...(curl ? [pkg({ id: 'curl', name: 'curl', become: true, after: ['room'] })] : []),
      ...store.resources,
      // InvokeAI 5/6 registers what it finds under its models dir at startup (scan_models_on_startup in invokeai.yaml).
      directory({ id: 'models', path: `${root}${sep}models${sep}statecraft`, after: ['room'], tags: [MODELS_TAG] }),
      storeLink(store, { id: 'checkpoint', path: `${root}${sep}models${sep}statecraft${sep}${ckptName}`, after: ['models'], notify: o.service ? ['service'] : [] }),
    ]
    const out: Resource[] = [
      // Before anything changes: room for the new env, its wheels in the cache and the models, each where it lands.
      room({
        id: 'room', root, ready: `${envs}${sep}${name}${sep}${READY}`, cache: cacheDir(facts, route), store: store.dir,
        ...(ckptName !== undefined ? { checkpoint: store.checkpointPath } : {}), checkpointBytes: store.checkpoint.size ?? 0,
        ...envSizes(build), modelsBytes: Math.round(o.modelsGB * 1024 ** 3), marginBytes: 2 * 1024 ** 3,
      }),
      directory({ id: 'envs', path: envs, after: ['room'] }),
      ...tool.resources,
      // Debian and Ubuntu split venv's ensurepip out of python3: without it `python3 -m venv` fails.
      ...(venvPkg ? [pkg({ id: 'venv', name: 'python3-venv', become: true, after: ['room'] })] : []),
      envSwap({
        id: 'env',
        envs, name, link,
        create: cmds.create,
        install: cmds.install,
        smoke: smokeTest(cmds.python, build),
        smokeWhat: `a tensor op on ${build.device}, torch build ${build.backend}; ${build.why}`,
        after: ['envs', ...tool.ids, ...(venvPkg ? ['venv'] : [])],
        ...(o.service ? { notify: ['service'] } : {}),
      }),
      file({ id: 'config', path: `${root}${sep}invokeai.yaml`, content: invokeaiYaml({ ...o, scanModels: ckptName !== undefined }), after: ['envs'], ...(o.service ? { notify: ['service'] } : {}) }),
      ...models,
    ]
    if (o.service) {
      const web = facts.os === 'windows' ? `${link}\\Scripts\\invokeai-web.exe` : `${link}/bin/invokeai-web`
      out.push(service({
        id: 'service',
        name: 'invokeai-modern',
        argv: [web, '--root', root],
        cwd: root,
        ...(facts.os === 'darwin' ? { env: { PYTORCH_ENABLE_MPS_FALLBACK: '1' } } : {}),
        ...(userUnit ? { scope: 'user', become: true } : {}),
        description: 'InvokeAI web UI, modern flow (statecraft)',
        after: ['env', 'config', ...(ckptName !== undefined ? ['checkpoint'] : [])],
      }))
      const host = o.bind === '0.0.0.0' || o.bind === '::' || isLoopback(o.bind) ? '127.0.0.1' : o.bind
      out.push(httpCheck({
        id: 'health',
        url: `http://${host.includes(':') ? `[${host}]` : host}:${o.port}/api/v1/app/version`,
        // The running version must be the one declared: after a swap the old process may still answer.
        expect: { status: 200, bodyIncludes: `"version":"${o.version}"` },
        timeout: 600,
        ...(facts.os === 'linux' ? { logs: userUnit ? { unit: 'invokeai-modern', user: facts.user } : { unit: 'invokeai-modern' } } : {}),
        after: ['service'],
      }))
    }
    return out
  },
})

/** uv where a package manager ships it; otherwise the venv + pip route, which needs only python3. */
export function routeOf(facts: Facts, route: 'auto' | Route): Route {
  if (route !== 'auto') return route
  return managerShipsUv(facts) ? 'uv' : 'pip'
}
