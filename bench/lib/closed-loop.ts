import { Pool, type Dispatcher } from 'undici'
import hdr from 'hdr-histogram-js'

export interface LoopResult { requests: number; errors: number; seconds: number; rps: number; p50: number; p95: number; p99: number }

/** One request of the loop; `request(conn, n)` builds the n-th request of worker `conn`. */
export interface LoopRequest { method: Dispatcher.HttpMethod; path: string; headers?: Record<string, string>; body?: string }

/**
 * A closed-loop load generator for benchmarks: `connections` workers each send the next request as
 * soon as the last answered, for `seconds` (after `warmup`). Loopback only, bounded in time. Either
 * GET `path` every time, or whatever `request(conn, n)` builds (e.g. each worker writing its own object).
 * An answer is an error when it is a 4xx or 5xx, or, with `expectStatus` (a route that denies), any other status.
 */
export async function closedLoop(
  url: string,
  opts: { path?: string; headers?: Record<string, string>; request?: (conn: number, n: number) => LoopRequest; connections?: number; seconds?: number; warmup?: number; expectStatus?: number },
): Promise<LoopResult> {
  const target = new URL(url)
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname)) throw new Error(`benchmarks only target loopback, not ${target.hostname}`)
  const connections = opts.connections ?? 8
  const next = opts.request ?? ((): LoopRequest => ({ method: 'GET', path: opts.path ?? '/', headers: opts.headers }))
  const pool = new Pool(target.origin, { connections, pipelining: 1 })
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  let requests = 0
  let errors = 0
  let recording = false
  const phase = async (seconds: number) => {
    const until = Date.now() + seconds * 1000
    await Promise.all(Array.from({ length: connections }, async (_, conn) => {
      for (let n = 0; Date.now() < until; n++) {
        const t0 = process.hrtime.bigint()
        try {
          const res = await pool.request(next(conn, n))
          await res.body.dump()
          if (recording) {
            if (opts.expectStatus === undefined ? res.statusCode >= 400 : res.statusCode !== opts.expectStatus) errors++
            requests++
            histogram.recordValue(Number((process.hrtime.bigint() - t0) / 1000n))
          }
        } catch {
          if (recording) errors++
        }
      }
    }))
  }
  await phase(opts.warmup ?? 1)
  recording = true
  const started = Date.now()
  await phase(opts.seconds ?? 5)
  const seconds = (Date.now() - started) / 1000
  await pool.close()
  const ms = (p: number) => histogram.getValueAtPercentile(p) / 1000
  return { requests, errors, seconds, rps: requests / seconds, p50: ms(50), p95: ms(95), p99: ms(99) }
}

export function table(rows: { name: string; r: LoopResult; base?: LoopResult }[]): string {
  const head = 'target'.padEnd(34) + 'req/s'.padStart(10) + 'p50 ms'.padStart(9) + 'p95 ms'.padStart(9) + 'errors'.padStart(8) + '  ratio to baseline'
  const lines = rows.map(({ name, r, base }) =>
    name.padEnd(34) + r.rps.toFixed(0).padStart(10) + r.p50.toFixed(2).padStart(9) + r.p95.toFixed(2).padStart(9) + String(r.errors).padStart(8) +
    (base ? `  ${(r.rps / base.rps).toFixed(3)}× throughput, ${(r.p95 / base.p95).toFixed(1)}× p95` : '  (baseline)'))
  return [head, ...lines].join('\n')
}
