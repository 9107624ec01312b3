import { command, ValidationError, type Facts, type Resource } from '../../lib/index.ts'
import { service } from '../../lib/index.ts'

export interface Installed {
  root: string
  condaPrefix: string
  envName: string
  removeModels: boolean
  python: string
}

/**
 * `state: 'absent'`: what the recipe installed, removed in reverse order — the service, the env,
 * the checkout (keeping `models/` unless `removeModels`). Each removal prints the kilobytes it
 * freed (`freed <KiB> <what>`), measured with `du -sk` just before. The prerequisites (conda,
 * rustup, git) stay: other work may use them.
 */
export function removal(facts: Facts, o: Installed): Resource[] {
  if (facts.os === 'windows') {
    throw new ValidationError('recipe invokeai: state absent is not implemented for Windows hosts yet; remove the scheduled task "invokeai", the env and the checkout by hand')
  }
  const envDir = `${o.condaPrefix}/envs/${o.envName}`
  const conda = `${o.condaPrefix}/bin/conda`
  const freed = 'sc_k=$(du -sk -- "$1" 2>/dev/null | cut -f1); '
  const keep = o.removeModels ? '' : ' ! -name models'
  return [
    service({ id: 'service', name: 'invokeai', argv: [o.python], state: 'absent', ...(facts.os === 'linux' && facts.uid !== 0 ? { scope: 'user' } : {}) }),
    command({
      id: 'env',
      argv: ['sh', '-c', `${freed}"$2" env remove -n "$3" --yes && echo "freed \${sc_k:-0} KiB: conda env $3"`, 'sc-absent', envDir, conda, o.envName],
      unless: ['sh', '-c', '[ ! -d "$1" ]', 'sc-absent', envDir],
      after: ['service'],
    }),
    command({
      id: 'invokeai',
      argv: ['sh', '-c', `${freed}find "$1" -mindepth 1 -maxdepth 1${keep} -exec rm -rf {} + && { [ -n "$(ls -A "$1")" ] || rmdir "$1"; } && echo "freed \${sc_k:-0} KiB: $1"`, 'sc-absent', o.root],
      unless: ['sh', '-c', `[ ! -e "$1" ] || [ -z "$(find "$1" -mindepth 1 -maxdepth 1${keep} | head -n 1)" ]`, 'sc-absent', o.root],
      after: ['env'],
    }),
  ]
}
