import { describe, expect, it } from 'vitest'
import { hasCode, StatecraftError, toStatecraftError } from '../../lib/core/errors.ts'

/** What a recipe loaded outside the package throws: the same shape from another copy of the library. */
class ForeignError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.code = code
  }
}

describe('errors are recognised by code, not class identity', () => {
  it('an error from another copy keeps its code and message', () => {
    const e = toStatecraftError(new ForeignError('E_CONFLICT', 'symlink /x: a directory stands there'))
    expect(e).toBeInstanceOf(StatecraftError)
    expect([e.code, e.message]).toEqual(['E_CONFLICT', 'symlink /x: a directory stands there'])
    expect(hasCode(new ForeignError('E_ABORTED', 'interrupted'), 'E_ABORTED')).toBe(true)
  })

  it('anything else is still internal', () => {
    expect(toStatecraftError(new Error('boom')).code).toBe('E_INTERNAL')
    expect(toStatecraftError(Object.assign(new Error('x'), { code: 'ENOENT' })).code).toBe('E_INTERNAL')
    expect(hasCode('E_ABORTED', 'E_ABORTED')).toBe(false)
  })
})
