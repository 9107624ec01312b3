/** bench/RESULTS.md from bench/run.ts's figures: medians, min and max, and the ratio per pair. */
export interface Side {
  label: string
  ms: number[]
  /** Peak memory of each run (GNU time), KiB. */
  rssKiB?: number[]
}
export interface Figure {
  what: string
  a: Side
  b?: Side
  /** Two figures side by side that are not a contest (no ratio). */
  noRatio?: boolean
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}
const sec = (ms: number): string => (ms / 1000).toFixed(2)
const cell = (s: Side): string =>
  `${sec(median(s.ms))} s (${sec(Math.min(...s.ms))}–${sec(Math.max(...s.ms))})${s.rssKiB?.length ? `, peak RSS ${(median(s.rssKiB) / 1024).toFixed(0)} MiB` : ''}`

export function report(o: { figures: Figure[]; versions: Record<string, string>; machine: string; runs: number; load: number[] }): string {
  const rows = o.figures.map((f) => {
    const ratio = f.b && !f.noRatio ? `${(median(f.b.ms) / median(f.a.ms)).toFixed(1)}×` : ''
    return `| ${f.what} | ${f.a.label}: ${cell(f.a)} | ${f.b ? `${f.b.label}: ${cell(f.b)}` : ''} | ${ratio} |`
  })
  return `# Benchmark results (\`npm run bench\`)

Written by bench/run.ts on ${new Date().toISOString()}. ${o.runs} timed runs per side after one untimed
run of each, A and B alternating; wall time of the whole process; median (min–max).
Ratio: B's median over A's.

Machine: ${o.machine}. Load average (1 min) while measuring: ${o.load.map((l) => l.toFixed(1)).join(', ')}.

| figure | A | B | B / A |
|---|---|---|---|
${rows.join('\n')}

Versions: ${Object.entries(o.versions).map(([k, v]) => `${k}: ${v}`).join('; ')}.

Start-up (where a no-op spends its time before the first byte reaches the host, and the cuts
made): [STARTUP.md](STARTUP.md), from \`npx tsx bench/startup.ts\`.
`
}
