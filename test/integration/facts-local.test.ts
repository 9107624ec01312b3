import { spawnSync } from 'node:child_process'
import { chmodSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { converge, defineRecipe, directory, versionSatisfies, type Facts } from '../../lib/index.ts'
import { parseFacts } from '../../lib/facts/gather.ts'
import { factsScript } from '../../lib/shell/posix/scripts.ts'
import { h100Output } from '../helpers/h100.ts'
import { localHost, tempDir } from '../helpers/tmp.ts'

/** An empty-ish recipe (one directory that exists) that keeps the facts it was given. */
function keeping(facts?: readonly 'gpu'[]) {
  const seen: Facts[] = []
  const dir = tempDir()
  const recipe = defineRecipe({ name: 'facts', ...(facts ? { facts } : {}), resources: ({ facts: f }) => (seen.push(f), [directory({ path: dir })]) })
  return { recipe, seen }
}

describe('facts of this machine (Debian 12, no GPU tools)', () => {
  it('OS version, distro, apt, memory; a no-op costs 3 round trips', async () => {
    const { recipe, seen } = keeping()
    const r = await converge({ recipe, hosts: [{ name: 'local', transport: localHost(tempDir()) }], mode: 'plan' })
    expect(r.hosts[0]!.error).toBeUndefined()
    expect(r.summary).toMatchObject({ changed: 0, unchanged: 1 })
    expect(r.hosts[0]!.roundTrips).toBe(3)
    const f = seen[0]!
    expect(f.distro?.id).toBe('debian')
    expect(versionSatisfies(f.osVersion, '>=12')).toBe(true)
    expect(f.packageManagers).toContain('apt')
    expect(f.memoryBytes).toBeGreaterThan(0)
    expect(typeof f.rebootPending).toBe('boolean')
    expect(() => f.gpu).toThrow(/add facts: \['gpu'\]/)
  })

  it("with facts: ['gpu']: none found here, still 3 round trips", async () => {
    const { recipe, seen } = keeping(['gpu'])
    const r = await converge({ recipe, hosts: [{ name: 'local', transport: localHost(tempDir()) }], mode: 'plan' })
    expect(r.hosts[0]!.error).toBeUndefined()
    expect(r.hosts[0]!.roundTrips).toBe(3)
    expect(seen[0]!.gpu).toEqual({ vendor: 'none', devices: [] })
    expect(seen[0]!.distro?.id).toBe('debian')
  })

  it('the real script, with an nvidia-smi on PATH that answers as the H100 host did', () => {
    const bin = tempDir()
    const answers: Record<string, string> = {
      '--query-gpu=name,driver_version,memory.total --format=csv,noheader,nounits': h100Output('nvidia-smi.txt', 'nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader,nounits').replace(/, 9\.0$/m, ''),
      '--version': h100Output('nvidia-smi.txt', 'nvidia-smi --version'),
    }
    for (const [args, text] of Object.entries(answers)) writeFileSync(`${bin}/${args.replaceAll('/', '_')}`, text)
    writeFileSync(`${bin}/nvidia-smi`, `#!/bin/sh\nf="${bin}/$*"\n[ -f "$f" ] || exit 2\ncat "$f"\n`)
    chmodSync(`${bin}/nvidia-smi`, 0o755)
    const r = spawnSync('sh', ['-s'], { input: factsScript(['gpu']), encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } })
    expect(r.status).toBe(0)
    expect(parseFacts(r.stdout, 'local').gpu).toEqual({ vendor: 'nvidia', devices: [{ name: 'NVIDIA H100 80GB HBM3', memoryBytes: 81559 * 2 ** 20 }], driver: '580.159.04', cuda: '13.0' })
  })

  it('an nvidia-smi whose --version lacks the CUDA line (older drivers): the plain header gives it', () => {
    const bin = tempDir()
    writeFileSync(`${bin}/header`, h100Output('nvidia-smi.txt', 'nvidia-smi'))
    writeFileSync(`${bin}/nvidia-smi`, `#!/bin/sh\ncase "$*" in --version) echo 'NVIDIA-SMI version  : 470.256.02' ;; --query-gpu*) echo 'Tesla T4, 470.256.02, 15109' ;; '') cat "${bin}/header" ;; *) exit 2 ;; esac\n`)
    chmodSync(`${bin}/nvidia-smi`, 0o755)
    const r = spawnSync('sh', ['-s'], { input: factsScript(['gpu']), encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } })
    expect(parseFacts(r.stdout, 'local').gpu).toMatchObject({ vendor: 'nvidia', driver: '470.256.02', cuda: '13.0', devices: [{ name: 'Tesla T4' }] })
  })
})
