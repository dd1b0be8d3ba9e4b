/**
 * At most `size` holders at once; the rest wait in arrival order (FIFO), so with one sender the
 * order of requests is exactly the order they were asked for.
 */
export class Semaphore {
  private active = 0
  private readonly queue: (() => void)[] = []

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a semaphore needs a size of at least 1, not ${size}`)
  }

  /** Holders now (for tests and the run's summary). */
  get inUse(): number {
    return this.active
  }

  /** Resolves with a release function once a place is free; call it exactly once. */
  async acquire(): Promise<() => void> {
    if (this.active < this.size) this.active++
    else await new Promise<void>((resolve) => this.queue.push(resolve)) // the releaser hands its place over
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.queue.shift()
      if (next) next()
      else this.active--
    }
  }

  /** Runs `fn` holding a place. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire()
    try {
      return await fn()
    } finally {
      release()
    }
  }
}

/**
 * Maps `items` through `fn` with at most `limit` calls pending, and returns the results in the
 * order of `items` (never of completion): a walk run through a pool reports as if run in order.
 * The first rejection rejects the whole (after the calls already started settle), as a loop would.
 */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  let failed: { err: unknown } | undefined
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const i = next++
      try {
        results[i] = await fn(items[i]!, i)
      } catch (err) {
        failed ??= { err }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
  if (failed) throw failed.err
  return results
}
