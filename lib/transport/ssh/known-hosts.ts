import { createHash, createHmac } from 'node:crypto'

/** One usable line of an OpenSSH known_hosts file. */
export interface KnownHost {
  marker: '' | '@revoked' | '@cert-authority'
  /** Comma-separated patterns, or a hashed `|1|salt|hash` entry. */
  hosts: string
  keyType: string
  key: string
  line: number
}

export function parseKnownHosts(text: string): KnownHost[] {
  const out: KnownHost[] = []
  text.split('\n').forEach((raw, i) => {
    const l = raw.trim()
    if (l === '' || l.startsWith('#')) return
    const f = l.split(/\s+/)
    const marker = f[0] === '@revoked' || f[0] === '@cert-authority' ? (f.shift() as KnownHost['marker']) : ''
    if (f.length < 3) return
    out.push({ marker, hosts: f[0] as string, keyType: f[1] as string, key: f[2] as string, line: i + 1 })
  })
  return out
}

/** How OpenSSH names a host in known_hosts: `host`, or `[host]:port` off port 22. */
export function hostToken(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`, 'i')
  return re.test(s)
}

export function entryMatches(e: KnownHost, host: string, port: number): boolean {
  const token = hostToken(host, port)
  if (e.hosts.startsWith('|1|')) {
    const [, , salt, hash] = e.hosts.split('|')
    if (!salt || !hash) return false
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(token).digest('base64') === hash
  }
  let hit = false
  for (const p of e.hosts.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), token)) return false
    } else if (globMatch(p, token)) {
      hit = true
    }
  }
  return hit
}

/** The SSH key type named inside a public key blob (its first wire-format string). */
export function blobKeyType(blob: Buffer): string {
  if (blob.length < 4) return ''
  const n = blob.readUInt32BE(0)
  return blob.subarray(4, 4 + n).toString('latin1')
}

/** `SHA256:…` as `ssh-keygen -l` prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

export type HostKeyVerdict =
  | { kind: 'known' }
  | { kind: 'unknown' }
  | { kind: 'changed'; recorded: KnownHost[] }
  | { kind: 'revoked' }

/** Compares the key a server offered with what known_hosts records for it. */
export function checkHostKey(entries: KnownHost[], host: string, port: number, blob: Buffer): HostKeyVerdict {
  const b64 = blob.toString('base64')
  const type = blobKeyType(blob)
  if (entries.some((e) => e.marker === '@revoked' && e.key === b64)) return { kind: 'revoked' }
  const mine = entries.filter((e) => e.marker === '' && entryMatches(e, host, port))
  if (mine.some((e) => e.key === b64 && e.keyType === type)) return { kind: 'known' }
  // OpenSSH treats a different key of a type already recorded as a change; a new type alone is
  // unknown — but we make the server offer the recorded types first, so a good host never lands here.
  if (mine.length > 0) return { kind: 'changed', recorded: mine }
  return { kind: 'unknown' }
}

const ALGOS_FOR_TYPE: Record<string, string[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
}

/** Host key algorithms to offer, the types recorded for this host first (as OpenSSH does). */
export function preferredHostKeyAlgorithms(entries: KnownHost[], host: string, port: number, defaults: string[]): string[] {
  const recorded = entries.filter((e) => e.marker === '' && entryMatches(e, host, port)).flatMap((e) => ALGOS_FOR_TYPE[e.keyType] ?? [e.keyType])
  const first = [...new Set(recorded)].filter((a) => defaults.includes(a))
  return [...first, ...defaults.filter((a) => !first.includes(a))]
}

export function knownHostsLine(host: string, port: number, blob: Buffer): string {
  return `${hostToken(host, port)} ${blobKeyType(blob)} ${blob.toString('base64')}`
}
