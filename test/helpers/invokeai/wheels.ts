import { createHash } from 'node:crypto'
import { crc32 } from 'node:zlib'

/**
 * Real wheels (PEP 427 zip files, stored entries), built in memory: pip installs them as it
 * installs any wheel — RECORD checked, console scripts generated from entry_points.txt.
 */
export function wheel(name: string, version: string, files: Record<string, string>, o: { requires?: string[]; scripts?: Record<string, string> } = {}): { file: string; bytes: Buffer } {
  const info = `${name}-${version}.dist-info`
  const all: Record<string, string> = {
    ...files,
    [`${info}/METADATA`]: ['Metadata-Version: 2.1', `Name: ${name}`, `Version: ${version}`, ...(o.requires ?? []).map((r) => `Requires-Dist: ${r}`), ''].join('\n'),
    [`${info}/WHEEL`]: 'Wheel-Version: 1.0\nGenerator: statecraft-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
    ...(o.scripts ? { [`${info}/entry_points.txt`]: `[console_scripts]\n${Object.entries(o.scripts).map(([k, v]) => `${k} = ${v}`).join('\n')}\n` } : {}),
  }
  const record = Object.entries(all).map(([p, text]) => {
    const b = Buffer.from(text)
    return `${p},sha256=${createHash('sha256').update(b).digest('base64url')},${b.length}`
  })
  all[`${info}/RECORD`] = `${[...record, `${info}/RECORD,,`].join('\n')}\n`
  return { file: `${name}-${version}-py3-none-any.whl`, bytes: zip(all) }
}

/** A zip of stored (uncompressed) entries: local headers, central directory, end record. */
function zip(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = []
  const central: Buffer[] = []
  let offset = 0
  for (const [path, text] of Object.entries(entries)) {
    const name = Buffer.from(path)
    const data = Buffer.from(text)
    const crc = crc32(data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(0, 6); local.writeUInt16LE(0, 8)
    local.writeUInt16LE(0, 10); local.writeUInt16LE(0x21, 12); local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(data.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(name.length, 26); local.writeUInt16LE(0, 28)
    const dir = Buffer.alloc(46)
    dir.writeUInt32LE(0x02014b50, 0); dir.writeUInt16LE(20, 4); dir.writeUInt16LE(20, 6); dir.writeUInt16LE(0, 8); dir.writeUInt16LE(0, 10)
    dir.writeUInt16LE(0, 12); dir.writeUInt16LE(0x21, 14); dir.writeUInt32LE(crc, 16); dir.writeUInt32LE(data.length, 20); dir.writeUInt32LE(data.length, 24)
    dir.writeUInt16LE(name.length, 28); dir.writeUInt16LE(0, 30); dir.writeUInt16LE(0, 32); dir.writeUInt16LE(0, 34); dir.writeUInt16LE(0, 36)
    dir.writeUInt32LE(0o100644 * 65536, 38); dir.writeUInt32LE(offset, 42)
    locals.push(local, name, data)
    central.push(dir, name)
    offset += 30 + name.length + data.length
  }
  const cd = Buffer.concat(central)
  const end = Buffer.alloc(22)
  const n = Object.keys(entries).length
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(0, 4); end.writeUInt16LE(0, 6); end.writeUInt16LE(n, 8); end.writeUInt16LE(n, 10)
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16); end.writeUInt16LE(0, 20)
  return Buffer.concat([...locals, cd, end])
}
