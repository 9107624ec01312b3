/**
 * A 2 GiB artifact: the no-op check (stamp: stat only) against a full re-hash
 * (--verify-artifacts), and download throughput against plain curl from the same local server.
 *
 *   npx tsx bench/artifact.ts [sizeMiB]
 *
 * Speed is reported here, never asserted in tests.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { converge, defineRecipe, download } from '../lib/index.ts'
import { LocalTransport } from '../lib/transport/local.ts'

const MIB = Number(process.argv[2] ?? 2048)
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await f()
  return performance.now() - t0
}

function sh(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: 'ignore' })
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))))
  })
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sc-bench-art-'))
  // A 1 MiB pseudo-random block repeated, served by the test hub from a process of its own.
  const server = spawn(process.execPath, [...process.execArgv, join(import.meta.dirname, 'hub-server.ts'), String(MIB)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const info = await new Promise<{ hubUrl: string }>((resolve) => server.stdout.once('data', (b: Buffer) => resolve(JSON.parse(b.toString()))))
  try {
    const url = `${info.hubUrl}/open/resolve/main/big.ckpt`
    const host = () => [{ name: 'local', transport: new LocalTransport({ env: { ...process.env, HOME: work } }) }]
    const dest = join(work, 'big.ckpt')
    const recipe = defineRecipe({ name: 'art', resources: () => [download({ url, dest })] })
    console.log(`${MIB} MiB artifact, node ${process.version}, medians\n`)

    const dl = median(await Promise.all([0].map(() => timed(async () => {
      const r = await converge({ recipe, hosts: host() })
      if (!r.ok) throw new Error(JSON.stringify(r.hosts[0]))
    }))))
    const curl: number[] = []
    for (let i = 0; i < 3; i++) curl.push(await timed(() => sh('curl', ['-sS', '-L', '-o', join(work, 'curl.out'), url])))
    const curlMs = median(curl)
    const stampRuns: number[] = []
    const hashRuns: number[] = []
    for (let i = 0; i < 5; i++) stampRuns.push(await timed(() => converge({ recipe, hosts: host(), mode: 'plan' })))
    for (let i = 0; i < 3; i++) hashRuns.push(await timed(() => converge({ recipe, hosts: host(), mode: 'plan', verifyArtifacts: true })))
    const row = (k: string, ms: number): void => console.log(`${k.padEnd(62)} ${ms.toFixed(0).padStart(7)} ms`)
    row('statecraft download (curl on the host + sha256 check + rename)', dl)
    row('plain curl -o, same server', curlMs)
    row('statecraft no-op (stamp: stat only)', median(stampRuns))
    row('statecraft no-op with --verify-artifacts (full re-hash)', median(hashRuns))
    console.log('\nratios')
    console.log(`  download time / plain curl                     ${(dl / curlMs).toFixed(2)}x  (throughput ${((MIB / (dl / 1000))).toFixed(0)} MiB/s vs ${((MIB / (curlMs / 1000))).toFixed(0)} MiB/s)`)
    console.log(`  full re-hash / stamp check                     ${(median(hashRuns) / median(stampRuns)).toFixed(1)}x`)
  } finally {
    server.stdin.end()
    rmSync(work, { recursive: true, force: true })
  }
}

await main()
