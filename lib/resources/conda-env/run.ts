import type { Facts, Resource } from '../../core/types.ts'
import { ValidationError } from '../../core/errors.ts'
import { condaEnvType, type CondaEnvOptions } from './conda-env.ts'

/** What `condaRun` gives: spread it into `command({...})` (or a service's argv and environment). */
export interface CondaRun {
  argv: string[]
  /** The env's `variables:`, set explicitly: `conda run` applies them only on condas that store them. */
  env: Record<string, string>
  cwd?: string
}

/**
 * A command run inside a conda env without activating it:
 * `[conda, 'run', '-n', name, '--no-capture-output', ...argv]`. `--no-capture-output` streams the
 * command's output as it comes (without it conda prints nothing until the command ends; it needs
 * conda 4.9 or later). The env's declared `variables` come as `env` with PYTHONUNBUFFERED=1
 * (so Python's own output streams too), `opts.env` on top.
 * @example
 * const env = condaEnv({ name: 'invokeai', file: '~/invokeai/environment-mac.yml', variables: { PYTORCH_ENABLE_MPS_FALLBACK: '1' } })
 * command({ ...condaRun(env, ['python', 'scripts/preload_models.py'], ctx.facts, { cwd: '~/invokeai' }), onlyIfNotified: true })
 */
export function condaRun(envRef: Resource<CondaEnvOptions>, argv: string[], facts: Facts, opts: { cwd?: string; env?: Record<string, string> } = {}): CondaRun {
  if (envRef.kind.type !== 'condaEnv') throw new ValidationError(`condaRun: expected a condaEnv resource, got a ${envRef.kind.type}`)
  if (argv.length === 0) throw new ValidationError('condaRun: argv is empty; give the program to run inside the env, e.g. [\'python\', \'script.py\']')
  const d = condaEnvType.validate(envRef.desired, facts)
  const target = d.name !== undefined ? ['-n', d.name] : ['-p', d.prefix as string]
  // Python block-buffers a pipe: without this, a long script looks silent to the idle timeout.
  const out: CondaRun = { argv: [d.resolved?.conda as string, 'run', ...target, '--no-capture-output', ...argv], env: { PYTHONUNBUFFERED: '1', ...d.variables, ...opts.env } }
  if (opts.cwd !== undefined) out.cwd = opts.cwd
  return out
}
