import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { median, timingOracle } from './timing.js'

/** A sample under load: the intrinsic cost plus a positive delay, shared by both halves of a pair when a burst hits. */
const loaded = (cost: number, burst: number, jitter: number) => cost + burst + jitter

describe('timingOracle', () => {
  it('finds no oracle between two equal cases, however heavy and bursty the load', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 })), { minLength: 15, maxLength: 15 }),
      (pairs) => {
        const a = pairs.map(([burst, j1]) => loaded(80, burst, j1))
        const b = pairs.map(([burst, , j2]) => loaded(80, burst, j2))
        expect(timingOracle(a, b).oracle).toBe(false)
      }), { seed: 13, numRuns: 300 })
  })

  it('finds the oracle when one case skips an 80 ms KDF, under the same load', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 })), { minLength: 15, maxLength: 15 }),
      (pairs) => {
        // Load bursts are shared by a pair, but keep most pairs unloaded: a machine busy all the time shows nothing.
        const a = pairs.map(([burst, j1], i) => loaded(5, i % 4 === 0 ? burst : 0, j1))
        const b = pairs.map(([burst, , j2], i) => loaded(85, i % 4 === 0 ? burst : 0, j2))
        const v = timingOracle(a, b)
        expect(v.oracle, v.summary).toBe(true)
        expect(v.medianA).toBeLessThan(v.medianB)
      }), { seed: 14, numRuns: 300 })
  })

  it('needs the difference to be large in absolute terms, not only as a ratio', () => {
    expect(timingOracle([1, 1, 1, 1, 1], [3, 3, 3, 3, 3]).oracle).toBe(false)
    expect(timingOracle([10, 10, 10, 10, 10], [40, 40, 40, 40, 40]).oracle).toBe(true)
  })

  it('median of odd and even samples', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
  })
})
