import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { PacingGate } from './pacing.js'

describe('PacingGate', () => {
  beforeEach(() => void vi.useFakeTimers())
  afterEach(() => void vi.useRealTimers())

  const track = (p: Promise<number>) => {
    const state = { done: false }
    void p.then(() => (state.done = true))
    return state
  }

  it('an open partition does not wait', async () => {
    const gate = new PacingGate(60_000)
    await expect(gate.wait('a')).resolves.toBe(0)
  })

  it('holds every concurrent sender of a partition until the reset, and no other partition', async () => {
    const gate = new PacingGate(60_000)
    gate.hold('a', Date.now() + 1000)
    const waiters = [track(gate.wait('a')), track(gate.wait('a')), track(gate.wait('a'))]
    const other = track(gate.wait('b'))
    await vi.advanceTimersByTimeAsync(0)
    expect(other.done).toBe(true)
    await vi.advanceTimersByTimeAsync(999)
    expect(waiters.some((w) => w.done)).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(waiters.every((w) => w.done)).toBe(true)
  })

  it('a hold extended while senders wait is honoured (no lost wake-up), and never shortened', async () => {
    const gate = new PacingGate(60_000)
    gate.hold('a', Date.now() + 1000)
    const w = track(gate.wait('a'))
    await vi.advanceTimersByTimeAsync(500)
    gate.hold('a', Date.now() + 2000) // until t=2500
    gate.hold('a', Date.now() + 10) // earlier: ignored
    await vi.advanceTimersByTimeAsync(1000)
    expect(w.done).toBe(false)
    await vi.advanceTimersByTimeAsync(1000)
    expect(w.done).toBe(true)
  })

  it('when a hold ends, its waiters go on oldest request first: a resend before senders that came while it was in flight', async () => {
    const gate = new PacingGate(60_000)
    const order: string[] = []
    const t0 = Date.now()
    gate.hold('a', t0 + 1000)
    // Two new requests reach the gate first; the throttled one (first sent at t0 - 500) comes back after them.
    const waits = [gate.wait('a', t0 + 10).then(() => order.push('new-1')), gate.wait('a', t0 + 20).then(() => order.push('new-2'))]
    await vi.advanceTimersByTimeAsync(300)
    waits.push(gate.wait('a', t0 - 500).then(() => order.push('resend')))
    await vi.advanceTimersByTimeAsync(700)
    await Promise.all(waits)
    expect(order).toEqual(['resend', 'new-1', 'new-2'])
    // A request that comes once the hold is over but before its timer fired goes after those waiting.
    gate.hold('a', Date.now() + 100)
    const late: string[] = []
    const w = gate.wait('a', 0).then(() => late.push('waiting'))
    vi.setSystemTime(Date.now() + 100) // the hold has passed; its timer has not fired yet
    await gate.wait('a').then(() => late.push('fresh'))
    await w
    expect(late).toEqual(['waiting', 'fresh'])
  })

  it('a spent quota in the headers closes the partition until its reset; a hold is capped', async () => {
    const gate = new PacingGate(5_000)
    gate.observe('a', { 'x-ratelimit-remaining': '3', 'x-ratelimit-reset': '60' })
    const open = track(gate.wait('a'))
    await vi.advanceTimersByTimeAsync(0)
    expect(open.done).toBe(true) // requests left: no hold
    gate.observe('a', { ratelimit: '"p";r=0;t=60' })
    const w = track(gate.wait('a'))
    await vi.advanceTimersByTimeAsync(4_999)
    expect(w.done).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(w.done).toBe(true) // capped at 5 s, not 60
  })
})
