import { resolve } from 'node:path'
import type { HostTarget } from '../engine/converge.ts'
import { groupVarsOf, loadInventory, selectHosts, type Inventory, type InventoryHost } from './load.ts'

/** An inventory given as a path (relative to the working directory) or already loaded. */
export function inventoryOf(inv: string | Inventory | null | undefined, cwd = process.cwd()): Inventory | null {
  if (inv === undefined || inv === null) return null
  return typeof inv === 'string' ? loadInventory(resolve(cwd, inv)) : inv
}

/**
 * What the engine needs to reach an inventory host: its vars (and its groups', lowest first),
 * lock path, os hint, privileges, and SSH or this machine. The one mapping the CLI and
 * `converge({ inventory })` share.
 */
export function hostTarget(inv: Inventory | null, h: InventoryHost, becomePassword?: string): HostTarget {
  return {
    name: h.name,
    vars: h.vars,
    groupVars: groupVarsOf(inv, h),
    ...(h.lockPath ? { lockPath: h.lockPath } : {}),
    ...(h.os ? { os: h.os } : {}),
    ...(h.connection === 'local' || h.name === 'local' ? { local: true } : {}),
    ...(h.become || h.becomePasswordEnv || h.becomeUser
      ? {
          become: {
            default: h.become ?? false,
            ...(h.becomeUser ? { user: h.becomeUser } : {}),
            ...(h.becomePasswordEnv ? { passwordEnv: h.becomePasswordEnv } : {}),
            ...(becomePassword !== undefined ? { password: becomePassword } : {}),
          },
        }
      : {}),
    ...(h.address && h.connection !== 'local'
      ? {
          ssh: {
            name: h.name,
            address: h.address,
            ...(h.port !== undefined ? { port: h.port } : {}),
            ...(h.user !== undefined ? { user: h.user } : {}),
            ...(h.identityFile !== undefined ? { identityFile: h.identityFile } : {}),
          },
        }
      : {}),
  }
}

/** Hosts by name (`local` needs no inventory) or group, as targets; `passwords` by host name. */
export function selectTargets(inv: Inventory | null, names: string[], group?: string, passwords?: Map<string, string>): HostTarget[] {
  return selectHosts(inv, names, group).map((h) => hostTarget(inv, h, passwords?.get(h.name)))
}
