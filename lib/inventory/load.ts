import * as nodeFs from 'node:fs'
import { isAbsolute, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Document } from 'yaml'
import { lazy } from '../core/lazy.ts'
import { safeParse, type BaseIssue } from 'valibot'
import { InventoryError } from '../core/errors.ts'
import { GROUP_FIELDS, HOST_FIELDS, inventorySchema, type GroupEntry, type HostEntry } from './schema.ts'

// Loaded when there is a hosts.yaml to read (lazy.ts): `--host local` and ad-hoc hosts need none.
const yaml = lazy<typeof import('yaml')>('yaml')

export interface InventoryHost extends HostEntry {
  name: string
  groups: string[]
  vars: Record<string, unknown>
}

export interface Inventory {
  file: string
  hosts: Map<string, InventoryHost>
  groups: Map<string, { vars: Record<string, unknown> }>
}

export interface InventoryFs {
  readFileSync(path: string, encoding: 'utf8'): string
}

/** Loads and validates hosts.yaml; every error names file:line:column and the field. */
export function loadInventory(file: string, fs: InventoryFs = nodeFs): Inventory {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw new InventoryError(`${file}: cannot read the inventory (${(e as Error).message}). Create it from the example (${copyExample()}), or pass --inventory FILE`, { cause: e })
  }
  if (text.length > MAX_INVENTORY_CHARS) {
    throw new InventoryError(
      `${file}: the inventory is ${(text.length / 2 ** 20).toFixed(0)} MiB; statecraft reads inventories up to ${MAX_INVENTORY_CHARS / 2 ** 20} MiB ` +
        '(about 500,000 hosts): split it into several files and pass one with --inventory FILE',
    )
  }
  return parseInventory(text, file)
}

/** Parsing is linear but not free (about 1 s per MiB): a bound keeps a wrong file from hanging the run. */
const MAX_INVENTORY_CHARS = 32 * 2 ** 20

export function parseInventory(text: string, file: string): Inventory {
  const { LineCounter, parseDocument } = yaml()
  const lc = new LineCounter()
  // yaml's own uniqueKeys check compares every key with every other (40k hosts: 15 s); ours is one Set per mapping.
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: false, prettyErrors: false })
  const pos = (offset: number): string => {
    const p = lc.linePos(offset)
    return `${file}:${p.line}:${p.col}`
  }
  const first = doc.errors[0]
  if (first) {
    const at = pos(first.pos[0])
    if (first.code === 'DUPLICATE_KEY') {
      const key = text.slice(first.pos[0]).match(/^[^:\n]*/)?.[0]?.trim() ?? ''
      throw new InventoryError(`${at}: '${key}' appears twice in the same mapping (a duplicate host or field); remove or rename one`)
    }
    throw new InventoryError(`${at}: YAML syntax error: ${first.message.split('\n')[0]}`)
  }
  const dup = firstDuplicateKey(doc)
  if (dup) throw new InventoryError(`${pos(dup.offset)}: '${dup.key}' appears twice in the same mapping (a duplicate host or field); remove or rename one`)
  const data = toJS(doc, pos, file)
  const parsed = safeParse(inventorySchema, data)
  if (!parsed.success) throw issueError(parsed.issues[0], doc, pos, file)
  const groups = new Map<string, { vars: Record<string, unknown> }>()
  for (const [g, entry] of Object.entries(parsed.output.groups ?? {})) groups.set(g, { vars: (entry as GroupEntry).vars ?? {} })
  const hosts = new Map<string, InventoryHost>()
  for (const [h, raw] of Object.entries(parsed.output.hosts ?? {})) {
    const entry = raw as HostEntry
    const hostGroups = entry.groups ?? []
    hostGroups.forEach((g, i) => {
      if (!groups.has(g)) {
        const node = doc.getIn(['hosts', h, 'groups', i], true) as { range?: [number] } | undefined
        throw new InventoryError(
          `${pos(node?.range?.[0] ?? 0)}: host '${h}' is in group '${g}', which is not defined under groups: (defined: ${[...groups.keys()].join(', ') || 'none'})`,
        )
      }
    })
    if (!entry.address && entry.connection !== 'local') {
      const node = doc.getIn(['hosts', h], true) as { range?: [number] } | undefined
      throw new InventoryError(`${pos(node?.range?.[0] ?? 0)}: host '${h}' needs an address (or connection: local)`)
    }
    hosts.set(h, { ...entry, name: h, groups: hostGroups, vars: entry.vars ?? {} })
  }
  return { file, hosts, groups }
}

function firstDuplicateKey(doc: Document): { key: string; offset: number } | undefined {
  const { isScalar, visit } = yaml()
  let found: { key: string; offset: number } | undefined
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>()
      for (const it of map.items) {
        const key = isScalar(it.key) ? String(it.key.value) : String(it.key)
        if (seen.has(key)) {
          found = { key, offset: (it.key as { range?: [number] } | null)?.range?.[0] ?? 0 }
          return visit.BREAK
        }
        seen.add(key)
      }
      return undefined
    },
  })
  return found
}

/** yaml refuses documents whose aliases would expand without bound ("billion laughs"): say where. */
function toJS(doc: Document, pos: (o: number) => string, file: string): unknown {
  const { visit } = yaml()
  try {
    return doc.toJS({ maxAliasCount: 1000 }) ?? {}
  } catch (e) {
    let at = file
    visit(doc, {
      Alias(_, node) {
        at = pos(node.range?.[0] ?? 0)
        return visit.BREAK
      },
    })
    throw new InventoryError(`${at}: ${(e as Error).message.replace(/\.$/, '')}: the inventory's aliases (*name) expand too far; write the values out, or use fewer nested aliases`, { cause: e })
  }
}

function issueError(issue: BaseIssue<unknown>, doc: Document, pos: (o: number) => string, file: string): InventoryError {
  const { isMap, isScalar } = yaml()
  const path = (issue.path ?? []).map((p) => String(p.key))
  const nodeAt = (p: string[]): { range?: [number, number, number] } | undefined => doc.getIn(p, true) as never
  if (issue.type === 'strict_object' && issue.expected === 'never') {
    // An unknown key: point at the key itself, and list what is allowed there.
    const key = path[path.length - 1] as string
    const parent = path.slice(0, -1)
    const map = parent.length ? nodeAt(parent) : doc.contents
    let offset = (map as { range?: [number] } | undefined)?.range?.[0] ?? 0
    if (isMap(map)) {
      const pair = map.items.find((it) => isScalar(it.key) && it.key.value === key)
      if (pair && isScalar(pair.key) && pair.key.range) offset = pair.key.range[0]
    }
    const fields = parent.length === 0 ? ['hosts', 'groups'] : parent[0] === 'hosts' ? HOST_FIELDS : GROUP_FIELDS
    return new InventoryError(`${pos(offset)}: unknown field '${key}'${parent.length ? ` in ${parent.join('.')}` : ''}; valid fields: ${fields.join(', ')}`)
  }
  const node = nodeAt(path)
  const value = JSON.stringify(doc.getIn(path))
  const got = /received/.test(issue.message) ? '' : ` (got ${value})`
  return new InventoryError(`${node ? pos(node.range?.[0] ?? 0) : file}: ${path.join('.') || '(top level)'}: ${issue.message}${got}`)
}

/** Hosts by name (`local` is built in) or by group, with their group vars in order. */
export function selectHosts(inv: Inventory | null, names: string[], group?: string): InventoryHost[] {
  const out: InventoryHost[] = []
  const all = inv?.hosts ?? new Map<string, InventoryHost>()
  if (group) {
    if (!inv?.groups.has(group)) {
      throw new InventoryError(`group '${group}' is not defined${inv ? ` in ${inv.file} (defined: ${[...inv.groups.keys()].join(', ') || 'none'})` : ': no inventory file was found'}`)
    }
    for (const h of [...all.values()].sort((a, b) => a.name.localeCompare(b.name))) if (h.groups.includes(group)) out.push(h)
  }
  for (const n of names) {
    const h = all.get(n) ?? (n === 'local' ? { name: 'local', connection: 'local' as const, groups: [], vars: {} } : adHocHost(n))
    if (!h) {
      const known = [...all.keys()]
      const direct = `or name it directly: --host user@address[:port]`
      throw new InventoryError(
        inv
          ? `host '${n}' is not in ${inv.file}; known hosts: ${['local', ...known].join(', ')}; add it there, ${direct}`
          : `host '${n}' is not known: there is no hosts.yaml here (only 'local' is built in). Create one from the example: ${copyExample()}, then describe '${n}' in it; ${direct}`,
      )
    }
    if (!out.includes(h)) out.push(h)
  }
  return out
}

/**
 * `--host ana@192.168.1.20:2222` without an inventory: an SSH host named as written. The address
 * still goes through ~/.ssh/config (HostName, IdentityFile, ProxyJump) and known_hosts.
 */
export function adHocHost(n: string): InventoryHost | undefined {
  const m = /^([^@\s:/]+)@(\[[0-9A-Fa-f:.]+\]|[^@\s:/[\]]+)(?::(\d+))?$/.exec(n)
  if (!m) return undefined
  const port = m[3] === undefined ? undefined : Number(m[3])
  if (port !== undefined && !(port >= 1 && port <= 65535)) throw new InventoryError(`--host ${n}: port ${m[3]} is not between 1 and 65535`)
  return { name: n, user: m[1] as string, address: (m[2] as string).replace(/^\[|\]$/g, ''), ...(port !== undefined ? { port } : {}), groups: [], vars: {} }
}

/** The command that makes a hosts.yaml from the example shipped with the package, from here. */
export function copyExample(cwd = process.cwd()): string {
  const example = fileURLToPath(new URL('../../hosts.example.yaml', import.meta.url.endsWith('.js') ? new URL('../', import.meta.url) : import.meta.url))
  const rel = relative(cwd, example)
  return `cp ${rel.startsWith('..') || isAbsolute(rel) ? example : rel} hosts.yaml`
}

export function groupVarsOf(inv: Inventory | null, h: InventoryHost): Record<string, unknown>[] {
  return h.groups.map((g) => inv?.groups.get(g)?.vars ?? {})
}
