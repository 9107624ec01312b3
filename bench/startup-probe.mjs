// Preloaded by bench/startup.ts (NODE_OPTIONS=--import): when this process first opened a TCP
// connection (ssh2 connects through net.Socket), and when it exited, in ms since it started.
import net from 'node:net'

const connect = net.Socket.prototype.connect
let first
net.Socket.prototype.connect = function (...args) {
  first ??= performance.now()
  return connect.apply(this, args)
}
process.on('exit', () => {
  if (first !== undefined) process.stderr.write(`startup-probe: connect ${first.toFixed(1)} exit ${performance.now().toFixed(1)}\n`)
})
