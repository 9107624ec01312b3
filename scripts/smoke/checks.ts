import type { LabHost } from '../../test/helpers/lab.ts'
import type { InvokeAIStandIns } from '../../test/helpers/invokeai/stand-ins.ts'
import type { HostReport } from '../../lib/engine/report.ts'
import { asUser, ROOT, USER } from './rig.ts'

/** Throws with `what` when ok is false: the smoke stops at its first broken promise. */
export function expect(ok: boolean, what: string): void {
  if (!ok) throw new Error(`smoke: ${what}`)
}

export const changedIds = (h: HostReport): string[] => h.resources.filter((r) => r.status === 'changed').map((r) => r.id)
/** A plan's "will change" (status changed) and "re-checked after" (status pending) resources. */
export const plannedIds = (h: HostReport): string[] => h.resources.filter((r) => r.status === 'changed' || r.status === 'pending').map((r) => r.id)
export const failedOf = (h: HostReport): string[] => h.resources.filter((r) => r.status === 'failed' || r.status === 'skipped').map((r) => `${r.id}: ${r.error?.message ?? r.status}`)

export function hostOf(hosts: HostReport[], name: string): HostReport {
  const h = hosts.find((x) => x.host === name)
  if (!h) throw new Error(`smoke: no report for host ${name} (got ${hosts.map((x) => x.host).join(', ')})`)
  return h
}

/**
 * What a converged InvokeAI host holds: the clone at the server's commit, the checkpoint with its
 * hash, the conda env, the user unit active with lingering, and the web UI's health URL answering.
 */
export async function assertConverged(host: LabHost, si: InvokeAIStandIns): Promise<string> {
  const ck = si.checkpoints['sd-v1-4.ckpt']
  const got = await asUser(host, `cd ${ROOT} && git rev-parse HEAD && sha256sum < models/ldm/stable-diffusion-v1/model.ckpt && test -d ~/miniforge3/envs/invokeai && echo env && systemctl --user is-active invokeai.service && ls /var/lib/systemd/linger && curl -fsS http://127.0.0.1:9090/flaskwebgui-keep-server-alive`)
  const want = `${si.repo.commits.main}\n${ck.sha256}  -\nenv\nactive\n${USER}\n{"message":"Server Running"}\n`
  expect(got === want, `${host.name} is not converged: expected\n${want}got\n${got}`)
  return `files (clone at ${si.repo.commits.main?.slice(0, 12)}), checkpoint sha256 ${ck.sha256.slice(0, 12)}…, env, service active, health URL answers`
}

/** The health URL, polled: after a reboot the user manager and the unit take a moment. */
export async function healthAnswers(host: LabHost): Promise<boolean> {
  try {
    return (await asUser(host, 'systemctl --user is-active invokeai.service && curl -fsS http://127.0.0.1:9090/flaskwebgui-keep-server-alive')).includes('Server Running')
  } catch {
    return false
  }
}
