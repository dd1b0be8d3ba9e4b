import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startProxy, type RunningProxy } from './proxy.js'
import { json, startStub, type Stub } from './stub.js'

let stub: Stub | undefined
let proxy: RunningProxy | undefined
afterEach(async () => {
  await proxy?.close()
  await stub?.close()
  proxy = stub = undefined
})

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers })

describe('the loopback test proxy', () => {
  it('forwards method, path and body, and answers 429 with Retry-After on its schedule', async () => {
    stub = await startStub((req, res) => json(res, 200, { path: req.path, body: req.body }))
    proxy = await startProxy({ target: stub.url, throttle: { every: 3, retryAfterSeconds: 2 } })
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) {
      const res = await get(`${proxy.url}/a/${i}?q=1`)
      statuses.push(res.status)
      if (res.status === 429) expect(res.headers.get('retry-after')).toBe('2')
      else expect(await res.json()).toEqual({ path: `/a/${i}?q=1`, body: '' })
    }
    expect(statuses).toEqual([200, 200, 429, 200, 200, 429])
    const posted = await fetch(`${proxy.url}/p`, { method: 'POST', body: 'x=1' })
    expect(await posted.json()).toEqual({ path: '/p', body: 'x=1' })
    expect(proxy.stats).toMatchObject({ requests: 7, throttled: 2, forwarded: 5 })
  })

  it("can throttle with only a draft-11 RateLimit field (no Retry-After)", async () => {
    stub = await startStub((_req, res) => json(res, 200, {}))
    proxy = await startProxy({ target: stub.url, throttle: { every: 2, retryAfterSeconds: 1, header: 'ratelimit' } })
    await get(proxy.url)
    const res = await get(proxy.url)
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBeNull()
    expect(res.headers.get('ratelimit')).toBe('"proxy";r=0;t=1')
  })

  it('refuseTokensAfter: after N requests every request with a token gets 401; anonymous ones still pass', async () => {
    stub = await startStub((_req, res) => json(res, 200, {}))
    proxy = await startProxy({ target: stub.url, refuseTokensAfter: 2 })
    const auth = { authorization: 'Bearer t' }
    expect((await get(proxy.url, auth)).status).toBe(200)
    expect((await get(proxy.url, auth)).status).toBe(200)
    const refused = await get(proxy.url, auth)
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
    expect((await get(proxy.url)).status).toBe(200)
    expect(proxy.stats.refused).toBe(1)
  })

  it('refuses a target off loopback', async () => {
    await expect(startProxy({ target: 'http://example.com' })).rejects.toThrow(/loopback/)
  })
})

describe('the loopback delay proxy', () => {
  it('holds each request for delay.request and each answer for delay.response (order seen through its scheduler, no clock)', async () => {
    stub = await startStub((req, res) => json(res, 200, { path: req.path }))
    const waiting: { ms: number; run: () => void }[] = []
    proxy = await startProxy({ target: stub.url, delay: { request: 7, response: 13 }, schedule: (ms, run) => void waiting.push({ ms, run }) })
    const answer = fetch(`${proxy.url}/slow`).then(async (r) => ({ status: r.status, body: await r.json() }))
    await expect.poll(() => waiting.length).toBe(1)
    expect(waiting[0]!.ms).toBe(7)
    expect(stub.seen).toEqual([]) // not forwarded yet
    waiting.shift()!.run()
    await expect.poll(() => waiting.length).toBe(1)
    expect(waiting[0]!.ms).toBe(13)
    expect(stub.seen.map((r) => r.path)).toEqual(['/slow']) // forwarded, answer held back
    let done = false
    void answer.then(() => (done = true))
    await new Promise((r) => setImmediate(r))
    expect(done).toBe(false)
    waiting.shift()!.run()
    expect(await answer).toEqual({ status: 200, body: { path: '/slow' } })
  })

  it('serves many concurrent requests over kept-alive upstream connections, at most maxConnections of them', async () => {
    const sockets = new Set<unknown>()
    const upstream = createServer((req, res) => {
      sockets.add(req.socket)
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ n: req.url }))
    })
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
    try {
      proxy = await startProxy({ target: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, maxConnections: 4, delay: { request: 1, response: 1 } })
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => fetch(`${proxy!.url}/n/${i}`).then(async (r) => (await r.json()) as { n: string })))
      expect(answers.map((a) => a.n)).toEqual(Array.from({ length: 40 }, (_, i) => `/n/${i}`))
      expect(proxy.stats).toMatchObject({ requests: 40, forwarded: 40 })
      // 40 requests over at most 4 upstream connections: kept alive and reused.
      expect(sockets.size).toBeGreaterThan(0)
      expect(sockets.size).toBeLessThanOrEqual(4)
    } finally {
      upstream.closeAllConnections()
      upstream.close()
    }
  })

  it('sends a request again on a fresh connection when the upstream closed the kept-alive one it went out on', async () => {
    // The race a keepAliveTimeout makes, made certain: the upstream drops every connection on its second request, unanswered.
    const served = new WeakMap<object, number>()
    const upstream = createServer((req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1
      served.set(req.socket, n)
      if (n > 1) return void req.socket.destroy()
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ n: req.url }))
    })
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
    try {
      proxy = await startProxy({ target: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, maxConnections: 1 })
      for (const path of ['/a', '/b', '/c']) {
        const res = await fetch(`${proxy.url}${path}`, { method: 'POST', body: '{}' })
        expect(res.status, path).toBe(200)
        expect(await res.json()).toEqual({ n: path })
      }
    } finally {
      upstream.closeAllConnections()
      upstream.close()
    }
  })

  it('reset() zeroes the counters and changes when tokens start being refused', async () => {
    stub = await startStub((_req, res) => json(res, 200, {}))
    proxy = await startProxy({ target: stub.url })
    const auth = { authorization: 'Bearer t' }
    expect((await get(proxy.url, auth)).status).toBe(200)
    proxy.reset({ refuseTokensAfter: 1 })
    expect(proxy.stats.requests).toBe(0)
    expect((await get(proxy.url, auth)).status).toBe(200)
    expect((await get(proxy.url, auth)).status).toBe(401)
    proxy.reset({ refuseTokensAfter: undefined })
    expect((await get(proxy.url, auth)).status).toBe(200)
  })

  it('refuses unbounded settings', async () => {
    await expect(startProxy({ target: 'http://127.0.0.1:1', delay: { response: 60_000 } })).rejects.toThrow(/delay/)
    await expect(startProxy({ target: 'http://127.0.0.1:1', maxConnections: 0 })).rejects.toThrow(/maxConnections/)
  })
})
