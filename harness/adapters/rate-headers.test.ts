import { describe, expect, it } from 'vitest'
import { allowanceOf, backoffMs, isThrottled, resetMs, retryAfterMs, throttleWaitMs } from './rate-headers.js'

const NOW = Date.parse('2026-01-01T00:00:00Z')

describe('Retry-After', () => {
  it('reads delay-seconds and HTTP-dates, and ignores what is neither', () => {
    expect(retryAfterMs('7', NOW)).toBe(7000)
    expect(retryAfterMs(' 0 ', NOW)).toBe(0)
    expect(retryAfterMs(new Date(NOW + 3000).toUTCString(), NOW)).toBe(3000)
    expect(retryAfterMs(new Date(NOW - 3000).toUTCString(), NOW)).toBe(0) // a date in the past: go now
    expect(retryAfterMs('soon', NOW)).toBeUndefined()
    expect(retryAfterMs(undefined, NOW)).toBeUndefined()
  })
})

describe('reset values', () => {
  it('tells delay seconds from epoch seconds', () => {
    expect(resetMs('30', NOW)).toBe(30_000)
    expect(resetMs(String(NOW / 1000 + 12), NOW)).toBe(12_000)
    expect(resetMs(String(NOW / 1000 - 5), NOW)).toBe(0)
    expect(resetMs('-1', NOW)).toBeUndefined()
    expect(resetMs('x', NOW)).toBeUndefined()
  })
})

describe('allowanceOf', () => {
  it('reads draft-11 RateLimit, the most constraining policy winning', () => {
    expect(allowanceOf({ ratelimit: '"default";r=5;t=10' }, NOW)).toEqual({ remaining: 5, resetMs: 10_000 })
    expect(allowanceOf({ ratelimit: '"burst";r=3;t=1, "day";r=0;t=3600' }, NOW)).toEqual({ remaining: 0, resetMs: 3_600_000 })
  })

  it('ignores a malformed structured field and falls back to the other families', () => {
    expect(allowanceOf({ ratelimit: '"unterminated;r=0' }, NOW)).toBeUndefined()
    expect(allowanceOf({ ratelimit: '((', 'x-ratelimit-remaining': '2', 'x-ratelimit-reset': '4' }, NOW)).toEqual({ remaining: 2, resetMs: 4000 })
  })

  it('reads RateLimit-Remaining/-Reset and X-RateLimit-* (delay or epoch reset)', () => {
    expect(allowanceOf({ 'ratelimit-remaining': '0', 'ratelimit-reset': '9' }, NOW)).toEqual({ remaining: 0, resetMs: 9000 })
    expect(allowanceOf({ 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 20) }, NOW)).toEqual({ remaining: 0, resetMs: 20_000 })
    expect(allowanceOf({ 'x-ratelimit-remaining': '4' }, NOW)).toEqual({ remaining: 4, resetMs: undefined })
    expect(allowanceOf({}, NOW)).toBeUndefined()
  })
})

describe('throttled answers and how long to wait', () => {
  it('a 429 is throttling; a 503 only with Retry-After', () => {
    expect(isThrottled(429, {})).toBe(true)
    expect(isThrottled(503, { 'retry-after': '1' })).toBe(true)
    expect(isThrottled(503, {})).toBe(false)
    expect(isThrottled(403, { 'retry-after': '1' })).toBe(false)
  })

  it('prefers Retry-After, then the rate-limit reset, then capped exponential backoff', () => {
    expect(throttleWaitMs({ 'retry-after': '2', ratelimit: '"p";r=0;t=9' }, 0, NOW)).toBe(2000)
    expect(throttleWaitMs({ ratelimit: '"p";r=0;t=9' }, 0, NOW)).toBe(9000)
    expect(throttleWaitMs({}, 0, NOW)).toBe(500)
    expect(throttleWaitMs({}, 3, NOW)).toBe(4000)
    expect(backoffMs(20)).toBe(30_000)
    expect(throttleWaitMs({ 'retry-after': '0' }, 0, NOW)).toBeGreaterThan(0) // never a tight loop
  })
})
