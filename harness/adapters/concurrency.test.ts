import { afterEach, describe, expect, it } from 'vitest'
import { isHarnessError } from '../core/errors.js'
import { HttpAdapter, newScope, type AdapterOptions } from './http.js'
import { mapPool, Semaphore } from './limit.js'
import { json, startStub, type Stub } from '../../test/support/stub.js'

let stub: Stub | undefined
let http: HttpAdapter | undefined
afterEach(async () => {
  await http?.close()
  await stub?.close()
  http = stub = undefined
})

function adapter(s: Stub, opts: Partial<AdapterOptions> = {}): HttpAdapter {
  http = new HttpAdapter({ baseUrl: s.url, maxRequests: 1000, timeoutMs: 5000, retries: 0, ...opts })
  return http
}

/** A stub that holds every answer until released, counting how many requests it holds at once. */
async function holdingStub() {
  let inFlight = 0
  let most = 0
  const waiting: (() => void)[] = []
  stub = await startStub(async (_req, res) => {
    inFlight++
    most = Math.max(most, inFlight)
    await new Promise<void>((r) => waiting.push(r))
    inFlight--
    json(res, 200, { ok: true })
  })
  return {
    stub,
    most: () => most,
    /** Resolves once `n` requests are held, then answers them all. */
    async releaseWhen(n: number) {
      while (waiting.length < n) await new Promise((r) => setTimeout(r, 5))
      for (const w of waiting.splice(0)) w()
    },
    waiting: () => waiting.length,
  }
}

describe('Semaphore and mapPool', () => {
  it('never lets more than size holders in, and serves waiters in arrival order', async () => {
    const sem = new Semaphore(2)
    const order: number[] = []
    let held = 0
    let most = 0
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => sem.run(async () => {
      order.push(i)
      held++
      most = Math.max(most, held)
      await new Promise((r) => setImmediate(r))
      held--
    })))
    expect(most).toBe(2)
    expect(order).toEqual([0, 1, 2, 3, 4, 5])
    expect(sem.inUse).toBe(0)
  })

  it('mapPool returns results in input order whatever the completion order, bounded by its limit', async () => {
    let pending = 0
    let most = 0
    const out = await mapPool([30, 5, 20, 1, 10], 3, async (ms, i) => {
      pending++
      most = Math.max(most, pending)
      await new Promise((r) => setTimeout(r, ms))
      pending--
      return `${i}:${ms}`
    })
    expect(out).toEqual(['0:30', '1:5', '2:20', '3:1', '4:10'])
    expect(most).toBe(3)
  })

  it('mapPool rejects with the first failure and starts nothing after it', async () => {
    const started: number[] = []
    const err = await mapPool([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n)
      if (n === 2) throw new Error('two')
      await new Promise((r) => setImmediate(r))
      return n
    }).catch((e: Error) => e)
    expect((err as Error).message).toBe('two')
    expect(started.length).toBeLessThan(6)
  })
})

describe('the adapter bounds requests in flight', () => {
  it('holds at most `concurrency` requests at the target at once, and sends the rest as places free', async () => {
    const s = await holdingStub()
    const a = adapter(s.stub, { concurrency: 3 })
    const all = Promise.all(Array.from({ length: 7 }, (_, i) => a.send({ method: 'GET', path: `/x/${i}` })))
    await s.releaseWhen(3)
    // While three are held, the other four wait in the adapter, not at the target.
    await s.releaseWhen(3)
    await s.releaseWhen(1)
    const res = await all
    expect(res.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 200])
    expect(s.most()).toBe(3)
    expect(a.sent).toBe(7)
  })

  it('the budget holds across concurrent senders: never one request over it', async () => {
    stub = await startStub((_req, res) => json(res, 200, { ok: true }))
    const a = adapter(stub, { concurrency: 8, maxRequests: 5 })
    const out = await Promise.allSettled(Array.from({ length: 12 }, () => a.send({ method: 'GET', path: '/x' })))
    expect(out.filter((o) => o.status === 'fulfilled')).toHaveLength(5)
    expect(out.filter((o) => o.status === 'rejected' && isHarnessError(o.reason) && o.reason.code === 'ERR_BUDGET_EXHAUSTED')).toHaveLength(7)
    expect(stub.seen).toHaveLength(5)
  })

  it('counts each request and each throttled resend in the scope of the caller that sent it', async () => {
    let i = 0
    stub = await startStub((req, res) => (req.path === '/slow' && i++ === 0 ? json(res, 429, {}, { 'retry-after': '0' }) : json(res, 200, { ok: true })))
    const a = adapter(stub, { concurrency: 4 })
    const one = newScope()
    const two = newScope()
    await Promise.all([
      a.inScope(one, async () => {
        await a.send({ method: 'GET', path: '/slow' })
        await a.send({ method: 'GET', path: '/a' })
      }),
      a.inScope(two, () => Promise.all([1, 2, 3].map(() => a.send({ method: 'GET', path: '/b' })))),
    ])
    expect(one).toMatchObject({ sent: 3, traffic: { throttled: 1, resends: 1 } })
    expect(two).toMatchObject({ sent: 3, traffic: { throttled: 0, resends: 0 } })
    expect(a.sent).toBe(6)
    expect(a.traffic).toMatchObject({ throttled: 1, resends: 1 })
  })

  it('one 429 holds the partition for every concurrent sender of it (a shared pacing hold)', async () => {
    let first = true
    stub = await startStub((_req, res) => {
      if (first) {
        first = false
        return json(res, 429, {}, { 'retry-after': '1' })
      }
      json(res, 200, { ok: true })
    })
    const a = adapter(stub, { concurrency: 4 })
    const one = newScope()
    const two = newScope()
    const sendA = a.inScope(one, () => a.send({ method: 'GET', path: '/a' }))
    // The throttle count and the hold are set together, before A's resend waits.
    while (a.traffic.throttled === 0) await new Promise((r) => setTimeout(r, 5))
    const sendB = a.inScope(two, () => a.send({ method: 'GET', path: '/b' }))
    expect((await Promise.all([sendA, sendB])).map((r) => r.status)).toEqual([200, 200])
    // B was never throttled itself, yet it waited: A's 429 closed the (anonymous) partition for both.
    expect(two.traffic).toMatchObject({ throttled: 0 })
    expect(two.traffic.waitedMs).toBeGreaterThan(0)
    expect(one.traffic).toMatchObject({ throttled: 1, resends: 1 })
  })
})
