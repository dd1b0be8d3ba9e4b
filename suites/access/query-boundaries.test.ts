import { describe, expect, it } from 'vitest'
import { boundaryValues } from './query-boundaries.check.js'

describe('access/query-boundaries values', () => {
  it('sends every parameter empty, very long and of other types', () => {
    const v = boundaryValues({})
    expect(v).toEqual(expect.arrayContaining(['', 'abc', '[]', '-1', '9'.repeat(40)]))
    expect(v.some((x) => x.length >= 10_000)).toBe(true)
    expect(new Set(v).size).toBe(v.length)
  })

  it('adds the edges of a date-time: year 0000 and 9999, offsets past what Postgres holds, impossible days', () => {
    const v = boundaryValues({ type: 'string', format: 'date-time' })
    expect(v).toEqual(expect.arrayContaining(['0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '9999-12-31T23:59:59-23:59', '2024-02-30T00:00:00Z', '10000-01-01T00:00:00Z']))
  })

  it('adds integers past 32/64 bits and around the documented bounds; lengths around maxLength; enum look-alikes', () => {
    expect(boundaryValues({ type: 'integer', minimum: 1, maximum: 200 })).toEqual(expect.arrayContaining(['0', '1', '2', '199', '200', '201', '9223372036854775808', '1e309', 'NaN']))
    expect(boundaryValues({ type: 'string', maxLength: 8 })).toEqual(expect.arrayContaining(['x'.repeat(8), 'x'.repeat(9)]))
    expect(boundaryValues({ type: 'string', enum: ['success'] })).toEqual(expect.arrayContaining(['SUCCESS', 'success ']))
    expect(boundaryValues({ type: 'string' })).not.toContain('0000-01-01T00:00:00Z')
  })
})
