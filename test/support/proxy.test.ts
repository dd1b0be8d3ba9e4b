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
