import { afterEach, describe, expect, it } from 'vitest'
import { HttpAdapter } from '../adapters/http.js'
import type { Topology } from '../core/topology.js'
import { json, startStub, type Stub } from '../../test/support/stub.js'
import { teardown, type TeardownResult } from './teardown.js'

let stub: Stub | undefined
let http: HttpAdapter | undefined
afterEach(async () => {
  await http?.close()
  await stub?.close()
  http = stub = undefined
})

const topology = (paths: string[]): Topology => ({
  seed: 1, tag: 'abcdef', accounts: [], actors: [], objects: [], params: { account: 'accountId', workspace: 'workspaceId' },
  created: paths.map((path) => ({ resource: path.split('/')[1]!, path })),
})

describe('teardown', () => {
  it('removes newest first, keeps the ledger live (what is left at any moment), and removes what is recorded meanwhile', async () => {
    const t = topology(['/accounts/1', '/principals/2'])
    const ledger: string[][] = []
    stub = await startStub((req, res) => {
      ledger.push(t.created.map((c) => c.path))
      // A write that was in flight when Ctrl-C came lands in the ledger while teardown runs.
      if (req.path === '/principals/2') t.created.push({ resource: 'accounts', path: '/accounts/3' })
      json(res, req.path === '/accounts/1' ? 500 : 204, {})
    })
    http = new HttpAdapter({ baseUrl: stub.url, maxRequests: 100, timeoutMs: 5000, retries: 0, concurrency: 1 })
    const progress: TeardownResult = { removed: 0, leftovers: [] }
    const result = await teardown(http, t, async () => 'root', progress)
    expect(stub.seen.map((r) => `${r.method} ${r.path}`)).toEqual(['DELETE /principals/2', 'DELETE /accounts/3', 'DELETE /accounts/1'])
    expect(ledger).toEqual([['/accounts/1', '/principals/2'], ['/accounts/1', '/accounts/3'], ['/accounts/1']])
    expect(result).toBe(progress)
    expect(result).toEqual({ removed: 2, leftovers: ['accounts /accounts/1 (500)'] })
    expect(t.created).toEqual([])
  })

  it('removes in parallel up to the concurrency, logs in once for all, and empties the ledger', async () => {
    const paths = Array.from({ length: 10 }, (_, i) => `/accounts/${i}`)
    const t = topology(paths)
    let inFlight = 0
    let most = 0
    stub = await startStub(async (_req, res) => {
      most = Math.max(most, ++inFlight)
      await new Promise((r) => setTimeout(r, 20))
      inFlight--
      json(res, 204, {})
    })
    http = new HttpAdapter({ baseUrl: stub.url, maxRequests: 100, timeoutMs: 5000, retries: 0, concurrency: 4 })
    let logins = 0
    const result = await teardown(http, t, async () => (logins++, 'root'))
    expect(result).toEqual({ removed: 10, leftovers: [] })
    expect(logins).toBe(1)
    expect(stub.seen.map((r) => r.path).sort()).toEqual([...paths].sort())
    expect(most).toBeGreaterThan(1)
    expect(most).toBeLessThanOrEqual(4)
    expect(t.created).toEqual([])
  })

  it('sends its deletes after the run was interrupted', async () => {
    stub = await startStub((_req, res) => json(res, 204, {}))
    http = new HttpAdapter({ baseUrl: stub.url, maxRequests: 100, timeoutMs: 5000, retries: 0 })
    const interrupt = new AbortController()
    http.interruptWith(interrupt.signal)
    interrupt.abort()
    expect(await teardown(http, topology(['/accounts/1']), async () => 'root')).toEqual({ removed: 1, leftovers: [] })
    expect(stub.seen).toHaveLength(1)
  })
})
