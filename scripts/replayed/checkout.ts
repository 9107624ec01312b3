import { readFileSync } from 'node:fs'
import { parseEnvFile } from '../../lib/resources/conda-env/yml.ts'
import type { PlanNode } from '../../lib/engine/node.ts'
import { kv, type Replies } from './types.ts'

/**
 * The probes of what InvokeAI's own flow puts on a host: the preflight, the git checkout, the
 * checkpoint download and the conda env, answered as the fixture tables state them:
 * test/unit/resources/{git,download,conda-env}.test.ts, test/unit/recipes/invokeai-{plan,converged}.test.ts.
 * The checkout's environment files are the real ones of InvokeAI 2.0 (test/fixtures/invokeai-2.0).
 */

const FIXTURES = new URL('../../test/fixtures/invokeai-2.0/', import.meta.url)
const yml = (mac: boolean): Buffer => readFileSync(new URL(mac ? 'environment-mac.yml' : 'environment.yml', FIXTURES))

/** download.test.ts: `curl -sS -I -L` against huggingface.co for an LFS file (302 to the CDN, then 200). */
const HUB_HEAD = [
  'HTTP/2 302', 'content-type: text/plain; charset=utf-8', 'x-linked-size: 7703807346',
  'x-linked-etag: "14749efc0ae8ef0329391ad4436feb781b402f4fece4883c7ad8d10556d8a36a"', 'location: https://cdn-lfs.hf.co/repos/x', '',
  'HTTP/2 200', 'content-length: 7703807346', 'accept-ranges: bytes', 'etag: "abc"', '',
].join('\r\n')
/** PowerShell reads curl.exe's output line by line: the CRs are gone, lines are joined with LF. */
const WIN_HEAD = HUB_HEAD.replaceAll('\r\n', '\n')
/** invokeai-plan.test.ts: 500 GiB free (fresh), invokeai-converged.test.ts: 400 GiB, in KiB as df -Pk prints it. */
const FREE_FRESH = String(500 * 1024 * 1024)
const FREE_CONVERGED = String(400 * 1024 * 1024)

/** conda-env.test.ts: `conda env list --json` as conda 25 prints it (json.dumps, indent 2, sorted keys, with envs_details). */
function envList(...envs: string[]): string {
  const details = Object.fromEntries(envs.map((e, i) => [e, { active: false, base: i === 0, frozen: false, name: i === 0 ? 'base' : (e.split(/[\\/]/).pop() as string), writable: true }]))
  return `${JSON.stringify({ envs, envs_details: details }, null, 2)}\n`
}

/** Whether a resource of that type, matching `which`, is in place on the replayed host. */
const placed = (nodes: PlanNode[], has: (id: string) => boolean, type: string, which: (d: Record<string, any>) => boolean): boolean =>
  nodes.some((m) => m.kind.type === type && which(m.desired as Record<string, any>) && has(m.id))

export const checkoutReplies: Replies = (n, { facts, has, nodes, hex }) => {
  const converged = has(n.id)
  const d = n.desired as Record<string, any>
  const win = facts.os === 'windows'
  switch (n.kind.type) {
    case 'invokeaiPreflight': {
      const ckpt = placed(nodes, has, 'download', (m) => m.dest === d.checkpoint)
      const env = placed(nodes, has, 'condaEnv', (m) => m.name === d.envName)
      // The InvokeAI of a converged host answers on its port: the preflight counts it as ours.
      const serving = placed(nodes, has, 'service', () => true)
      return kv({
        avail: ckpt ? FREE_CONVERGED : FREE_FRESH, ckpt: ckpt ? '1' : '0', env: env ? '1' : '0', hosttoken: '0', condax86: '0',
        ...(win ? { longpaths: '1' } : {}),
        portused: serving ? '1' : '0', ...(serving ? { portours: '1' } : {}),
        // The POSIX probe sends the checkpoint's URL a HEAD while the checkpoint is missing.
        ...(!win && !ckpt && d.checkpointUrl ? { head: hex(HUB_HEAD) } : {}),
      })
    }
    case 'git':
      if (converged) return kv({ exists: 'repo', head: d.ref, dirty: '0', origin: hex(d.repo) })
      // A fresh Mac has /usr/bin/git (the shim that offers the Command Line Tools); a fresh Windows none.
      return kv(win ? { git: 'missing' } : { exists: 'no' })
    case 'download':
      if (converged) return kv({ exists: '1', stampmatch: '1', stampok: '1' })
      return kv({ stampmatch: '0', stampok: '0', head: hex(win ? WIN_HEAD : HUB_HEAD), avail: FREE_FRESH })
    case 'condaEnv': {
      const r = d.resolved as { conda: string; subdir: string }
      const base = win ? r.conda.replace(/\\Scripts\\conda\.exe$/i, '') : r.conda.replace(/\/bin\/conda$/, '')
      const prefix = `${base}${win ? '\\envs\\' : '/envs/'}${d.name}`
      const file = yml(facts.os === 'darwin')
      // The conda and the clone that brings the yml are other resources: asked about, not assumed.
      const conda = placed(nodes, has, 'conda', (m) => m.prefix === base)
      const cloned = placed(nodes, has, 'git', (m) => String(d.file).startsWith(`${m.dest}${win ? '\\' : '/'}`))
      const ymlOut = cloned ? { ymlkind: 'file', yml: hex(String(file)) } : { ymlkind: 'absent' }
      if (!conda) return kv({ conda: '0', ...ymlOut })
      if (!converged) return kv({ conda: '1', envs: hex(envList(base)), ...ymlOut })
      // The record the resource writes after a build (conda-env/steps.ts), as its probe reads it back.
      const spec = parseEnvFile(file)
      if (!spec.ok) throw new Error(`test/fixtures/invokeai-2.0: the ${d.file} fixture does not parse (line ${spec.line}: ${spec.problem})`)
      const stamp = `${JSON.stringify({ sha256: spec.spec.sha256, file: d.file, subdir: r.subdir, variables: spec.spec.variables })}\n`
      return kv({ conda: '1', envs: hex(envList(base, prefix)), envprefix: hex(prefix), pysubdir: r.subdir, stamp: hex(stamp), ...ymlOut })
    }
  }
  return undefined
}
