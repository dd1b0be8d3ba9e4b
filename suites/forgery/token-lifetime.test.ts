import { describe, expect, it } from 'vitest'
import { skewNote } from './token-lifetime.check.js'

describe('forgery/token-lifetime skew note', () => {
  it('names the largest skew accepted and the next one refused', () => {
    expect(skewNote([1], [30, 60, 120, 300, 600], 60)).toBe('clock skew: accepted an access token expired 1 s ago; refused 30 s (the profile allows 60 s)')
    // Not monotonic: the largest accepted counts, the refusal named is the next one above it.
    expect(skewNote([1, 60], [30, 120, 300, 600], 60)).toBe('clock skew: accepted an access token expired 60 s ago; refused 120 s (the profile allows 60 s)')
  })

  it('says when nothing, or everything tried, was accepted', () => {
    expect(skewNote([], [1, 30], 60)).toBe('clock skew: refused an access token expired 1 s ago, the smallest skew tried (the profile allows 60 s)')
    expect(skewNote([1, 30, 600], [], 60)).toBe('clock skew: accepted an access token expired 600 s ago, the largest skew tried (the profile allows 60 s)')
  })
})
