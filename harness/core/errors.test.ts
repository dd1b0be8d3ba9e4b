import { describe, expect, it } from 'vitest'
import { HarnessError, isHarnessError } from './errors.js'

describe('HarnessError', () => {
  it('carries a code, a message and a cause', () => {
    const cause = new Error('ECONNREFUSED')
    const err = new HarnessError('ERR_TARGET_UNREACHABLE', 'target did not answer', { cause })
    expect(err).toBeInstanceOf(Error)
    expect(err.code).toBe('ERR_TARGET_UNREACHABLE')
    expect(err.name).toBe('HarnessError')
    expect(err.cause).toBe(cause)
    expect(isHarnessError(err)).toBe(true)
  })

  it('recognises look-alikes from another module copy but not plain errors', () => {
    const copy = Object.assign(new Error('x'), { name: 'HarnessError', code: 'ERR_USAGE' })
    expect(isHarnessError(copy)).toBe(true)
    expect(isHarnessError(Object.assign(new Error('x'), { name: 'HarnessError', code: 'ERR_NOPE' }))).toBe(false)
    expect(isHarnessError(new Error('x'))).toBe(false)
    expect(isHarnessError('ERR_USAGE')).toBe(false)
  })
})
