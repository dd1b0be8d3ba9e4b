import { afterEach, describe, expect, it } from 'vitest'
import { isHarnessError } from '../core/errors.js'
import { HttpAdapter, type AdapterOptions } from './http.js'
import { fakeJwt, json, startStub, type Stub } from '../../test/support/stub.js'

let stub: Stub | undefined
let http: HttpAdapter | undefined
afterEach(async () => {
  await http?.close()
  await stub?.close()
  http = stub = undefined
})

function adapter(s: Stub, opts: Partial<AdapterOptions> = {}): HttpAdapter {
  http = new HttpAdapter({ baseUrl: s.url, maxRequests: 1000, timeoutMs: 5000, retries: 0, throttle: { maxRetries: 8, maxWaitMs: 120_000 }, ...opts })
  return http
}

/** Answers the first `n` requests with `status` and `headers`, then 200. */
async function throttling(n: number, status = 429, headers: Record<string, string> = { 'retry-after': '0' }) {
  let i = 0
  stub = await startStub((_req, res) => (i++ < n ? json(res, status, { title: 'slow down' }, headers) : json(res, 200, { ok: true })))
  return stub
}

describe('the adapter waits throttling out', () => {
  it('resends after 429 + Retry-After until answered, every attempt counted', async () => {
    const a = adapter(await throttling(2))
    const res = await a.send({ method: 'GET', path: '/x' })
    expect(res.status).toBe(200)
    expect(stub!.seen).toHaveLength(3)
    expect(a.sent).toBe(3)
    expect(a.traffic).toMatchObject({ throttled: 2, resends: 2 })
    // The attempts it resent are named on the answer: a trail may hold an event for each, same request id.
    expect(res.superseded).toEqual([429, 429])
  })

  it('waits as long as Retry-After says and counts the wait', async () => {
    const a = adapter(await throttling(1, 429, { 'retry-after': '1' }))
    expect((await a.send({ method: 'GET', path: '/x' })).status).toBe(200)
    expect(a.traffic.waitedMs).toBeGreaterThanOrEqual(1000)
  })

  it('a 503 with Retry-After is throttling; a 503 without is an answer', async () => {
    const a = adapter(await throttling(1, 503, { 'retry-after': '0' }))
    expect((await a.send({ method: 'GET', path: '/x' })).status).toBe(200)
    await stub!.close()
    await a.close()
    const b = adapter(await throttling(1, 503, {}))
    expect((await b.send({ method: 'GET', path: '/x' })).status).toBe(503)
    expect(b.traffic.throttled).toBe(0)
  })

  it('without Retry-After it uses the rate-limit reset, else backoff', async () => {
    const a = adapter(await throttling(1, 429, { ratelimit: '"p";r=0;t=0' }))
    expect((await a.send({ method: 'GET', path: '/x' })).status).toBe(200)
    expect(a.traffic.resends).toBe(1)
  })

  it("a probe's exhausted window (throttle: report) holds nobody: the next ordinary request is sent at once", async () => {
    let i = 0
    // The first answer says its window is spent for a minute (a throwaway username's login failures).
    stub = await startStub((_req, res) => (i++ === 0 ? json(res, 429, { title: 'locked' }, { ratelimit: '"login";r=0;t=60', 'retry-after': '60' }) : json(res, 200, { ok: true })))
    const a = adapter(stub)
    expect((await a.send({ method: 'POST', path: '/token', throttle: 'report' })).status).toBe(429)
    expect((await a.send({ method: 'POST', path: '/token' })).status).toBe(200)
    expect(a.traffic.waitedMs).toBe(0)
  })

  it('past maxRetries it stops with ERR_TARGET_THROTTLED naming the route, never returning the 429', async () => {
    const a = adapter(await throttling(Infinity), { throttle: { maxRetries: 3, maxWaitMs: 120_000 } })
    const err = await a.send({ method: 'GET', path: '/records/7' }).catch((e: unknown) => e)
    expect(isHarnessError(err) && err.code).toBe('ERR_TARGET_THROTTLED')
    expect((err as Error).message).toMatch(/GET \/records\/7 was still throttled \(429\) after 3 resends/)
    expect(stub!.seen).toHaveLength(4)
  })

  it('a wait longer than maxWaitMs stops at once', async () => {
    const a = adapter(await throttling(Infinity, 429, { 'retry-after': '30' }), { throttle: { maxRetries: 8, maxWaitMs: 5_000 } })
    const err = await a.send({ method: 'GET', path: '/x' }).catch((e: unknown) => e)
    expect(isHarnessError(err) && err.code).toBe('ERR_TARGET_THROTTLED')
    expect((err as Error).message).toMatch(/asked for 30\.0 s more/)
    expect(stub!.seen).toHaveLength(1)
  })

  it('resends spend the request budget', async () => {
    const a = adapter(await throttling(Infinity), { maxRequests: 2 })
    const err = await a.send({ method: 'GET', path: '/x' }).catch((e: unknown) => e)
    expect(isHarnessError(err) && err.code).toBe('ERR_BUDGET_EXHAUSTED')
  })

  it("throttle: 'report' hands the 429 back untouched (the rate-limit probes)", async () => {
    const a = adapter(await throttling(1))
    const res = await a.send({ method: 'GET', path: '/x', throttle: 'report' })
    expect(res.status).toBe(429)
    expect(stub!.seen).toHaveLength(1)
    expect(a.traffic.throttled).toBe(0)
  })
})

describe('rate-limit headers pace the requests that follow, per tenant', () => {
  it("a spent quota holds that account's next request until the reset, not another account's", async () => {
    const spent = fakeJwt({ sub: 'u1', account_id: 'acc-1' })
    const other = fakeJwt({ sub: 'u2', account_id: 'acc-2' })
    stub = await startStub((req, res) =>
      json(res, 200, {}, req.headers.authorization === `Bearer ${spent}` ? { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1' } : {}))
    const a = adapter(stub)
    await a.send({ method: 'GET', path: '/x', token: spent })
    await a.send({ method: 'GET', path: '/x', token: other })
    expect(a.traffic.waitedMs).toBe(0)
    await a.send({ method: 'GET', path: '/x', token: spent })
    expect(a.traffic.waitedMs).toBeGreaterThan(0)
    expect(a.traffic.throttled).toBe(0) // paced, so never throttled
  })

  it('a throttled answer holds the other senders of the same partition until the wait is over', async () => {
    let throttledAt = 0
    const arrivals: number[] = []
    stub = await startStub((req, res) => {
      if (req.path === '/first' && !throttledAt) {
        throttledAt = Date.now()
        return json(res, 429, {}, { 'retry-after': '1' })
      }
      if (req.path === '/later') arrivals.push(Date.now())
      json(res, 200, {})
    })
    const a = adapter(stub)
    const first = a.send({ method: 'GET', path: '/first' })
    while (a.traffic.throttled === 0) await new Promise((r) => setTimeout(r, 5)) // the adapter has read the 429
    const later = await Promise.all([a.send({ method: 'GET', path: '/later' }), a.send({ method: 'GET', path: '/later' })])
    expect((await first).status).toBe(200)
    expect(later.map((r) => r.status)).toEqual([200, 200])
    // A lower bound the gate guarantees (timers may fire a millisecond early), not a speed measurement.
    for (const t of arrivals) expect(t - throttledAt).toBeGreaterThanOrEqual(980)
  })
})
