// Preloaded by bench/startup.ts (NODE_OPTIONS=--import): when this process first connected to
// the host (STARTUP_PORT; ssh2 connects through net.Socket), and when it exited, in ms since it
// started. npx's own process connects elsewhere (the registry) and is not counted.
import net from 'node:net'

const connect = net.Socket.prototype.connect
let first
const port = Number(process.env.STARTUP_PORT)
net.Socket.prototype.connect = function (...args) {
  const o = args[0]
  if (o && typeof o === 'object' && Number(o.port) === port) first ??= performance.now()
  return connect.apply(this, args)
}
process.on('exit', () => {
  if (first !== undefined) process.stderr.write(`startup-probe: connect ${first.toFixed(1)} exit ${performance.now().toFixed(1)}\n`)
})
