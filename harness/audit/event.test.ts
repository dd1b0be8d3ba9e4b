import { describe, expect, it } from 'vitest'
import { sealChain } from './chain.js'
import { expectationProblems, mappedProblems, shapeProblems, type AuditEvent } from './event.js'
import { EventMapping } from './mapping.js'

const reference = EventMapping.reference()

const ACC = '11111111-1111-4111-8111-111111111111'
const WS = '22222222-2222-4222-8222-222222222222'
const USER = '33333333-3333-4333-8333-333333333333'
const DOC = '44444444-4444-4444-8444-444444444444'

function event(over: Record<string, unknown> = {}): AuditEvent {
  const [e] = sealChain([{
    id: '55555555-5555-4555-8555-555555555555',
    time: '2026-11-28T09:00:00.123Z',
    classUid: 6003,
    activity: 'update',
    action: 'documents.update',
    metadata: { tenantUid: ACC, correlationUid: 'ta-abc-1', version: '1' },
    actor: { kind: 'user', uid: USER, accountId: ACC, workspaceId: WS, roles: ['workspace:editor'] },
    target: { type: 'documents', uid: DOC, accountId: ACC, workspaceId: WS },
    http: { method: 'PATCH', route: '/app/v1/workspaces/{workspaceId}/documents/{documentId}', status: 200 },
    outcome: 'success',
    reason: null,
    src: { ip: '127.0.0.1', userAgent: 'tenant-audit/1' },
    count: 1,
    ...over,
  }], ACC)
  return e as AuditEvent
}

describe('shapeProblems', () => {
  it('a contract-shaped event has none', () => {
    expect(shapeProblems(event())).toEqual([])
    expect(reference.map(event()).requestId).toBe('ta-abc-1')
    expect(mappedProblems(reference.map(event()), reference)).toEqual([])
  })

  it('an anonymous actor needs no uid', () => {
    expect(shapeProblems(event({ actor: { kind: 'anonymous' }, outcome: 'failure', http: { method: 'GET', route: '/app/v1/x', status: 401 } }))).toEqual([])
  })

  it('finds a verified actor without uid, a raw URL as route, a bad ip and an outcome that contradicts the status', () => {
    const p = shapeProblems(event({
      actor: { kind: 'user', accountId: ACC, workspaceId: WS, roles: [] },
      http: { method: 'PATCH', route: `/app/v1/workspaces/${WS}/documents/${DOC}`, status: 404 },
      src: { ip: 'localhost', userAgent: 'x' },
    }))
    expect(p.join('\n')).toMatch(/actor\.uid is missing/)
    expect(p.join('\n')).toMatch(/raw URL/)
    expect(p.join('\n')).toMatch(/src\.ip/)
    expect(p.join('\n')).toMatch(/outcome success does not match http.status 404/)
  })

  it('finds missing fields', () => {
    const { metadata: _m, src: _s, count: _c, ...rest } = event()
    expect(shapeProblems(rest)).toEqual(expect.arrayContaining(['metadata is missing', 'src is missing', 'count is not a positive integer']))
    expect(shapeProblems('nope')).toEqual(['the event is not a JSON object'])
  })
})

describe('expectationProblems', () => {
  const request = { from: Date.parse('2026-11-28T09:00:00.000Z'), to: Date.parse('2026-11-28T09:00:00.200Z') }

  it('an event that says what the request did has none', () => {
    expect(expectationProblems(reference.map(event()), {
      requestId: 'ta-abc-1', accountId: ACC, action: 'documents.update', method: 'patch', status: 200, outcome: 'success',
      route: '/app/v1/workspaces/{workspaceId}/documents/{documentId}',
      actor: { kind: 'user', uid: USER, accountId: ACC }, target: { type: 'documents', uid: DOC, accountId: ACC, workspaceId: WS },
      userAgent: 'tenant-audit/1', window: request, toleranceMs: 5_000,
    }, reference)).toEqual([])
  })

  it('names each difference', () => {
    const p = expectationProblems(reference.map(event({ time: '2026-11-28T10:00:00.000Z' })), { actor: { kind: 'user', uid: DOC }, status: 404, window: request, toleranceMs: 5_000 }, reference)
    expect(p).toHaveLength(3)
    expect(p.join('\n')).toMatch(/`\/actor\/uid`/)
    expect(p.join('\n')).toMatch(/`\/http\/status` is 200, expected 404/)
    expect(p.join('\n')).toMatch(/not within 5 s/)
  })
})
