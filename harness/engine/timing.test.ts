import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { median, percentile, slowdown, timingOracle } from './timing.js'

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

describe('slowdown (cost to others)', () => {
  it('finds none when the flood only takes CPU: both halves of a pair slowed alike, or the loaded one a little', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 })), { minLength: 8, maxLength: 8 }),
      (pairs) => {
        // A busy machine: a shared burst, and the flood's own CPU adding up to 2× plus jitter to the loaded read.
        const base = pairs.map(([burst, j1]) => 10 + burst + j1)
        const loaded = pairs.map(([burst, , j2]) => 2 * (10 + burst) + j2)
        const v = slowdown(loaded, base)
        expect(v.slowed, v.summary).toBe(false)
      }), { seed: 21, numRuns: 300 })
  })

  it('finds none when the flood starves every request of CPU alike: the control sent with the read is as slow', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 200, max: 2000 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 })), { minLength: 8, maxLength: 8 }),
      (pairs) => {
        // What the clean embedded server showed: the read ~300 ms while flooded, the key set about as slow.
        const base = pairs.map(([, j1]) => 10 + j1)
        const loaded = pairs.map(([starved, , j2]) => 10 + starved + j2)
        const control = pairs.map(([starved, j1]) => 2 + 0.8 * starved + j1)
        const v = slowdown(loaded, base, control)
        expect(v.goalMet).toBe(false)
        expect(v.slowed, v.summary).toBe(false)
      }), { seed: 23, numRuns: 300 })
  })

  it('finds none for the clean server\'s read queued behind the flood\'s short statements (seed 5: ×4.3 the control)', () => {
    const v = slowdown([313, 249, 808, 544, 793, 275, 152, 353], [16, 12, 21, 12, 60, 76, 16, 32], [13, 184, 24, 324, 33, 259, 14, 234])
    expect(v.goalMet).toBe(false)
    expect(v.slowed, v.summary).toBe(false)
  })

  it('finds a read waiting behind a held connection while the control is answered at once', () => {
    const v = slowdown([1260, 1127, 952, 820, 1042, 1516, 1249, 1176], [10, 21, 10, 10, 28, 14, 19, 11], [8, 12, 24, 2, 55, 64, 2, 21])
    expect(v.slowed, v.summary).toBe(true)
    expect(v.versusControl?.ratio).toBeGreaterThan(3)
    expect(v.summary).toMatch(/control \[8 12 24/)
  })

  it('finds the read waiting behind ten 40 ms KDFs that hold the connection, under the same load', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 })), { minLength: 8, maxLength: 8 }),
      (pairs) => {
        const base = pairs.map(([burst, j1], i) => 10 + (i % 4 === 0 ? burst : 0) + j1)
        const loaded = pairs.map(([burst, , j2], i) => 10 + 10 * 40 + (i % 4 === 0 ? burst : 0) + j2)
        const v = slowdown(loaded, base)
        expect(v.slowed, v.summary).toBe(true)
        expect(v.goalMet).toBe(false)
      }), { seed: 22, numRuns: 300 })
  })

  it('needs the noisy-neighbour goal missed, the loaded reads the slower, and an absolute floor', () => {
    // Goal met: p95 60 vs 45 (≤ max(67.5, 65)), even though the pair ratio is large for most pairs.
    expect(slowdown([60, 60, 60, 60, 60], [45, 10, 10, 10, 10]).slowed).toBe(false)
    // The reads alone the slower: no cost to others.
    expect(slowdown([10, 10, 10, 10, 10], [400, 400, 400, 400, 400]).slowed).toBe(false)
    // Ratio ×5 but only 40 ms apart: under the 100 ms floor.
    expect(slowdown([50, 50, 50, 50, 50], [10, 10, 10, 10, 10]).slowed).toBe(false)
    // One slow outlier is no consistent difference.
    expect(slowdown([900, 12, 11, 12, 10], [10, 11, 12, 10, 11]).slowed).toBe(false)
    const v = slowdown([500, 450, 480, 520, 470], [10, 12, 9, 11, 10])
    expect(v.slowed, v.summary).toBe(true)
    expect(v.summary).toMatch(/goal ≤ \d+ ms: missed/)
  })

  it('percentile by nearest rank', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10)
    expect(percentile([5, 1, 3], 50)).toBe(3)
    expect(percentile([7], 95)).toBe(7)
    expect(percentile([], 95)).toBeNaN()
  })
})
