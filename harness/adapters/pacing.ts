import { allowanceOf } from './rate-headers.js'

/**
 * Holds requests of one partition while the target says its quota is spent. A partition is what
 * the target most likely counts against (see `HttpAdapter.partitionOf`): the tenant behind a token.
 *
 * Safe for concurrent senders: a hold is only ever a deadline, and one timer per held partition
 * looks again when it passes (a hold extended meanwhile is seen on that look), so there is no busy
 * loop and no wake-up to lose. When it opens, its waiters go on oldest request first (by when each
 * request was first sent, not when it came to the gate): a request the target throttled and the
 * adapter resends goes before those that came while it was in flight, so a window too small for
 * every sender cannot leave the same request behind round after round until its resends run out.
 */
export class PacingGate {
  private readonly holds = new Map<string, number>()
  private readonly waiting = new Map<string, { since: number; seq: number; wake: () => void }[]>()
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>()
  private seq = 0

  /** @param maxHoldMs - no single hold is longer than this, whatever a header says */
  constructor(private readonly maxHoldMs: number) {}

  /** Keeps `partition` closed until `until` (epoch ms); an earlier deadline never shortens a hold. */
  hold(partition: string, until: number, now = Date.now()): void {
    const capped = Math.min(until, now + this.maxHoldMs)
    if (capped > (this.holds.get(partition) ?? 0)) this.holds.set(partition, capped)
  }

  /** Reads an answer's rate-limit headers: a spent quota closes the partition until its reset. */
  observe(partition: string, headers: Readonly<Record<string, string | undefined>>, now = Date.now()): void {
    const a = allowanceOf(headers, now)
    if (a && a.remaining <= 0 && a.resetMs !== undefined && a.resetMs > 0) this.hold(partition, now + a.resetMs, now)
  }

  /**
   * Resolves once `partition` is open; returns the milliseconds it waited. `since`: when the request
   * was first sent (its resends pass the first attempt's time), which orders the waiters released together.
   */
  async wait(partition: string, since = Date.now()): Promise<number> {
    const start = Date.now()
    const until = this.holds.get(partition)
    if (until === undefined) return 0
    if (until <= start && !this.waiting.has(partition)) {
      this.holds.delete(partition)
      return 0
    }
    await new Promise<void>((wake) => {
      const list = this.waiting.get(partition) ?? []
      list.push({ since, seq: this.seq++, wake })
      this.waiting.set(partition, list)
      // Passed, its timer not yet fired: released now with those already waiting, in their order.
      if (until <= start) this.release(partition)
      else this.arm(partition)
    })
    return Date.now() - start
  }

  private arm(partition: string): void {
    if (this.timers.has(partition)) return
    const until = this.holds.get(partition) ?? 0
    this.timers.set(partition, setTimeout(() => this.release(partition), Math.max(0, until - Date.now())))
  }

  /** The hold has passed (else looks again later): every waiter goes on, oldest request first. */
  private release(partition: string): void {
    clearTimeout(this.timers.get(partition))
    this.timers.delete(partition)
    if ((this.holds.get(partition) ?? 0) > Date.now()) return this.arm(partition)
    this.holds.delete(partition)
    const list = this.waiting.get(partition) ?? []
    this.waiting.delete(partition)
    // Woken in this order, they reach the adapter's in-flight queue (FIFO) in this order too.
    for (const w of list.sort((a, b) => a.since - b.since || a.seq - b.seq)) w.wake()
  }
}
