import { parseList, type Item } from 'structured-headers'

/**
 * Reading what a target says about its own rate limits, so the adapter can wait as told instead of
 * letting a throttled answer reach a check. Header names are lower-case (undici's).
 */

type Headers = Readonly<Record<string, string | undefined>>

/** Above this a bare reset number is an epoch (seconds since 1970), below it a delay in seconds. */
const EPOCH_THRESHOLD_SECONDS = 1_000_000_000

/**
 * Milliseconds `Retry-After` asks a client to wait (RFC 9110 §10.2.3: delay-seconds or an
 * HTTP-date), or undefined when it is absent or unreadable. A date in the past is 0.
 */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/**
 * A reset given as a bare number: delay-seconds, or epoch seconds (GitHub's `X-RateLimit-Reset`).
 * Told apart by size: no window lasts 30 years, and no epoch is that small.
 */
export function resetMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value.trim())
  if (!Number.isFinite(n) || n < 0) return undefined
  return n >= EPOCH_THRESHOLD_SECONDS ? Math.max(0, n * 1000 - now) : n * 1000
}

/** What the answer says about the quota left: requests remaining and when the window resets. */
export interface Allowance {
  remaining: number
  /** Milliseconds until the quota is refilled, when the target says. */
  resetMs?: number
}

/**
 * draft-ietf-httpapi-ratelimit-headers-11: `RateLimit: "policy";r=0;t=5` (an SF List, one item per
 * policy). The most constraining item wins: an exhausted one (the longest wait among them), else
 * the one with the fewest requests left. A malformed field is ignored, never trusted.
 */
function draft11(value: string): Allowance | undefined {
  let items: ReturnType<typeof parseList>
  try {
    items = parseList(value)
  } catch {
    return undefined
  }
  let best: Allowance | undefined
  for (const m of items) {
    const [, params] = m as Item
    const r = params.get('r')
    const t = params.get('t')
    if (typeof r !== 'number') continue
    const one: Allowance = { remaining: r, resetMs: typeof t === 'number' && t >= 0 ? t * 1000 : undefined }
    if (!best || one.remaining < best.remaining || (one.remaining === best.remaining && (one.resetMs ?? 0) > (best.resetMs ?? 0))) best = one
  }
  return best
}

/**
 * The allowance from whichever family the target speaks: draft-11 `RateLimit`, the older
 * `RateLimit-Remaining`/`RateLimit-Reset` (delay-seconds), or `X-RateLimit-Remaining`/`-Reset`
 * (delay or epoch seconds). Undefined when it says nothing readable.
 */
export function allowanceOf(headers: Headers, now = Date.now()): Allowance | undefined {
  const sf = headers['ratelimit']
  if (sf !== undefined) {
    const a = draft11(sf)
    if (a) return a
  }
  for (const prefix of ['ratelimit-', 'x-ratelimit-']) {
    const raw = headers[`${prefix}remaining`]
    if (raw === undefined) continue
    // A list (several policies) keeps its smallest value.
    const remaining = Math.min(...raw.split(',').map((s) => Number(s.trim())).filter((n) => Number.isFinite(n)))
    if (!Number.isFinite(remaining)) continue
    const reset = headers[`${prefix}reset`]?.split(',').map((s) => resetMs(s, now)).filter((n): n is number => n !== undefined)
    return { remaining, resetMs: reset && reset.length ? Math.max(...reset) : undefined }
  }
  return undefined
}

/** Whether an answer is the target throttling the harness: 429, or 503 with a Retry-After. */
export function isThrottled(status: number, headers: Headers): boolean {
  return status === 429 || (status === 503 && headers['retry-after'] !== undefined)
}

/** Exponential backoff when the target says nothing: 500 ms, 1 s, 2 s … capped. */
export function backoffMs(attempt: number, capMs = 30_000): number {
  return Math.min(capMs, 500 * 2 ** attempt)
}

/**
 * How long to wait before resending a throttled request: Retry-After, else the rate-limit
 * headers' reset, else exponential backoff. Never less than a few milliseconds, so a target that
 * says "0" is not hammered in a tight loop.
 */
export function throttleWaitMs(headers: Headers, attempt: number, now = Date.now()): number {
  const wait = retryAfterMs(headers['retry-after'], now) ?? allowanceOf(headers, now)?.resetMs ?? backoffMs(attempt)
  return Math.max(50, wait)
}
