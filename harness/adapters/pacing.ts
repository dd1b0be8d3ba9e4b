import { allowanceOf } from './rate-headers.js'

/**
 * Holds requests of one partition while the target says its quota is spent. A partition is what
 * the target most likely counts against (see `HttpAdapter.partitionOf`): the tenant behind a token.
 *
 * Safe for concurrent senders: a hold is only ever a deadline, each waiter sleeps on its own timer
 * until the latest deadline and looks again (a hold extended meanwhile is seen on that look), so
 * there is no busy loop and no wake-up to lose.
 */
export class PacingGate {
  private readonly holds = new Map<string, number>()

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

  /** Resolves once `partition` is open; returns the milliseconds it waited. */
  async wait(partition: string): Promise<number> {
    const start = Date.now()
    let slept = false
    for (;;) {
      const until = this.holds.get(partition)
      const now = Date.now()
      if (until === undefined || until <= now) {
        if (until !== undefined) this.holds.delete(partition)
        return slept ? now - start : 0
      }
      slept = true
      await new Promise((r) => setTimeout(r, until - now))
    }
  }
}
