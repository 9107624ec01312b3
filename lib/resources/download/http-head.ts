/** What `curl -sS -I -L` printed, hop by hop, reduced to what a download needs. */
export interface HeadInfo {
  /** Status of the last hop (or the first failing one). */
  status?: number
  linkedSize?: number
  /** sha256 a hub announces for LFS files, without quotes. */
  linkedEtag?: string
  contentLength?: number
  errorCode?: string
  errorMessage?: string
  /** Identifies the source version, so a .part from another version is discarded. */
  sourceId?: string
  curlError?: string
}

export function parseHead(text: string): HeadInfo {
  const info: HeadInfo = {}
  let etag: string | undefined
  let lastModified: string | undefined
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '')
    const status = /^HTTP\/[\d.]+ (\d{3})/.exec(line)
    if (status) {
      info.status = Number(status[1])
      continue
    }
    if (line.startsWith('curl: ')) info.curlError = line
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line)
    if (!m) continue
    const [, k = '', v = ''] = m
    const key = k.toLowerCase()
    if (key === 'x-linked-size') info.linkedSize = Number(v)
    else if (key === 'x-linked-etag') info.linkedEtag = v.replace(/^W\//, '').replaceAll('"', '').toLowerCase()
    else if (key === 'content-length') info.contentLength = Number(v)
    else if (key === 'x-error-code') info.errorCode = v
    else if (key === 'x-error-message') info.errorMessage = v
    else if (key === 'etag') etag = v
    else if (key === 'last-modified') lastModified = v
  }
  const id = info.linkedEtag ?? etag ?? (lastModified && info.contentLength !== undefined ? `${lastModified}/${info.contentLength}` : undefined)
  if (id) info.sourceId = id
  return info
}
