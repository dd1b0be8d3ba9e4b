import { describe, expect, it } from 'vitest'
import { emptyTraffic } from '../adapters/traffic.js'
import { describeTraffic } from './summary.js'

describe("the run's traffic line", () => {
  it('says the held time is summed over requests, not waited by the run', () => {
    // Eight requests held 1.5 s each, at once: 12 s of holds in a run that waited 1.5 s.
    const line = describeTraffic({ ...emptyTraffic(), throttled: 1, resends: 1, waitedMs: 12_000 })
    expect(line).toBe("1 throttled, 1 resent, 12.0 s of requests held by the target's limits")
    expect(line).not.toMatch(/waited/)
  })

  it('is empty when nothing was throttled, held or renewed', () => {
    expect(describeTraffic(emptyTraffic())).toBe('')
    expect(describeTraffic(undefined)).toBe('')
  })
})
