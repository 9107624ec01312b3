import { describe, expect, it } from 'vitest'
import { buildGraph, type GraphNode } from '../../lib/engine/graph.ts'

const n = (id: string, o: Partial<GraphNode> = {}): GraphNode => ({ id, after: [], notify: [], paths: [], absent: false, ...o })

describe('dependency graph', () => {
  it('orders explicit after edges and marks them deferring', () => {
    const g = buildGraph([n('b', { after: ['a'] }), n('a')])
    expect(g.order).toEqual(['a', 'b'])
    expect(g.preds.get('b')).toEqual([{ from: 'a', defers: true, why: 'after' }])
  })

  it('puts files under a managed directory after it, without deferring their plan', () => {
    const g = buildGraph([n('f', { paths: [{ path: '/d/x/f', kind: 'file' }] }), n('d', { paths: [{ path: '/d', kind: 'directory' }] })])
    expect(g.order).toEqual(['d', 'f'])
    expect(g.preds.get('f')).toEqual([{ from: 'd', defers: false, why: 'under-directory' }])
  })

  it('puts files under a managed Windows directory after it (backslash paths, drive root too)', () => {
    const g = buildGraph([
      n('f', { paths: [{ path: 'C:\\Users\\ana\\invokeai\\models\\models.yaml', kind: 'file' }] }),
      n('d', { paths: [{ path: 'C:\\Users\\ana\\invokeai', kind: 'directory' }] }),
      n('s', { paths: [{ path: 'C:\\Users\\ana\\invokeai-old\\x', kind: 'file' }] }),
      n('r', { paths: [{ path: 'D:\\', kind: 'directory' }] }),
      n('m', { paths: [{ path: 'D:\\models\\m.ckpt', kind: 'file' }] }),
    ])
    expect(g.preds.get('f')).toEqual([{ from: 'd', defers: false, why: 'under-directory' }])
    expect(g.preds.get('s')).toEqual([])
    expect(g.preds.get('m')).toEqual([{ from: 'r', defers: false, why: 'under-directory' }])
  })

  it('does not treat a sibling with a common prefix as inside', () => {
    const g = buildGraph([n('d', { paths: [{ path: '/d', kind: 'directory' }] }), n('f', { paths: [{ path: '/dx/f', kind: 'file' }] })])
    expect(g.preds.get('f')).toEqual([])
  })

  it("orders a command after the directory it runs in", () => {
    const g = buildGraph([n('c', { paths: [{ path: '/d', kind: 'uses' }] }), n('d', { paths: [{ path: '/d', kind: 'directory' }] })])
    expect(g.order).toEqual(['d', 'c'])
  })

  it('orders a later resource on the same path after the earlier one, deferring', () => {
    const g = buildGraph([n('file', { paths: [{ path: '/p', kind: 'file' }] }), n('line', { paths: [{ path: '/p', kind: 'file' }] })])
    expect(g.preds.get('line')).toEqual([{ from: 'file', defers: true, why: 'same-path' }])
  })

  it('records handlers and their notifiers', () => {
    const g = buildGraph([n('h'), n('a', { notify: ['h'] })])
    expect(g.order).toEqual(['a', 'h'])
    expect(g.notifiers.get('h')).toEqual(['a'])
  })

  it.each([
    [[n('a'), n('a')], /resource id 'a' is used twice/],
    [[n('a', { after: ['zz'] })], /resource 'a': after names 'zz', which is not a resource of this run. Known ids: a/],
    [[n('a', { after: ['b'] }), n('b', { after: ['a'] })], /cycle: a -> b -> a/],
    [[n('d', { paths: [{ path: '/d', kind: 'directory' }], absent: true }), n('f', { paths: [{ path: '/d/f', kind: 'file' }] })], /lies under directory 'd', which is declared absent/],
  ])('rejects bad graphs (%#)', (nodes, err) => {
    expect(() => buildGraph(nodes)).toThrow(err)
  })
})
