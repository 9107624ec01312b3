import { existsSync, readFileSync } from 'node:fs'
import { expect } from 'vitest'
import { command, defineRecipe, file, line } from '../../lib/index.ts'
import type { Recipe } from '../../lib/core/recipe.ts'

/** Values that break naive quoting: every test of quoting and transport uses this list. */
export const HOSTILE = [
  'plain',
  'with space',
  "it's",
  '"double"',
  '$(touch /tmp/pwned-statecraft)',
  '`id`',
  'a\nb\nc',
  '*',
  '?[a]',
  '-rf',
  '--help',
  'ünïcödé ✓ 日本',
  '\\back\\slash',
  '; rm -rf /',
  '$HOME',
  '',
  "'''",
  'tab\there',
]

const VALUES = HOSTILE.filter((v) => v !== '')
const fileName = (v: string): string => v.replaceAll('/', '_').replaceAll('\n', '_NL_')
const oneLine = (v: string): string => v.replaceAll('\n', ' ')

/** Hostile values in file names, file contents, lines of one file and env values of commands. */
export function hostileRecipe(dir: string): Recipe {
  return defineRecipe({
    name: 'hostile',
    resources: () =>
      VALUES.flatMap((v, i) => [
        file({ id: `f${i}`, path: `${dir}/${fileName(v)}`, content: `${v}\n${v}` }),
        line({ id: `l${i}`, path: `${dir}/lines`, line: oneLine(v), after: i > 0 ? [`l${i - 1}`] : [] }),
        command({ id: `c${i}`, argv: ['sh', '-c', 'printf %s "$V" > "$1"', 'sh', `${dir}/env-${i}`], env: { V: v }, creates: `${dir}/env-${i}` }),
      ]),
  })
}

/** Every value arrived byte for byte, and nothing was executed. */
export function expectHostileConverged(dir: string): void {
  VALUES.forEach((v, i) => {
    expect(readFileSync(`${dir}/${fileName(v)}`, 'utf8')).toBe(`${v}\n${v}`)
    expect(readFileSync(`${dir}/env-${i}`, 'utf8')).toBe(v)
  })
  expect(readFileSync(`${dir}/lines`, 'utf8')).toBe(`${VALUES.map(oneLine).join('\n')}\n`)
  expect(existsSync('/tmp/pwned-statecraft')).toBe(false)
}
