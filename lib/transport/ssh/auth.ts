import { existsSync, readFileSync } from 'node:fs'
import ssh2 from 'ssh2'
import { ConnectError } from '../../core/errors.ts'
import type { SshTarget } from './config.ts'

export interface AuthPlan {
  /** ssh2 authHandler entries, tried in order. */
  methods: Record<string, unknown>[]
  /** What was tried, for the error message when all fail. */
  tried: string[]
}

/** ssh-agent first, then the identity files (explicit ones must exist), as OpenSSH does. */
export function planAuth(t: SshTarget, agentSocket: string | undefined): AuthPlan {
  const methods: Record<string, unknown>[] = []
  const tried: string[] = []
  if (agentSocket && existsSync(agentSocket)) {
    methods.push({ type: 'agent', username: t.user, agent: agentSocket })
    tried.push('ssh-agent')
  }
  for (const file of t.identityFiles) {
    if (!existsSync(file)) {
      if (t.explicitIdentity) throw new ConnectError(`host ${t.name}: identity file ${file} does not exist; fix identityFile in the inventory or IdentityFile in ~/.ssh/config`)
      continue
    }
    const key = readFileSync(file)
    const parsed = ssh2.utils.parseKey(key)
    if (parsed instanceof Error) {
      const why = /encrypted|passphrase/i.test(parsed.message) ? 'it is encrypted: add it to ssh-agent (ssh-add)' : parsed.message
      if (t.explicitIdentity) throw new ConnectError(`host ${t.name}: cannot use identity file ${file}: ${why}`)
      tried.push(`${file} (skipped: ${why})`)
      continue
    }
    methods.push({ type: 'publickey', username: t.user, key })
    tried.push(file)
  }
  return { methods, tried }
}
