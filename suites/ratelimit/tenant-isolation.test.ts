import { describe, expect, it } from 'vitest'
import type { HttpRequest, HttpResponse } from '../../harness/adapters/http.js'
import type { Actor, Topology } from '../../harness/core/topology.js'
import { scriptedContext, workspaceReadContract as contract } from './scripted-endpoint.test-helper.js'
import { tenantIsolation } from './tenant-isolation.check.js'

const LIMIT = 5
const user = (a: number): Actor => ({
  label: `a${a}.w0.viewer`, kind: 'user', actorKind: 'viewer', id: `u${a}`, accountId: `acc${a}`, workspaceId: `ws${a}`, role: 'viewer', accountRole: null, token: `token-${a}`,
})
const topology: Topology = {
  seed: 1, tag: 'abc123', objects: [], created: [], params: { account: 'accountId', workspace: 'workspaceId' },
  accounts: [0, 1].map((a) => ({ label: `a${a}`, id: `acc${a}`, workspaces: [{ label: `a${a}.w0`, id: `ws${a}`, accountId: `acc${a}` }] })),
  actors: [user(0), user(1)],
}

/**
 * A deployment with fixed windows of LIMIT requests, keyed by tenant (`shared: false`) or by the one
 * client address (`shared: true`, the fault), whose windows all turn over right after its first 429:
 * the moment a loaded machine's clock crosses a 1-s window between A's 429 and B's next call.
 */
function target(shared: boolean) {
  const count = new Map<string, number>()
  let turned = false
  const http = {
    sent: 0,
    async send(req: HttpRequest): Promise<HttpResponse> {
      http.sent++
      const key = shared ? 'ip' : String(req.token)
      const n = (count.get(key) ?? 0) + 1
      count.set(key, n)
      const limited = n > LIMIT
      if (limited && !turned) {
        turned = true
        count.clear()
      }
      const headers: Record<string, string> = { ratelimit: `"q";r=${Math.max(0, LIMIT - n)};t=1`, ...(limited ? { 'retry-after': '0' } : {}) }
      return { status: limited ? 429 : 200, headers, body: '[]', json: [], evidence: { request: { method: 'GET', url: req.path, headers: {} }, response: { status: limited ? 429 : 200, headers: {} } } }
    },
  }
  const ctx = scriptedContext(tenantIsolation, http, { topology, contract, profile: { rateLimit: { quotaField: 'noSuchField', knownQuota: { requests: LIMIT, windowSeconds: 1 } } } })
  return { ctx, http }
}

describe('ratelimit/tenant-isolation', () => {
  it('a shared bucket is found even when the window turns over between the flood and the neighbour’s call', async () => {
    const { ctx } = target(true)
    const out = await tenantIsolation.run(ctx)
    expect(out.skipped).toBeUndefined()
    expect(out.findings.map((f) => f.message)).toEqual([expect.stringMatching(/next call was throttled \(429\): the accounts share a bucket/)])
  })

  it('separate buckets pass, judged on a probe in which no window turned over', async () => {
    const { ctx, http } = target(false)
    const out = await tenantIsolation.run(ctx)
    expect(out.skipped).toBeUndefined()
    expect(out.findings).toEqual([])
    expect(out.notes ?? []).toEqual([])
    // Two probes: the first (windows turned over) proved nothing. Each: B's call, A's flood (one wave of 4 quotas), B's call.
    expect(http.sent).toBe(2 * (1 + 4 * LIMIT + 1))
  })
})
