import type { GpuDevice, GpuFacts } from '../core/types.ts'
import { decodeHex } from '../shell/protocol.ts'

/**
 * Pure parsers of the GPU part of the facts output (present only when a recipe declared
 * `facts: ['gpu']`). Keys: `gpu=1` (the part ran), `gpuquery` and `gpuversion` (hex: what
 * nvidia-smi printed), `gpupci` (PCI display controllers as vendor:device), `gpuwmi` (hex: AMD
 * adapter names on Windows).
 */

export interface NvidiaDevice extends GpuDevice {
  driver: string
}

/**
 * `nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader,nounits`: one
 * line per GPU. Read from the right, so a name with a comma survives; lines that are not rows
 * (an error such as "NVIDIA-SMI has failed …") are skipped.
 */
export function parseNvidiaQuery(text: string): NvidiaDevice[] {
  const out: NvidiaDevice[] = []
  for (const line of text.replaceAll('\r\n', '\n').split('\n')) {
    const f = line.split(',').map((x) => x.trim())
    if (f.length < 3) continue
    const mib = f[f.length - 1] as string
    const driver = f[f.length - 2] as string
    const name = f.slice(0, -2).join(', ')
    if (!/^\d+(\.\d+)+$/.test(driver) || name === '') continue
    const mem = /^\d+$/.test(mib) ? Number(mib) * 1024 * 1024 : undefined
    out.push({ name, driver, ...(mem !== undefined ? { memoryBytes: mem } : {}) })
  }
  return out
}

/** The CUDA version the driver supports, from `nvidia-smi --version`, `-q` or the plain header. */
export function parseCudaVersion(text: string): string | undefined {
  return /CUDA Version\s*:\s*(\d+(?:\.\d+)*)/i.exec(text)?.[1]
}

const PCI_VENDORS: Record<string, 'nvidia' | 'amd'> = { '0x10de': 'nvidia', '0x1002': 'amd' }

export function parseGpu(kv: Map<string, string>, host: { appleSilicon: boolean; cpu: string | undefined }): GpuFacts | undefined {
  if (kv.get('gpu') !== '1') return undefined
  if (kv.has('gpuquery')) {
    const text = decodeHex(kv.get('gpuquery'))
    const found = parseNvidiaQuery(text)
    const cuda = parseCudaVersion(decodeHex(kv.get('gpuversion')))
    const problem = text.trim().split('\n')[0]?.trim().slice(0, 300)
    return {
      vendor: 'nvidia',
      devices: found.map(({ driver: _, ...d }) => d),
      ...(found[0] ? { driver: found[0].driver } : {}),
      ...(cuda ? { cuda } : {}),
      ...(found.length === 0 ? { problem: problem || 'nvidia-smi printed no GPU' } : {}),
    }
  }
  if (host.appleSilicon) return { vendor: 'apple', devices: [{ name: host.cpu || 'Apple Silicon' }] }
  const pci = (kv.get('gpupci') ?? '').split(/\s+/).flatMap((x) => {
    const m = /^(0x[0-9a-f]{4}):(0x[0-9a-f]{4})$/i.exec(x)
    const vendor = m ? PCI_VENDORS[(m[1] as string).toLowerCase()] : undefined
    return m && vendor ? [{ vendor, name: `PCI ${(m[1] as string).slice(2).toLowerCase()}:${(m[2] as string).slice(2).toLowerCase()}` }] : []
  })
  for (const vendor of ['nvidia', 'amd'] as const) {
    const mine = pci.filter((p) => p.vendor === vendor)
    if (mine.length > 0) {
      return { vendor, devices: mine.map((p) => ({ name: p.name })), ...(vendor === 'nvidia' ? { problem: 'an NVIDIA GPU is on the PCI bus but nvidia-smi is not installed (no driver?)' } : {}) }
    }
  }
  const wmi = decodeHex(kv.get('gpuwmi')).replaceAll('\r\n', '\n').split('\n').map((x) => x.trim()).filter((x) => x !== '')
  if (wmi.length > 0) return { vendor: 'amd', devices: wmi.map((name) => ({ name })) }
  return { vendor: 'none', devices: [] }
}
