/**
 * Transfer progress for the CLI: one redrawn line on a terminal (bytes, rate, ETA), otherwise a
 * plain line every few seconds per transfer, so CI logs show that a 7.7 GB download is moving.
 */
export interface ProgressOptions {
  tty: boolean
  write: (s: string) => void
  /** Seconds between plain lines (no TTY). */
  every?: number
  now?: () => number
}

const size = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(0)} kB`)
const duration = (s: number): string => (s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s` : `${Math.round(s)}s`)

export function progressReporter(o: ProgressOptions): (host: string, id: string, bytes: number, total?: number) => void {
  const now = o.now ?? Date.now
  const seen = new Map<string, { t0: number; b0: number; lastLine: number }>()
  return (host, id, bytes, total) => {
    const key = `${host}\0${id}`
    const t = now()
    const s = seen.get(key) ?? { t0: t, b0: bytes, lastLine: -Infinity }
    seen.set(key, s)
    const secs = (t - s.t0) / 1000
    const rate = secs > 0 ? (bytes - s.b0) / secs : 0
    const pct = total ? ` (${Math.floor((bytes / total) * 100)}%)` : ''
    const eta = total && rate > 0 ? `, ETA ${duration((total - bytes) / rate)}` : ''
    const text = `${host} ${id}: ${size(bytes)}${total ? ` / ${size(total)}` : ''}${pct}${rate > 0 ? `, ${size(rate)}/s` : ''}${eta}`
    if (o.tty) {
      const width = 24
      const filled = total ? Math.round((bytes / total) * width) : 0
      o.write(`\r\x1b[K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}`)
    } else if (t - s.lastLine >= (o.every ?? 5) * 1000) {
      s.lastLine = t
      o.write(`${text}\n`)
    }
  }
}
