import { describe, expect, it } from 'vitest'
import { converge, defineRecipe, include, line } from '../../lib/index.ts'
import { optionTable } from '../../lib/core/option-table.ts'
import { unknownVars } from '../../lib/core/unknown-vars.ts'
import invokeai from '../../recipes/invokeai.ts'
import { FakeHost, ok } from '../helpers/fake-host.ts'
import { hex } from '../helpers/facts.ts'

describe('inventory vars that match no option', () => {
  const table = optionTable(invokeai)
  it('are warned about, naming the closest option; options (also nested under an include prefix) are not', () => {
    const w = unknownVars(table, [
      { where: 'the group vars of host box', vars: { sampler: 'ddim', fullPrecison: true } },
      { where: 'the vars of host box', vars: { port: 9091, prot: 1, prereq: { rustToolchain: '1.72.1', rustToolchian: 'x' }, 'prereq.conda': 'x', zzzzzzzzzzzz: 1 } },
    ], 'invokeai')
    expect(w).toEqual([
      "the group vars of host box: 'fullPrecison' matches no option of recipe 'invokeai'; did you mean 'fullPrecision'?",
      "the vars of host box: 'prot' matches no option of recipe 'invokeai'; did you mean 'port'?",
      "the vars of host box: 'prereq.rustToolchian' matches no option of recipe 'invokeai'; did you mean 'prereq.rustToolchain'?",
      "the vars of host box: 'zzzzzzzzzzzz' matches no option of recipe 'invokeai'",
    ])
  })

  it('reach the host report through a run', async () => {
    const facts = ['kernel=Linux', 'machine=x86_64', 'user=ana', 'uid=1000', `home=${hex('/home/ana')}`, 'hostname=box', 'bootid=b', 'lock=acquired', `lockinfo=${hex('statecraft-lock-v1|t|c|1|x|b')}`].join('\n')
    const host = new FakeHost((command, stdin) => {
      if (command !== 'sh -s') return undefined
      if (stdin.includes('uname -s')) return ok(facts)
      if (stdin.includes('rm -f')) return ok('')
      const nonce = /@@statecraft:([0-9a-f]+):0/.exec(stdin)?.[1]
      return nonce ? ok(`@@statecraft:${nonce}:0\nkind=absent\n@@statecraft:${nonce}:end\n`) : undefined
    })
    const inner = defineRecipe({ name: 'inner', options: { mode: { default: '0644' } }, resources: () => [] })
    const recipe = defineRecipe({ name: 'r', include: [include(inner, { prefix: 'in' })], options: { greeting: { default: 'hi' } }, resources: () => [line({ path: '/tmp/x', line: 'a' })] })
    const r = await converge({ recipe, hosts: [{ name: 'box', transport: host, vars: { greting: 'yo', in: { mode: '0600' } } }], mode: 'plan' })
    expect(r.hosts[0]!.warnings).toEqual(["the vars of host box: 'greting' matches no option of recipe 'r'; did you mean 'greeting'?"])
  })
})
