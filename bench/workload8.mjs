// Plain JS on the built library, so Node 20 runs it without a TypeScript loader (whole-process timing).
import { command, defineRecipe, directory, download, file, git, line, pkg } from '../dist/lib/index.js'

/**
 * The 8-task workstation workload of ../shared/PERF.md, as bench/run.ts runs it against Ansible:
 * a package present, two directories, a git checkout at a tag (a local bare repository), a
 * checksummed artifact (a local HTTP server), a config file, a profile line, a guarded command and
 * a unit file. One tree per host under `root`. `artifact=0` leaves the artifact out (the
 * artifact figure compares a no-op with and without it).
 */
export default defineRecipe({
  name: 'bench-workload8',
  options: { root: { required: true }, repo: { required: true }, tag: { required: true }, url: { required: true }, sha256: { required: true }, artifact: { default: '1' } },
  resources: ({ options: o, host }) => {
    const root = `${o.root}/${host.name}`
    return [
      pkg({ name: 'coreutils' }),
      directory({ path: `${root}/invokeai/models/ldm/stable-diffusion-v1`, mode: '0755' }),
      directory({ path: `${root}/invokeai/configs`, mode: '0755' }),
      git({ repo: o.repo, dest: `${root}/src`, ref: o.tag }),
      ...(o.artifact === '1' ? [download({ url: o.url, dest: `${root}/invokeai/models/ldm/stable-diffusion-v1/model.ckpt`, sha256: o.sha256 })] : []),
      file({ path: `${root}/invokeai/configs/invokeai.init`, content: '--web\n--host=127.0.0.1\n--port=9090\n', mode: '0644' }),
      line({ path: `${root}/profile`, match: '^export PYTORCH_ENABLE_MPS_FALLBACK=', line: 'export PYTORCH_ENABLE_MPS_FALLBACK=1' }),
      command({ id: 'stamp', argv: ['touch', `${root}/stamp`], creates: `${root}/stamp` }),
      file({ path: `${root}/units/invokeai.service`, content: '[Unit]\nDescription=InvokeAI\n\n[Service]\nExecStart=/usr/bin/true\n\n[Install]\nWantedBy=default.target\n', mode: '0644' }),
    ]
  },
})
