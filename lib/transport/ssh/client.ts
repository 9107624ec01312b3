import ssh2 from 'ssh2'
import type { Client, ConnectConfig } from 'ssh2'

/**
 * ssh2's Client, connected: resolves once it is ready, rejects on the first error, or when the
 * server closes the connection before that. ssh2 directly, not through node-ssh, whose SFTP and
 * file helpers (15 more modules on every start) statecraft never used.
 */
export function connectClient(config: ConnectConfig): Promise<Client> {
  const c = new ssh2.Client()
  return new Promise((resolve, reject) => {
    // Stays attached after a failure: a later 'error' of the dead connection must not throw.
    const fail = (e: Error): void => reject(e)
    const closed = (): void => reject(Object.assign(new Error('No response from server'), { code: 'ETIMEDOUT' }))
    c.on('error', fail)
    c.once('close', closed)
    c.once('ready', () => {
      c.removeListener('error', fail)
      c.removeListener('close', closed)
      resolve(c)
    })
    c.connect(config)
  })
}
