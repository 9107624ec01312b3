import { describe, expect, it } from 'vitest'
import invokeai from '../../../recipes/invokeai.ts'
import { converge } from '../../../lib/index.ts'
import { composeResources } from '../../../lib/core/compose.ts'
import { resolveOptions } from '../../../lib/core/recipe.ts'
import { prepare } from '../../../lib/engine/node.ts'
import { parseFacts } from '../../../lib/facts/gather.ts'
import { FakeHost, ok, servedReads } from '../../helpers/fake-host.ts'
import { hex } from '../../helpers/facts.ts'
import { h100OsRelease, h100Output } from '../../helpers/h100.ts'

const QUERY = 'nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader,nounits'
/** The facts script's output on the Ubuntu 24.04 H100 host (captured), GPU declared by the recipe. */
const FACTS = ['kernel=Linux', 'machine=x86_64', 'arm64=', 'user=ubuntu', 'uid=1000', `home=${hex('/home/ubuntu')}`, 'hostname=vm', 'bootid=b',
  `osrelease=${hex(h100OsRelease())}`, 'memkb=131595416', 'pkgmgrs= apt dpkg', 'gpu=1', `gpuquery=${hex(h100Output('nvidia-smi.txt', QUERY).replace(/, 9\.0$/m, ''))}`,
  `gpuversion=${hex(h100Output('nvidia-smi.txt', 'nvidia-smi --version'))}`, 'sudo=nopasswd', 'lock=acquired', `lockinfo=${hex('statecraft-lock-v1|t|c|1|x|b')}`].join('\n')

const madison = (...rows: [string, string][]): string => hex(rows.map(([n, v]) => `${n.padStart(10)} | ${v} | http://archive.ubuntu.com/ubuntu noble/main amd64 Packages\n`).join(''))
const PROBES: Record<string, string> = {
  preflight: `avail=${400 * 1024 * 1024}\nckpt=0\nenv=0\nhosttoken=0\ncondax86=0\nportused=0`,
  'prereq/tools': `manager=apt\ninstalled=\navailable=${madison(['git', '1:2.43.0-1ubuntu7.1'], ['curl', '8.5.0-2ubuntu10.6'], ['build-essential', '12.10ubuntu1'])}`,
  'download:/home/ubuntu/.local/share/statecraft/models/sd-v1-4-full-ema.ckpt': `stampok=0\nexists=0\nhead=${hex('curl: (6) Could not resolve host: huggingface.co\n')}`,
}

/** The ids of the probed resources, in the order the engine batches them (as host.ts computes it). */
function probedIds(env: Record<string, string>): string[] {
  const facts = parseFacts(FACTS, 'gpu-box')
  const options = resolveOptions(invokeai, { env }, 'gpu-box')
  return prepare(composeResources(invokeai, { facts, options, host: { name: 'gpu-box', vars: {} } }), facts).filter((n) => !n.handler).map((n) => n.id)
}

describe('recipes/invokeai through the engine, against a replayed fresh Ubuntu 24.04 H100 host', () => {
  it('one facts exec, one batched probe, the unlock: a plan of every resource, offline warnings, no secret', async () => {
    const env = { HF_TOKEN: 'hf_enginetesttoken' }
    const ids = probedIds(env)
    const host = new FakeHost((command, stdin) => {
      // apt needs root: the one batch runs under sudo (NOPASSWD here), which first prints its ready marker.
      const ready = /statecraft-ready-[0-9a-f]+/.exec(command)?.[0]
      if (command !== 'sh -s' && !(command.startsWith('sudo ') && ready)) return undefined
      if (stdin.includes('uname -s')) return ok(FACTS)
      if (stdin.includes('readlink -- "$sc_lock"') && stdin.includes('rm -f')) return ok('')
      const nonce = /@@statecraft:([0-9a-f]+):0/.exec(stdin)?.[1]
      if (!nonce) return undefined
      // The token reaches the host only inside the script on stdin (the curl config), never argv.
      expect(command).not.toContain('hf_enginetesttoken')
      const out = `${ids.map((id, i) => `@@statecraft:${nonce}:${i}\n${PROBES[id] ?? ''}\n`).join('')}${servedReads(stdin, nonce)}@@statecraft:${nonce}:end\n`
      return { code: 0, signal: null, stdout: out, stderr: ready ? `${ready}\n` : '' }
    })
    const r = await converge({ recipe: invokeai, hosts: [{ name: 'gpu-box', transport: host, become: {} }], mode: 'plan', env })
    const h = r.hosts[0]!
    expect(h.error).toBeUndefined()
    expect(h.roundTrips).toBe(3)
    expect(host.calls[1]?.command).toMatch(/^sudo /)
    // The report lists resources as declared (the included prerequisites first); the plan's order is the graph's (see invokeai-plan.test.ts).
    expect(h.resources.map((x) => `${x.id}: ${x.status}`)).toEqual([
      'prereq/tools: changed', 'prereq/conda: changed', 'prereq/rustup: changed', 'preflight: unchanged', 'invokeai: pending', 'models: pending',
      'directory:/home/ubuntu/.local/share/statecraft/models: changed', 'download:/home/ubuntu/.local/share/statecraft/models/sd-v1-4-full-ema.ckpt: pending', 'checkpoint: pending', 'model-sha256: pending', 'env: pending', 'preload: pending', 'service: pending', 'health: pending',
    ])
    expect(h.resources.find((x) => x.id === 'prereq/tools')?.changes).toEqual(['install git 2.43.0 (apt)', 'install curl 8.5.0 (apt)', 'install build-essential 12.10ubuntu1 (apt)'])
    // The H100's driver supports CUDA 13.0 >= 11.3: no GPU warning; the hub is out of reach: "not checked".
    expect(h.warnings).toEqual([expect.stringMatching(/^download:\/home\/ubuntu\/\.local\/share\/statecraft\/models\/sd-v1-4-full-ema\.ckpt: https:\/\/huggingface\.co\/CompVis\/.* not checked \(curl: \(6\) Could not resolve host: huggingface\.co\)/)])
    expect(JSON.stringify(r)).not.toContain('hf_enginetesttoken')
  })
})
