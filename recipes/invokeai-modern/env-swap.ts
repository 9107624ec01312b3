import * as v from 'valibot'
import type { Step } from '../../lib/core/types.ts'
import { argv, normalisePath, path } from '../../lib/resources/fields.ts'
import { defineResource } from '../../lib/resources/kit.ts'
import { decodeHex } from '../../lib/shell/protocol.ts'
import { quote } from '../../lib/shell/posix/quote.ts'
import { psScriptStep } from '../../lib/shell/powershell/lib.ts'
import { psQuote } from '../../lib/shell/powershell/quote.ts'

/**
 * Blue/green Python envs: each env lives in `<envs>/<name>`, and `link` points at the one the
 * service runs. A new name is built beside the running env, smoke-tested, marked ready, and only
 * then `link` is swapped (atomically) and the service notified; envs other than the new one and
 * the one it replaced are removed after the swap. A failed build or smoke test stops before the
 * swap: the link, the running env and the service stay as they were. A name whose env is still
 * there and ready (the previous one: a rollback) is swapped back without rebuilding.
 */
export interface EnvSwapOptions {
  /** The folder that holds the envs. */
  envs: string
  /** This env's name: it changes whenever what is installed changes (version, torch build). */
  name: string
  /** The path the service runs through (`<root>/current`), a symlink to the active env. */
  link: string
  /** argv that create the env at `<envs>/<name>`. */
  create: string[]
  /** argv that install into it. */
  install: string[]
  /** argv of the smoke test, run with the new env's python; must exit 0. */
  smoke: string[]
  /** For messages: what the smoke test checks (`a tensor op on cuda, torch build cu128`). */
  smokeWhat?: string
}

export interface EnvSwapCurrent {
  /** Where `link` points now; undefined when it is not a link. */
  target?: string
  /** `<envs>/<name>` exists and passed its smoke test. */
  ready: boolean
}

type EnvSwapOp = { op: 'build'; previous?: string } | { op: 'swap'; previous?: string }

/** Written into an env after its smoke test passed; an env without it is a failed build. */
export const READY = '.statecraft-ready'
/** The env's folder, with the separator `envs` already uses (a Windows path keeps its backslashes). */
const envPath = (d: EnvSwapOptions): string => `${d.envs}${/^[A-Za-z]:\\/.test(d.envs) ? '\\' : '/'}${d.name}`

export const envSwap = defineResource<EnvSwapOptions, EnvSwapCurrent, EnvSwapOp>({
  type: 'envSwap',
  describe: (i) => `envSwap ${String(i.name)}`,
  fields: {
    envs: path(),
    name: v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'must be a plain folder name (letters, digits, . _ + -)')),
    link: path(),
    create: argv(),
    install: argv(),
    smoke: argv(),
    smokeWhat: v.optional(v.string()),
  },
  normalise: (d, facts, fail) => ({ ...d, envs: normalisePath(d.envs, 'envs', facts, fail), link: normalisePath(d.link, 'link', facts, fail) }),
  defaultId: (d) => `envSwap:${d.link}`,
  paths: (d) => [{ path: d.envs, kind: 'uses' as const }],
  parse(data) {
    const c: EnvSwapCurrent = { ready: data.get('ready') === '1' }
    if (data.has('target')) c.target = decodeHex(data.get('target'))
    return c
  },
  diff(d, c) {
    const env = envPath(d)
    if (c.target === env && c.ready) return []
    const was = c.target ? `beside ${c.target}` : 'first env'
    const previous = c.target ? { previous: c.target } : {}
    if (c.ready) return [{ op: 'swap', ...previous, text: `swap to env ${d.name} (built and tested before; ${was})` }]
    return [{ op: 'build', ...previous, text: `build env ${d.name} ${was}, swap after test (${d.smokeWhat ?? 'smoke test'})` }]
  },
  posix: {
    probe(d) {
      const l = quote(d.link)
      return [
        `if [ -L ${l} ]; then t=$(readlink -- ${l}; echo .); t=\${t%.}; sc_kv_hex target "\${t%?}"; fi`,
        `if [ -f ${quote(`${envPath(d)}/${READY}`)} ]; then echo ready=1; else echo ready=0; fi`,
      ].join('\n')
    },
    apply(d, _c, changes, facts): Step[] {
      const env = envPath(d)
      const ch = changes[0]
      const prev = ch?.previous ?? ''
      const steps: Step[] = ch?.op === 'build'
        ? buildSteps(d, prev, { argv: ['rm', '-rf', '--', env], label: `clear a failed build of env ${d.name}` }, { argv: ['touch', '--', `${env}/${READY}`], label: `mark env ${d.name} ready` })
        : []
      // The swap: a new link renamed over the old one (mv -T on GNU, -h on BSD: never into the old target).
      const mvFlag = facts.os === 'darwin' ? '-h' : '-T'
      const swap = 'set -e; ln -sfn -- "$1" "$2.swap"; mv -f ' + mvFlag + ' -- "$2.swap" "$2"; ' +
        // Keep the new env and the one it replaced; the rest are older generations or failed builds.
        'for e in "$3"/*; do [ -d "$e" ] || continue; [ "$e" = "$1" ] || [ "$e" = "$4" ] || rm -rf -- "$e"; done'
      steps.push({ argv: ['sh', '-c', swap, 'sh', env, d.link, d.envs, prev], label: `swap ${d.link} to env ${d.name}${prev ? ` (keeping ${prev})` : ''}` })
      return steps
    },
  },
  powershell: {
    probe(d) {
      const l = psQuote(d.link)
      return [
        `$i = Get-Item -LiteralPath ${l} -Force -ErrorAction SilentlyContinue`,
        `if ($i -and ($i.Attributes -band [IO.FileAttributes]::ReparsePoint)) { Sc-KvHex 'target' ([string]@($i.Target)[0]) }`,
        `if (Test-Path -LiteralPath ${psQuote(`${envPath(d)}\\${READY}`)} -PathType Leaf) { 'ready=1' } else { 'ready=0' }`,
      ].join('\n')
    },
    apply(d, _c, changes): Step[] {
      const env = psQuote(envPath(d))
      const ch = changes[0]
      const prev = ch?.previous ?? ''
      const steps: Step[] = ch?.op === 'build'
        ? buildSteps(d, prev,
          psScriptStep(`clear a failed build of env ${d.name}`, `if (Test-Path -LiteralPath ${env}) { Remove-Item -LiteralPath ${env} -Recurse -Force }`),
          psScriptStep(`mark env ${d.name} ready`, `$null = New-Item -ItemType File -Force -Path ${psQuote(`${envPath(d)}\\${READY}`)}`))
        : []
      // A junction needs no privilege (a symlink does). Windows cannot rename over an existing
      // junction: the old one is removed right before the rename, a moment without a link.
      const link = psQuote(d.link)
      const swap = psQuote(`${d.link}.swap`)
      steps.push(psScriptStep(`swap ${d.link} to env ${d.name}${prev ? ` (keeping ${prev})` : ''}`, [
        `if (Test-Path -LiteralPath ${swap}) { (Get-Item -LiteralPath ${swap} -Force).Delete() }`,
        `$null = New-Item -ItemType Junction -Path ${swap} -Target ${env}`,
        `$old = Get-Item -LiteralPath ${link} -Force -ErrorAction SilentlyContinue`,
        'if ($old) { $old.Delete() }',
        `Rename-Item -LiteralPath ${swap} -NewName ${psQuote(d.link.split('\\').pop() ?? d.link)}`,
        `Get-ChildItem -LiteralPath ${psQuote(d.envs)} -Directory | Where-Object { $_.FullName -ne ${env} -and $_.FullName -ne ${psQuote(prev)} } | Remove-Item -Recurse -Force`,
      ].join('\n')))
      return steps
    },
  },
  examples: ({ path: p, value }) => [
    { desired: { envs: p, name: 'x', link: p, create: ['python3', '-m', 'venv', value], install: [value], smoke: [value], smokeWhat: value }, current: { target: value, ready: false } },
    { desired: { envs: p, name: 'y', link: p, create: [value], install: [value], smoke: [value] }, current: { target: value, ready: true } },
  ],
})


/** Clear a failed build, create, install, smoke-test (its failure explained), mark ready: the same on every shell. */
function buildSteps(d: EnvSwapOptions, prev: string, clear: Step, mark: Step): Step[] {
  const env = envPath(d)
  return [
    clear,
    { argv: d.create, label: `create env ${d.name}`, idleTimeout: 1800_000 },
    { argv: d.install, label: `install into env ${d.name}`, idleTimeout: 1800_000 },
    {
      argv: d.smoke,
      label: `smoke test of env ${d.name}`,
      explain: (r) => `smoke test of the new env ${d.name} failed (${d.smokeWhat ?? 'smoke test'}): ${r.stderr.trim().split('\n').slice(-3).join(' | ') || `exit ${String(r.code)}`}. ` +
        `Nothing was swapped: ${prev ? `${d.link} still points at ${prev}, which keeps serving` : 'no env was active before'}; the failed env stays in ${env} for a look and is cleared by the next build`,
    },
    mark,
  ]
}
