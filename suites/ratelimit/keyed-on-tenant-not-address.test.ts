import { afterEach, describe, expect, it, vi } from 'vitest'
import type { HttpRequest, HttpResponse } from '../../harness/adapters/http.js'
import type { Actor, Topology } from '../../harness/core/topology.js'
import { keyedOnTenantNotAddress } from './keyed-on-tenant-not-address.check.js'
import { scriptedContext, workspaceReadContract as contract } from './scripted-endpoint.test-helper.js'

const LIMIT = 5
const user: Actor = { label: 'a0.w0.viewer', kind: 'user', actorKind: 'viewer', id: 'u0', accountId: 'acc0', workspaceId: 'ws0', role: 'viewer', accountRole: null, token: 'token-0' }
const topology: Topology = {
  seed: 1, tag: 'abc123', objects: [], created: [], params: { account: 'accountId', workspace: 'workspaceId' },
  accounts: [{ label: 'a0', id: 'acc0', workspaces: [{ label: 'a0.w0', id: 'ws0', accountId: 'acc0' }] }],
  actors: [user],
}

/**
 * A deployment whose token bucket (LIMIT requests, refilled at LIMIT a second) is keyed on the
 * tenant (`byAddress: false`) or on the client-supplied address (the fault). `serial`: it serves one
 * request at a time, each taking `answerMs` on the clock the check reads (faked), so even requests
 * sent together reach the limiter `answerMs` apart. Otherwise it is `answerMs` away (real time): the
 * limiter meets each request when it is sent, and the answer comes `answerMs` later.
 */
function target(byAddress: boolean, answerMs: number, serial = true) {
  const buckets = new Map<string, { tokens: number; at: number }>()
  const http = {
    async send(req: HttpRequest): Promise<HttpResponse> {
      if (serial) vi.setSystemTime(Date.now() + answerMs)
      const key = byAddress ? String(req.headers?.['x-forwarded-for']) : String(req.token)
      const b = buckets.get(key) ?? { tokens: LIMIT, at: Date.now() }
      b.tokens = Math.min(LIMIT, b.tokens + ((Date.now() - b.at) / 1000) * LIMIT)
      b.at = Date.now()
      const limited = b.tokens < 1
      if (!limited) b.tokens -= 1
      buckets.set(key, b)
      const status = limited ? 429 : 200
      if (!serial) await new Promise((r) => setTimeout(r, answerMs))
      return { status, headers: limited ? { 'retry-after': '0' } : {}, body: '[]', json: [], evidence: { request: { method: 'GET', url: req.path, headers: {} }, response: { status, headers: {} } } }
    },
  }
  return scriptedContext(keyedOnTenantNotAddress, http, { topology, contract, profile: { rateLimit: { quotaField: 'noSuchField', knownQuota: { requests: LIMIT, windowSeconds: 1 } } } })
}

describe('ratelimit/keyed-on-tenant-not-address', () => {
  // Only Date: the check's wait for the known quota's window (restore) is a real, short timer.
  afterEach(() => void vi.useRealTimers())

  it('a deployment 250 ms away, slower than its refill, is judged all the same: the flood is sent in bursts', async () => {
    // One at a time, 20 requests 250 ms apart would refill the bucket faster than they spend it.
    expect(await keyedOnTenantNotAddress.run(target(false, 250, false))).toEqual({ findings: [] })
    const found = await keyedOnTenantNotAddress.run(target(true, 250, false))
    expect(found.findings.map((f) => f.message)).toEqual([expect.stringMatching(/none was limited .* the bucket follows a client-supplied address/)])
  })

  it('a deployment serving one request at a time, slower than its refill, admits every request: not judged, never a finding', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const out = await keyedOnTenantNotAddress.run(target(false, 250))
    expect(out.findings).toEqual([])
    expect(out.skipped).toMatch(/never outran a quota of 5 per 1 s \(the target answered too slowly to spend it\)/)
  })

  it('a bucket keyed on the spoofed address is found', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const out = await keyedOnTenantNotAddress.run(target(true, 10))
    expect(out.findings.map((f) => f.message)).toEqual([expect.stringMatching(/none was limited .* the bucket follows a client-supplied address/)])
  })

  it('a bucket keyed on the tenant passes', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const out = await keyedOnTenantNotAddress.run(target(false, 10))
    expect(out).toEqual({ findings: [] })
  })
})
