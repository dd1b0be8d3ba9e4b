import { describe, expect, it } from 'vitest'
import type { HttpAdapter, HttpRequest, HttpResponse } from '../adapters/http.js'
import { parseContract } from '../core/contract.js'
import { parseProfile } from '../core/profile.js'
import type { Topology } from '../core/topology.js'
import { CheckContext } from '../engine/context.js'
import { sealChain } from './chain.js'
import { auditOps, AuditTrail } from './trail.js'

const ACC = '11111111-1111-4111-8111-111111111111'

const op = (action: string, scope: string, context: string, allow: string[]) => ({
  get: { operationId: action.replace('.', '_') + scope, 'x-tenancy': { action, scope, context, allow }, parameters: [{ in: 'query', name: 'requestId' }] },
})
const contract = parseContract({
  openapi: '3.1.0',
  paths: {
    '/p/audit': op('audit.list', 'platform', 'portal', ['platform_admin']),
    '/d/accounts/{accountId}/audit': op('audit.list', 'account', 'dashboard', ['account_admin']),
    '/d/workspaces/{workspaceId}': op('workspaces.read', 'workspace', 'dashboard', ['admin']),
  },
})

const topology: Topology = {
  seed: 1, tag: 'abc123', accounts: [{ label: 'a0', id: ACC, workspaces: [] }], objects: [], created: [],
  params: { account: 'accountId', workspace: 'workspaceId' },
  actors: [{ label: 'p.platform_admin', kind: 'principal', actorKind: 'platform_admin', platformRole: 'platform_admin', token: 'tok' }],
}

/** A target whose Portal audit route serves `events()` two per page, filtered by requestId. */
function fakeTarget(events: () => Record<string, unknown>[]) {
  const calls: HttpRequest[] = []
  const answer = (status: number, json: unknown): HttpResponse => ({
    status, headers: {}, body: JSON.stringify(json), json,
    evidence: { request: { method: 'GET', url: '', headers: {} }, response: { status, headers: {} } },
  })
  const http = {
    sent: 0,
    async send(req: HttpRequest): Promise<HttpResponse> {
      http.sent++
      calls.push(req)
      if (req.path !== '/p/audit') return answer(404, {})
      const q = (req.query ?? {}) as Record<string, string>
      const all = events().filter((e) => !q.requestId || (e.metadata as { correlationUid: string }).correlationUid === q.requestId)
      const from = Number(q.cursor ?? 0)
      return answer(200, { items: all.slice(from, from + 2), nextCursor: from + 2 < all.length ? String(from + 2) : null })
    },
  }
  const profile = parseProfile({ name: 'fake', baseUrl: 'http://127.0.0.1:1', audit: { eventsWithinMs: 2_000 } })
  const ctx = new CheckContext('audit/unit', topology, contract, profile, http as unknown as HttpAdapter, { seed: 1, numRuns: 1 })
  return { ctx, calls }
}

const event = (n: number, requestId: string) => ({
  id: `e${n}`, time: new Date().toISOString(), action: 'documents.update', outcome: 'success', actor: { kind: 'user' }, metadata: { correlationUid: requestId },
})

describe('AuditTrail', () => {
  it('finds the read operations by x-tenancy, and is absent without them', () => {
    const ops = auditOps(contract)
    expect([ops.portal?.path, ops.account?.path, ops.workspace]).toEqual(['/p/audit', '/d/accounts/{accountId}/audit', undefined])
    const none = parseContract({ openapi: '3.1.0', paths: { '/x': op('documents.list', 'workspace', 'app', ['viewer']) } })
    expect(auditOps(none).all).toEqual([])
  })

  it('exports every page by following nextCursor, as the Portal reader', async () => {
    const events = sealChain([1, 2, 3, 4, 5].map((n) => event(n, `r${n}`)), ACC)
    const { ctx, calls } = fakeTarget(() => events)
    const trail = (await AuditTrail.open(ctx)) as AuditTrail
    const r = await trail.export()
    expect(r.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5])
    // The first read is the mapping's fit test (once per run), then the export's three pages.
    expect(calls.map((c) => c.query?.cursor)).toEqual([undefined, undefined, '2', '4'])
    expect(calls.every((c) => c.token === 'tok' && c.query?.limit === '200')).toBe(true)
  })

  it('request ids are fresh, tagged with the run and safe for a request-id header', async () => {
    const { ctx } = fakeTarget(() => [])
    const trail = (await AuditTrail.open(ctx)) as AuditTrail
    const [a, b] = [trail.requestId(), trail.requestId()]
    expect(a).not.toBe(b)
    expect(a).toMatch(/^ta-abc123-unit-1-[0-9a-f]{6}$/)
  })

  it('polls until a late event appears, and reports the ones that never do', async () => {
    const late: Record<string, unknown>[] = []
    const { ctx } = fakeTarget(() => late)
    const trail = (await AuditTrail.open(ctx)) as AuditTrail
    const now = Date.now()
    const sent = ['late', 'never'].map((requestId) => ({ requestId, userAgent: '', method: 'GET', path: '/', from: now, to: now, response: {} as HttpResponse }))
    setTimeout(() => late.push(event(1, 'late')), 100)
    const seen = await trail.await(sent)
    expect(seen.events.get('late')).toHaveLength(1)
    expect(seen.delay.get('late')).toBeGreaterThan(0)
    // A lookup missed it first: the event was not there yet at that lookup's start.
    expect(seen.missed.get('late')).toBeGreaterThanOrEqual(0)
    expect(seen.missed.get('late')!).toBeLessThanOrEqual(seen.delay.get('late')!)
    expect(seen.missing).toEqual(['never'])
    expect(seen.events.get('never')).toEqual([])
  })

  it('an event already there when polling begins late is not late: only a lookup that missed it shows lateness', async () => {
    const { ctx } = fakeTarget(() => [event(1, 'early')])
    const trail = (await AuditTrail.open(ctx)) as AuditTrail
    const longAgo = Date.now() - 10_000 // the check sent other requests for 10 s before it polled
    const seen = await trail.await([{ requestId: 'early', userAgent: '', method: 'GET', path: '/', from: longAgo, to: longAgo, response: {} as HttpResponse }])
    expect(seen.delay.get('early')).toBeGreaterThanOrEqual(10_000)
    expect(seen.missed.has('early')).toBe(false)
  })

  it("a throttled attempt's event (429, resent by the adapter with the same request id) is not the request's", async () => {
    const events = [
      { ...event(1, 'resent'), outcome: 'failure', http: { status: 429 } },
      { ...event(2, 'resent'), http: { status: 200 } },
      { ...event(3, 'limited'), outcome: 'failure', http: { status: 429 } },
    ]
    const { ctx } = fakeTarget(() => events)
    const trail = (await AuditTrail.open(ctx)) as AuditTrail
    const now = Date.now()
    const sent = [['resent', 200], ['limited', 429]].map(([requestId, status]) => ({ requestId: String(requestId), userAgent: '', method: 'GET', path: '/', from: now, to: now, response: { status } as HttpResponse }))
    const seen = await trail.await(sent)
    expect(seen.events.get('resent')!.map((e) => e.id)).toEqual(['e2'])
    expect(seen.events.get('limited')!.map((e) => e.id)).toEqual(['e3'])
  })

  it("a 401's event is not the request's when the adapter renewed the token and resent it; otherwise it is", async () => {
    const events = [
      { ...event(1, 'renewed'), outcome: 'failure', http: { status: 401 } },
      { ...event(2, 'renewed'), outcome: 'failure', http: { status: 404 } },
      { ...event(3, 'sent-once'), outcome: 'failure', http: { status: 401 } },
      { ...event(4, 'sent-once'), outcome: 'failure', http: { status: 404 } },
    ]
    const { ctx } = fakeTarget(() => events)
    const trail = (await AuditTrail.open(ctx)) as AuditTrail
    const now = Date.now()
    const sent = (requestId: string, response: Partial<HttpResponse>) => ({ requestId, userAgent: '', method: 'GET', path: '/', from: now, to: now, response: response as HttpResponse })
    const seen = await trail.await([sent('renewed', { status: 404, superseded: [401] }), sent('sent-once', { status: 404 })])
    expect(seen.events.get('renewed')!.map((e) => e.id)).toEqual(['e2'])
    // Sent once: two events for it are the target's, and the check may say so.
    expect(seen.events.get('sent-once')!.map((e) => e.id)).toEqual(['e3', 'e4'])
  })

  it('a refused read is returned as a failure, never thrown', async () => {
    const { ctx } = fakeTarget(() => [])
    const trail = (await AuditTrail.open(ctx)) as AuditTrail
    const r = await trail.exportVia({ actor: topology.actors[0]!, op: trail.ops.account!, target: { accountId: ACC } })
    expect(r.failure?.response.status).toBe(404)
    expect(trail.readFailure(r.failure!).message).toMatch(/answered 404 to p\.platform_admin/)
  })
})
