import * as v from 'valibot'
import { service, ValidationError, type Facts, type Resource } from '../../lib/index.ts'
import { defineResource, quote } from '../../lib/kit.ts'

export interface Installed {
  root: string
  condaPrefix: string
  envName: string
  removeModels: boolean
  python: string
}

interface RemovalOptions {
  /** The env's directory and the conda that removes it (absolute). */
  envDir: string
  conda: string
  envName: string
  /** The checkout (absolute); its `models/` is kept unless `removeModels`. The model store, outside it, is always kept. */
  root: string
  removeModels: boolean
}

interface RemovalCurrent {
  /** KiB each part holds now; undefined when it is gone. */
  envKiB?: number
  checkoutKiB?: number
}

type RemovalOp = { op: 'remove-env' } | { op: 'remove-checkout' }

const human = (kib: number): string => (kib >= 1024 * 1024 ? `${(kib / 1024 / 1024).toFixed(1)} GB` : `${Math.max(1, Math.round(kib / 1024))} MB`)
const keep = (d: RemovalOptions): string => (d.removeModels ? '' : ' ! -name models')

/**
 * What the recipe installed, minus the service (removed first by the service resource): the env,
 * then the checkout. The probe measures each (`du -sk`), so the plan and the report say how much
 * space the removal frees.
 */
export const removalResource = defineResource<RemovalOptions, RemovalCurrent, RemovalOp>({
  type: 'invokeaiRemoval',
  describe: () => 'invokeai removal',
  fields: { envDir: v.string(), conda: v.string(), envName: v.string(), root: v.string(), removeModels: v.boolean() },
  defaultId: () => 'removal',
  parse: (data) => {
    const c: RemovalCurrent = {}
    if (/^\d+$/.test(data.get('env') ?? '')) c.envKiB = Number(data.get('env'))
    if (/^\d+$/.test(data.get('checkout') ?? '')) c.checkoutKiB = Number(data.get('checkout'))
    return c
  },
  diff(d, c) {
    const out: ({ op: RemovalOp['op']; text: string })[] = []
    if (c.envKiB !== undefined) out.push({ op: 'remove-env', text: `remove conda env ${d.envName} (${d.envDir}): frees ${human(c.envKiB)}` })
    if (c.checkoutKiB !== undefined) out.push({ op: 'remove-checkout', text: `remove ${d.root}${d.removeModels ? ', models/ included (the model store is kept)' : ', keeping models/ (its link to the model store)'}: frees ${human(c.checkoutKiB)}` })
    return out
  },
  posix: {
    probe: (d) => `sc_e=${quote(d.envDir)}; sc_r=${quote(d.root)}
if [ -d "$sc_e" ]; then printf 'env=%s\\n' "$(du -sk -- "$sc_e" 2>/dev/null | cut -f1)"; fi
if [ -d "$sc_r" ] && [ -n "$(find "$sc_r" -mindepth 1 -maxdepth 1${keep(d)} | head -n 1)" ]; then
  printf 'checkout=%s\\n' "$(find "$sc_r" -mindepth 1 -maxdepth 1${keep(d)} -exec du -sk {} + 2>/dev/null | awk '{s += $1} END {print s + 0}')"
fi`,
    apply: (d, _c, changes) => changes.map((ch) => (ch.op === 'remove-env'
      ? { argv: [d.conda, 'env', 'remove', '-n', d.envName, '--yes'], label: `conda env remove ${d.envName}` }
      : { argv: ['sh', '-c', `find "$1" -mindepth 1 -maxdepth 1${keep(d)} -exec rm -rf {} + && { [ -n "$(ls -A "$1")" ] || rmdir "$1"; }`, 'statecraft-remove', d.root], label: `remove ${d.root}` })),
  },
  examples: ({ path, value }) => [
    { desired: { envDir: `${path}/envs/${value}`, conda: `${path}/bin/conda`, envName: value, root: path, removeModels: false }, current: { envKiB: 10, checkoutKiB: 10 } },
    { desired: { envDir: `${path}/envs/x`, conda: `${path}/bin/conda`, envName: 'x', root: path, removeModels: true }, current: { checkoutKiB: 10 } },
  ],
})

export const removalType = removalResource.type

/** `state: 'absent'`: the service, then the env and the checkout; the prerequisites stay (other work may use them). */
export function removal(facts: Facts, o: Installed): Resource[] {
  if (facts.os === 'windows') {
    throw new ValidationError('recipe invokeai: state absent is not implemented for Windows hosts yet; remove the scheduled task "invokeai", the env and the checkout by hand')
  }
  return [
    service({ id: 'service', name: 'invokeai', argv: [o.python], state: 'absent', ...(facts.os === 'linux' && facts.uid !== 0 ? { scope: 'user' } : {}) }),
    removalResource({
      id: 'removal',
      envDir: `${o.condaPrefix}/envs/${o.envName}`,
      conda: `${o.condaPrefix}/bin/conda`,
      envName: o.envName,
      root: o.root,
      removeModels: o.removeModels,
      after: ['service'],
    }),
  ]
}
