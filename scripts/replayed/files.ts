import type { ProbeData } from '../../lib/core/types.ts'
import type { Entry, Replies } from './types.ts'

/**
 * The file-level probes (directory, file, line, symlink, a command's `creates`), answered from
 * the replayed file system with the keys and shapes the fixture tables state for that OS
 * (test/unit/resources/*, test/helpers/windows-host.ts): `ls -ld` perms on a Mac, `kind=`/`size=`
 * and upper-case hex on Windows.
 */
export const fileReplies: Replies = (n, { facts, fs, hex }) => {
  const d = n.desired as Record<string, unknown>
  const ps = facts.dialect === 'powershell'
  const at = (p: unknown): Entry | undefined => fs[String(p)] ?? (ps ? Object.entries(fs).find(([k]) => k.toLowerCase() === String(p).toLowerCase())?.[1] : undefined)
  const stat = (p: unknown): [string, string][] => {
    const e = at(p)
    if (!e) return [['kind', 'absent']]
    // Sc-Stat prints no permissions (NTFS has ACLs), and a file's size; sc_stat prints ls -ld's.
    if (ps) return e.kind === 'file' ? [['kind', 'file'], ['size', String(Buffer.byteLength(e.content))]] : [['kind', e.kind]]
    return [['kind', e.kind], ['perm', e.perm ?? ''], ['owner', e.owner ?? facts.user]]
  }
  const content = (p: unknown): [string, string][] => {
    const e = at(p)
    return e?.kind === 'file' ? [...(ps ? [] : ([['size', String(Buffer.byteLength(e.content))]] as [string, string][])), ['content', hex(e.content)]] : []
  }
  switch (n.kind.type) {
    case 'directory': {
      const e = at(d.path)
      const empty = e?.kind === 'directory' && !Object.keys(fs).some((k) => k.startsWith(`${String(d.path)}${ps ? '\\' : '/'}`))
      return new Map([...stat(d.path), ...(d.state === 'absent' && e ? ([['empty', empty ? '1' : '0']] as [string, string][]) : [])])
    }
    case 'file':
      return new Map([...stat(d.path), ...(d.content !== undefined ? content(d.path) : [])])
    case 'line':
      return new Map([...stat(d.path), ...content(d.path)])
    case 'symlink': {
      const e = at(d.path)
      return new Map([...stat(d.path), ...(e?.kind === 'link' ? ([['target', hex(e.target)]] as [string, string][]) : [])])
    }
    case 'command':
      if (d.unless !== undefined) return undefined
      return new Map(d.creates !== undefined ? [['creates', at(d.creates) ? '1' : '0']] : []) as ProbeData
  }
  return undefined
}
