import { setMaxListeners } from 'node:events'
import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'
import { assertLoopback } from './loopback.js'
import type { Slot } from './schedule.js'

/** What one stream sends (the token goes in `headers` and never leaves this process). */
export interface StreamRequest {
  method: string
  path: string
  headers: Record<string, string>
}

/** One scheduled request's outcome. `status` 0: transport error or timeout; -1: dropped (too many open). */
export interface RequestRecord {
  stream: number
  /** Scheduled start, ms from the start of the run. */
  at: number
  /** How late it actually started, ms (driver lag; large values mean the machine could not keep up). */
  lateMs: number
  status: number
  /** From the send to the end of the body, microseconds. */
  latencyUs: number
}

export interface OpenModelOptions {
  baseUrl: string
  slots: Slot[]
  requestFor: (stream: number) => StreamRequest
  maxInFlight: number
  timeoutMs: number
  /** Nothing is left running after this many ms from the start (in-flight requests are aborted). */
  deadlineMs: number
  /** Called with each request as it starts (tests observe ordering with it). */
  onStart?: (slot: Slot) => void
}

export interface OpenModelResult {
  records: RequestRecord[]
  durationMs: number
}

const sleep = (ms: number) => new Promise<void>((r) => (ms >= 1 ? setTimeout(r, ms) : setImmediate(r)))

/**
 * Sends `slots` on schedule: each request starts at its time whether or not earlier ones have
 * answered (open model), so a slow server shows up as latency, not as a lower request rate. A
 * request due while `maxInFlight` are open is dropped and recorded, never delayed. Loopback only;
 * bounded by the slot count and by `deadlineMs`.
 */
export async function runOpenModel(opts: OpenModelOptions): Promise<OpenModelResult> {
  const origin = assertLoopback(opts.baseUrl).origin
  const pool = new Pool(origin, { connections: opts.maxInFlight, pipelining: 1, keepAliveTimeout: 10_000 })
  const abort = new AbortController()
  // One signal shared by every open request.
  setMaxListeners(0, abort.signal)
  const records: RequestRecord[] = []
  const open = new Set<Promise<void>>()
  const t0 = performance.now()
  const deadline = setTimeout(() => abort.abort(), opts.deadlineMs)

  const fire = (slot: Slot) => {
    const started = performance.now()
    const lateMs = started - t0 - slot.at
    if (open.size >= opts.maxInFlight) {
      records.push({ stream: slot.stream, at: slot.at, lateMs, status: -1, latencyUs: 0 })
      return
    }
    opts.onStart?.(slot)
    const req = opts.requestFor(slot.stream)
    const p = pool
      .request({ method: req.method as 'GET', path: req.path, headers: req.headers, headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs, signal: abort.signal })
      .then(async (res) => {
        await res.body.dump()
        return res.statusCode
      })
      .catch(() => 0)
      .then((status) => {
        records.push({ stream: slot.stream, at: slot.at, lateMs, status, latencyUs: Math.round((performance.now() - started) * 1000) })
        open.delete(p)
      })
    open.add(p)
  }

  try {
    let i = 0
    while (i < opts.slots.length && !abort.signal.aborted) {
      const now = performance.now() - t0
      const next = opts.slots[i]!
      if (next.at > now) {
        await sleep(Math.min(next.at - now, 50))
        continue
      }
      // Everything due goes out now, in schedule order: a late tick never thins the schedule.
      while (i < opts.slots.length && opts.slots[i]!.at <= now) fire(opts.slots[i++]!)
    }
    while (open.size) await Promise.all([...open])
  } finally {
    clearTimeout(deadline)
    await pool.destroy().catch(() => undefined)
  }
  return { records, durationMs: performance.now() - t0 }
}
