import { afterEach, describe, expect, it } from 'vitest'
import { HttpAdapter } from './http.js'
import { json, startStub, type Stub } from '../../test/support/stub.js'

let stub: Stub | undefined
let http: HttpAdapter | undefined
afterEach(async () => {
  await http?.close()
  await stub?.close()
  http = stub = undefined
})

/** A stub answering after `delayMs`, and an adapter to it under an interrupt signal. */
async function slow(delayMs: number): Promise<{ http: HttpAdapter; interrupt: AbortController }> {
  stub = await startStub(async (_req, res) => {
    await new Promise((r) => setTimeout(r, delayMs))
    json(res, 201, { id: 'x' })
  })
  http = new HttpAdapter({ baseUrl: stub.url, maxRequests: 100, timeoutMs: 5000, retries: 0 })
  const interrupt = new AbortController()
  http.interruptWith(interrupt.signal)
  return { http, interrupt }
}

describe('the adapter under an interrupt (Ctrl-C)', () => {
  it('sends no new request once the signal fired', async () => {
    const { http, interrupt } = await slow(0)
    expect((await http.send({ method: 'GET', path: '/a' })).status).toBe(201)
    interrupt.abort()
    await expect(http.send({ method: 'GET', path: '/b' })).rejects.toThrow(/interrupted: GET \/b/)
    await expect(http.send({ method: 'POST', path: '/c', body: {} })).rejects.toThrow(/interrupted/)
    expect(stub!.seen.map((r) => r.path)).toEqual(['/a'])
    expect(http.sent).toBe(1)
  })

  it('abandons a read in flight, but lets a write in flight finish (what it created must reach the ledger)', async () => {
    const { http, interrupt } = await slow(300)
    const read = http.send({ method: 'GET', path: '/read' })
    const write = http.send({ method: 'POST', path: '/write', body: {} })
    setTimeout(() => interrupt.abort(), 50)
    await expect(read).rejects.toThrow(/interrupted: GET \/read/)
    expect((await write).json).toEqual({ id: 'x' })
  })

  it("still sends what runs uninterruptible (teardown's deletes)", async () => {
    const { http, interrupt } = await slow(0)
    interrupt.abort()
    const res = await http.uninterruptible(() => http.send({ method: 'DELETE', path: '/accounts/1' }))
    expect(res.status).toBe(201)
    await expect(http.send({ method: 'DELETE', path: '/accounts/2' })).rejects.toThrow(/interrupted/)
    expect(stub!.seen.map((r) => `${r.method} ${r.path}`)).toEqual(['DELETE /accounts/1'])
  })
})
