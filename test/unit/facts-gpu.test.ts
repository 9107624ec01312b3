import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { composeResources } from '../../lib/core/compose.ts'
import { declaredFacts } from '../../lib/core/declared-facts.ts'
import { parseFacts } from '../../lib/facts/gather.ts'
import { parseCudaVersion, parseNvidiaQuery } from '../../lib/facts/gpu.ts'
import { defineRecipe, directory, include, type Facts } from '../../lib/index.ts'
import { factsScript } from '../../lib/shell/posix/scripts.ts'
import { psFactsScript } from '../../lib/shell/powershell/scripts.ts'
import { hex, linuxFacts } from '../helpers/facts.ts'
import { h100File, h100OsRelease, h100Output } from '../helpers/h100.ts'

const QUERY = 'nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader,nounits'

describe('NVIDIA facts from the real H100 outputs', () => {
  it('the --query-gpu row, as our three-column query prints it', () => {
    // Our query: name,driver_version,memory.total. The capture asked for compute_cap too; drop that column.
    const ours = h100Output('nvidia-smi.txt', QUERY).replace(/, 9\.0$/m, '')
    expect(ours).toBe('NVIDIA H100 80GB HBM3, 580.159.04, 81559\n')
    expect(parseNvidiaQuery(ours)).toEqual([{ name: 'NVIDIA H100 80GB HBM3', driver: '580.159.04', memoryBytes: 81559 * 2 ** 20 }])
  })

  it('the CUDA version from --version, from the plain header and from -q (all say 13.0)', () => {
    expect(parseCudaVersion(h100Output('nvidia-smi.txt', 'nvidia-smi --version'))).toBe('13.0')
    expect(parseCudaVersion(h100Output('nvidia-smi.txt', 'nvidia-smi'))).toBe('13.0')
    expect(parseCudaVersion(h100File('nvidia-smi-q.txt'))).toBe('13.0')
    // cuda_version is not a query field: its error is not mistaken for a version or a GPU row.
    const refused = h100Output('nvidia-smi.txt', 'nvidia-smi --query-gpu=name,driver_version,cuda_version --format=csv')
    expect(parseCudaVersion(refused)).toBeUndefined()
    expect(parseNvidiaQuery(refused)).toEqual([])
  })

  it('the Ubuntu 24.04 H100 host as the facts script reports it, GPU declared', () => {
    const query = h100Output('nvidia-smi.txt', QUERY).replace(/, 9\.0$/m, '')
    const f = parseFacts(
      ['kernel=Linux', 'machine=x86_64', 'arm64=', 'user=ubuntu', 'uid=1000', `home=${hex('/home/ubuntu')}`, 'hostname=vm', 'bootid=b',
        `osrelease=${hex(h100OsRelease())}`, 'memkb=131595416', 'pkgmgrs= apt dpkg', 'gpu=1', `gpuquery=${hex(query)}`, `gpuversion=${hex(h100Output('nvidia-smi.txt', 'nvidia-smi --version'))}`].join('\n'),
      'vm',
    )
    expect(f.distro).toEqual({ id: 'ubuntu', version: '24.04', like: ['debian'] })
    expect(f.gpu).toEqual({ vendor: 'nvidia', devices: [{ name: 'NVIDIA H100 80GB HBM3', memoryBytes: 81559 * 2 ** 20 }], driver: '580.159.04', cuda: '13.0' })
  })

  it('two GPUs; a row with [N/A] memory; a driver that is not loaded', () => {
    expect(parseNvidiaQuery('NVIDIA GeForce RTX 4090, 550.54.14, 24564\nNVIDIA GeForce RTX 4090, 550.54.14, [N/A]\n')).toEqual([
      { name: 'NVIDIA GeForce RTX 4090', driver: '550.54.14', memoryBytes: 24564 * 2 ** 20 },
      { name: 'NVIDIA GeForce RTX 4090', driver: '550.54.14' },
    ])
    const failed = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n"
    const f = parseFacts(['kernel=Linux', 'gpu=1', `gpuquery=${hex(failed)}`, 'gpuversion='].join('\n'), 'h')
    expect(f.gpu).toMatchObject({ vendor: 'nvidia', devices: [], problem: expect.stringMatching(/^NVIDIA-SMI has failed because/) })
    expect(f.gpu?.driver).toBeUndefined()
  })

  it('without nvidia-smi: PCI display controllers (AMD, or NVIDIA with no driver), other vendors ignored', () => {
    expect(parseFacts('kernel=Linux\ngpu=1\ngpupci= 0x1234:0x1111 0x1002:0x73bf\n', 'h').gpu).toEqual({ vendor: 'amd', devices: [{ name: 'PCI 1002:73bf' }] })
    expect(parseFacts('kernel=Linux\ngpu=1\ngpupci= 0x10de:0x2330\n', 'h').gpu).toMatchObject({ vendor: 'nvidia', devices: [{ name: 'PCI 10de:2330' }], problem: expect.stringContaining('nvidia-smi is not installed') })
    expect(parseFacts('kernel=Linux\ngpu=1\ngpupci= 0x1234:0x1111\n', 'h').gpu).toEqual({ vendor: 'none', devices: [] })
    expect(parseFacts(`kernel=Windows_NT\r\ngpu=1\r\ngpuwmi=${hex('AMD Radeon RX 6800 XT').toUpperCase()}\r\n`, 'w').gpu).toEqual({ vendor: 'amd', devices: [{ name: 'AMD Radeon RX 6800 XT' }] })
  })

  it('not declared: no GPU keys, no gpu fact', () => {
    expect(parseFacts('kernel=Linux\ngpupci= 0x10de:0x2330\n', 'h').gpu).toBeUndefined()
  })
})

describe("facts: ['gpu'] — declared, gathered, guarded", () => {
  const reads = (name: string, facts?: readonly 'gpu'[]) => defineRecipe({ name, ...(facts ? { facts } : {}), resources: ({ facts: f }) => [directory({ path: `/srv/${f.gpu?.vendor ?? 'none'}` })] })

  it('the first exec runs the GPU query only when some recipe of the run declares it, also through an include', () => {
    expect(declaredFacts(reads('plain'))).toEqual([])
    expect(declaredFacts(reads('gpu', ['gpu']))).toEqual(['gpu'])
    const outer = defineRecipe({ name: 'outer', include: [include(reads('inner', ['gpu']), { prefix: 'inner' })], resources: () => [] })
    expect(declaredFacts(outer)).toEqual(['gpu'])
    expect(factsScript([])).not.toContain('nvidia-smi')
    expect(factsScript(['gpu'])).toContain('nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader,nounits')
    expect(psFactsScript([])).not.toContain('nvidia-smi')
    expect(psFactsScript(['gpu'])).toContain("'gpu=1'")
  })

  it('an unknown fact name is refused, naming the recipe', () => {
    expect(() => declaredFacts(defineRecipe({ name: 'r', facts: ['gpus' as 'gpu'], resources: () => [] }))).toThrow(/recipe 'r': facts lists 'gpus', which is not a fact to declare; the costly facts are gpu/)
  })

  const gathered: Facts = { ...linuxFacts, gpu: { vendor: 'nvidia', devices: [{ name: 'NVIDIA H100 80GB HBM3' }], driver: '580.159.04', cuda: '13.0' } }
  const ctx = (facts: Facts) => ({ facts, options: {}, host: { name: 'h', vars: {} } })

  it('a recipe that reads facts.gpu without declaring it gets an error telling it to add the declaration', () => {
    expect(() => composeResources(reads('sd'), ctx(linuxFacts))).toThrow(/recipe 'sd' reads facts\.gpu, which it does not declare: add facts: \['gpu'\]/)
    // Even when another recipe of the run declared it and the GPU was gathered.
    const outer = defineRecipe({ name: 'outer', facts: ['gpu'], include: [include(reads('inner'), { prefix: 'inner' })], resources: () => [] })
    expect(() => composeResources(outer, ctx(gathered))).toThrow(/recipe 'inner' reads facts\.gpu/)
  })

  it('a declaring recipe reads it, also when included; spreading the facts of a non-declaring one does not throw', () => {
    const [d] = composeResources(reads('sd', ['gpu']), ctx(gathered))
    expect(d!.desired).toMatchObject({ path: '/srv/nvidia' })
    const outer = defineRecipe({ name: 'outer', include: [include(reads('inner', ['gpu']), { prefix: 'inner' })], resources: ({ facts }) => [directory({ path: `/srv/${Object.keys({ ...facts }).includes('gpu')}` })] })
    expect(composeResources(outer, ctx(gathered)).map((r) => r.desired.path)).toEqual(['/srv/nvidia', '/srv/false'])
  })
})

describe('the facts script run for real on an NVIDIA H200 host (captured output)', () => {
  it('parses to the GPU, driver and CUDA version that nvidia-smi reported there', () => {
    const out = readFileSync(new URL('../fixtures/gpu-linux-nvidia-h200/facts-gpu.out', import.meta.url), 'utf8')
    const facts = parseFacts(out, 'h200')
    expect(facts.gpu).toEqual({ vendor: 'nvidia', devices: [{ name: 'NVIDIA H200', memoryBytes: 143771 * 2 ** 20 }], driver: '580.159.04', cuda: '13.0' })
    expect(facts.os).toBe('linux')
    expect(facts.memoryBytes).toBeGreaterThan(0)
    const tools = readFileSync(new URL('../fixtures/gpu-linux-nvidia-h200/tools.txt', import.meta.url), 'utf8')
    expect(tools).toContain('NVIDIA H200, 580.159.04, 143771')
  })
})
