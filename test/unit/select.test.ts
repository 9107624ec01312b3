import { describe, expect, it } from 'vitest'
import { select, type PlanNode } from '../../lib/engine/node.ts'

const node = (id: string, tags: string[] = []): PlanNode => ({ id, kind: {} as PlanNode['kind'], desired: {}, tags, after: [], notify: [], handler: false, become: false })
const nodes = [node('conf', ['config']), node('models', ['big']), node('env')]

describe('--only / --skip', () => {
  it('--only that selects nothing is an error naming the ids and tags there are', () => {
    expect(() => select(nodes, ['confg'])).toThrow("--only confg matches no resource; the ids are: conf, models, env; the tags are: big, config")
    expect(() => select(nodes, ['conf'], ['config'])).toThrow('--only conf matches no resource (after --skip config); the ids are')
  })

  it('a key that matches nothing while others select is a warning, and the run goes on', () => {
    const warnings: string[] = []
    expect(select(nodes, ['config', 'nosuch'], ['gpu'], (w) => warnings.push(w)).map((n) => n.id)).toEqual(['conf'])
    expect(warnings).toEqual([
      '--only nosuch matches no resource on this host; the ids are: conf, models, env; the tags are: big, config',
      '--skip gpu matches no resource on this host; the ids are: conf, models, env; the tags are: big, config',
    ])
  })

  it('a recipe with no resources selects nothing without an error', () => {
    expect(select([], ['anything'])).toEqual([])
  })
})
