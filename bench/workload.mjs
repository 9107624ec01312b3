// Plain JS on the built library, so Node 20 runs it without a TypeScript loader (whole-process timing).
import { command, defineRecipe, directory, file, line } from '../dist/lib/index.js'

/**
 * The no-op workload of bench/ssh-noop.ts, shaped like ../shared/PERF.md's (without the git
 * checkout and the checkpoint, which arrive with the download and git resources): two
 * directories (plus the host's root), a config file, a line in a profile, a guarded command.
 * One tree per host.
 */
export default defineRecipe({
  name: 'bench-workload',
  options: { root: { required: true } },
  resources: ({ options, host }) => {
    const root = `${options.root}/${host.name}`
    return [
      // The stamp command writes into root: managing root orders it after (an implicit edge).
      directory({ path: root, mode: '0755' }),
      directory({ path: `${root}/invokeai/models/ldm/stable-diffusion-v1`, mode: '0755' }),
      directory({ path: `${root}/invokeai/configs`, mode: '0755' }),
      file({ path: `${root}/invokeai/configs/invokeai.init`, content: '--web\n--host=127.0.0.1\n--port=9090\n', mode: '0644' }),
      line({ path: `${root}/profile`, match: '^export PYTORCH_ENABLE_MPS_FALLBACK=', line: 'export PYTORCH_ENABLE_MPS_FALLBACK=1' }),
      command({ id: 'stamp', argv: ['touch', `${root}/stamp`], creates: `${root}/stamp` }),
    ]
  },
})
