/** The test hub in a process of its own (a 2 GiB blob in the benchmark's own heap would slow every fork). */
import { bytes, startHub } from '../test/helpers/hub.ts'

const mib = Number(process.argv[2] ?? 2048)
const hub = await startHub()
const block = bytes(1024 * 1024, 3)
const blob = hub.addBlob('big.ckpt', Buffer.concat(Array.from({ length: mib }, () => block)))
process.stdout.write(`${JSON.stringify({ hubUrl: hub.hubUrl, sha256: blob.sha256 })}\n`)
process.stdin.resume()
process.stdin.on('end', () => void hub.close().then(() => process.exit(0)))
