import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../reference-server/server.js'
import { parseProfile } from '../core/profile.js'
import { isHarnessError } from '../core/errors.js'
import { sealChain, verifyChain, eventHash, type ChainSpec } from './chain.js'
import { describeEvents } from './describe.js'
import { mappedProblems } from './event.js'
import { decideFit } from './fit.js'
import { EventMapping } from './mapping.js'
import { THROWAWAY_COST } from '../../reference-server/auth/passwords.js'

const ACC = '11111111-1111-4111-8111-111111111111'
const USER = '33333333-3333-4333-8333-333333333333'

const mappingOf = (events: unknown) => EventMapping.of(parseProfile({ name: 't', baseUrl: 'http://127.0.0.1:1', audit: { events } }))

/** A deployment nobody here wrote: flat ids, `actor.type`, CADF-ish outcomes, epoch-ms time, its own chain recipe. */
const OTHER_SHAPE = {
  fields: {
    requestId: '/requestId', time: '/ts', action: 'event.name', outcome: '/result', actorKind: 'actor.type', actorId: '/actor/id',
    actorAccountId: null, accountId: '/tenantId', workspaceId: 'actor.space', status: 'to_number(http.code)', method: null, route: null,
    targetType: null, targetId: null, targetAccountId: '/resource/tenantId', targetWorkspaceId: null, userAgent: null,
    id: '/eventId', seq: '/chain/seq', prevHash: '/chain/prev', hash: '/chain/hash', count: null,
  },
  actorKinds: { user: ['member', 'USER'], principal: ['operator'], anonymous: ['unauthenticated'] },
  outcomes: { success: ['ok', 1], failure: ['denied', 'error', 2] },
  chain: { recipe: 'prev-plus-canonical', hashField: '/chain/hash', encoding: 'base64url' },
}
const otherSpec: ChainSpec = { recipe: 'prev-plus-canonical', hashField: '/chain/hash', encoding: 'base64url' }

/** Events in OTHER_SHAPE, chained as that deployment does: hash = sha256(prev + canonical(event without chain.hash)). */
function otherEvents(n = 4): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  let prev: string | null = null
  for (let i = 1; i <= n; i++) {
    const e: Record<string, unknown> = {
      eventId: `ev-${i}`, requestId: `req-${i}`, ts: Date.parse('2026-12-01T10:00:00Z') + i * 1000, tenantId: 'tenant-a',
      event: { name: i % 2 ? 'docs.write' : 'docs.remove' }, result: i === 3 ? 'denied' : 'ok',
      actor: { type: i === 4 ? 'operator' : 'member', id: `user-${i}`, space: 'space-1' },
      http: { code: i === 3 ? '403' : '200' }, resource: { tenantId: i === 3 ? 'tenant-b' : 'tenant-a' },
      chain: { seq: i, prev },
    }
    ;(e.chain as Record<string, unknown>).hash = eventHash(e, otherSpec, prev)
    prev = (e.chain as Record<string, unknown>).hash as string
    out.push(e)
  }
  return out
}

describe('EventMapping', () => {
  it('reads JSON Pointer and JMESPath fields, and the spellings of outcome and actor kind', () => {
    const m = mappingOf(OTHER_SHAPE)
    expect(m.paths.requestId?.kind).toBe('pointer')
    expect(m.paths.action?.kind).toBe('jmespath')
    const [first, , third, fourth] = otherEvents().map((e) => m.map(e))
    expect(first).toMatchObject({
      id: 'ev-1', requestId: 'req-1', accountId: 'tenant-a', workspaceId: 'space-1', action: 'docs.write', outcome: 'success', status: 200,
      actor: { kind: 'user', id: 'user-1' }, targetAccountId: 'tenant-a', seq: 1, prevHash: null, time: Date.parse('2026-12-01T10:00:01Z'),
    })
    expect(third).toMatchObject({ outcome: 'failure', status: 403, targetAccountId: 'tenant-b' })
    expect(fourth!.actor.kind).toBe('principal')
    // Numbers are spellings too (OCSF status_id 1 / 2), compared as text.
    expect(m.outcome(2)).toBe('failure')
    expect(m.outcome('2')).toBe('failure')
    expect(m.actorKind('USER')).toBe('user')
    expect(m.actorKind('robot')).toBeUndefined()
    // A field the deployment does not carry is left out, and its comparisons with it.
    expect(m.carries('route')).toBe(false)
    expect(mappedProblems(first!, m)).toEqual([])
  })

  it('a syntax error in an expression is one line naming the profile key', () => {
    try {
      mappingOf({ fields: { actorKind: 'actor.[type' } })
      expect.unreachable()
    } catch (err) {
      expect(isHarnessError(err) && err.code).toBe('ERR_PROFILE_INVALID')
      expect((err as Error).message).toMatch(/^profile: audit\.events\.fields\.actorKind: invalid JMESPath "actor\.\[type"/)
      expect((err as Error).message).not.toContain('\n')
    }
  })

  it('a prev-plus-canonical chain in another shape verifies, and tampering is detected', () => {
    const m = mappingOf(OTHER_SHAPE)
    const events = otherEvents()
    expect(verifyChain(events.map((e) => m.map(e)), { spec: m.chain! }).problems).toEqual([])
    expect(decideFit(m, events)).toMatchObject({ fits: true, chain: { verified: 4, checked: 4 } })
    // Change one event after it was written: its hash no longer matches; re-hash it and the next link breaks
    // (the next event's own hash covers the previous hash as it was served, so only the link is wrong).
    const edited = otherEvents()
    ;(edited[1]!.actor as Record<string, unknown>).id = 'someone-else'
    expect(verifyChain(edited.map((e) => m.map(e)), { spec: m.chain! }).problems.map((p) => [p.kind, p.seq])).toEqual([['hash', 2]])
    const chain = edited[1]!.chain as Record<string, unknown>
    chain.hash = eventHash(edited[1], otherSpec, chain.prev)
    expect(verifyChain(edited.map((e) => m.map(e)), { spec: m.chain! }).problems.map((p) => [p.kind, p.seq])).toEqual([['prev-hash', 3]])
    // A deleted event is a gap.
    const gap = otherEvents().filter((_, i) => i !== 2)
    expect(verifyChain(gap.map((e) => m.map(e)), { spec: m.chain! }).problems.map((p) => p.kind)).toContain('gap')
  })

  it('rfc8785 is still what the reference hashes: its tests keep passing, and the two recipes differ', () => {
    const rfc = sealChain([{ action: 'a.b' }, { action: 'a.c' }], ACC)
    const prev = sealChain([{ action: 'a.b' }, { action: 'a.c' }], ACC, { recipe: 'prev-plus-canonical', hashField: '/hash', encoding: 'hex' })
    expect(rfc[0]!.hash).toBe(prev[0]!.hash) // no previous hash: the same bytes are hashed
    expect(rfc[1]!.hash).not.toBe(prev[1]!.hash)
    expect(verifyChain(prev, { spec: { recipe: 'prev-plus-canonical', hashField: '/hash', encoding: 'hex' } }).ok).toBe(true)
    expect(verifyChain(prev).problems.map((p) => p.kind)).toEqual(['hash'])
  })
})

describe('decideFit', () => {
  it('the reference mapping on another deployment\'s events does not fit, and says why', () => {
    const fit = decideFit(EventMapping.reference(), otherEvents(5))
    expect(fit.fits).toBe(false)
    expect(!fit.fits && fit.reason).toBe(
      "the profile's audit.events mapping does not fit this deployment's events: `/metadata/correlationUid` is absent in 5 of 5 events read; see tenant-audit inspect")
  })

  it('spellings the profile does not list do not fit', () => {
    const fit = decideFit(mappingOf({ ...OTHER_SHAPE, outcomes: { success: ['success'], failure: ['failure'] } }), otherEvents())
    expect(!fit.fits && fit.reason).toMatch(/`\/result` reads "ok", "denied" in 4 of 4 events read, none a spelling the profile lists \(audit\.events\.outcomes\)/)
  })

  it('a hash that verifies under another recipe than the profile says does not fit, and names it', () => {
    const fit = decideFit(mappingOf({ ...OTHER_SHAPE, chain: { ...OTHER_SHAPE.chain, recipe: 'rfc8785' } }), otherEvents())
    expect(!fit.fits && fit.reason).toMatch(/1 of 4 hashes of the events read verify under the profile's chain recipe rfc8785 \(base64url\), 4 under prev-plus-canonical \(base64url\)/)
  })

  it('a hash under no known recipe: skip for another shape, a finding (fits) for the reference shape', () => {
    const odd = otherEvents().map((e) => ({ ...e, chain: { ...(e.chain as object), hash: 'A'.repeat(43) } }))
    const fit = decideFit(mappingOf(OTHER_SHAPE), odd)
    expect(!fit.fits && fit.reason).toMatch(/or any other recipe the harness knows/)
    const reference = sealChain([{ metadata: { correlationUid: 'r1' }, time: '2026-12-01T10:00:00Z', action: 'a.b', outcome: 'success', actor: { kind: 'user', uid: USER } }], ACC)
    reference[0]!.hash = 'f'.repeat(64)
    expect(decideFit(EventMapping.reference(), reference).fits).toBe(true)
    expect(decideFit(mappingOf({ chain: { unverifiable: 'skip' } }), reference).fits).toBe(false)
  })

  it('recipe none fits without hashes; a field absent from only some events is left to the checks', () => {
    const events: Record<string, unknown>[] = otherEvents().map((e) => ({ ...e, chain: undefined }))
    expect(decideFit(mappingOf({ ...OTHER_SHAPE, chain: { recipe: 'none' } }), events).fits).toBe(true)
    events[0]!.requestId = undefined
    expect(decideFit(mappingOf({ ...OTHER_SHAPE, chain: { recipe: 'none' } }), events).fits).toBe(true)
    expect(decideFit(mappingOf(OTHER_SHAPE), events)).toMatchObject({ fits: false })
    expect(decideFit(mappingOf(OTHER_SHAPE), []).fits).toBe(true)
  })
})

describe('the reference default on real reference events', () => {
  let server: RunningServer
  const bootstrap = { email: 'root@mapping.test', password: 'mapping-test-password-1' }
  beforeAll(async () => {
    server = await startServer({ bootstrap, settings: { passwordCost: THROWAWAY_COST } })
  }, 120_000)
  afterAll(async () => {
    await server?.close()
  })

  it('maps them, fits, verifies, and describes one without secrets', async () => {
    const call = async (method: string, path: string, body: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(server.url + path, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) })
      return { status: res.status, json: (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined }
    }
    const login = await call('POST', '/auth/token', { grant_type: 'password', username: bootstrap.email, password: bootstrap.password })
    const token = login.json?.access_token as string
    const auth = { authorization: `Bearer ${token}` }
    const made = await call('POST', '/portal/v1/accounts', { name: 'mapping-test' }, { ...auth, 'x-request-id': 'ta-mapping-1' })
    expect(made.status).toBe(201)
    await call('POST', '/auth/token', { grant_type: 'password', username: bootstrap.email, password: 'wrong-password-canary' }, { 'x-request-id': 'ta-mapping-2' })
    const page = await call('GET', '/portal/v1/audit-events?limit=200', undefined, auth)
    const items = page.json?.items as unknown[]
    expect(items.length).toBeGreaterThan(0)

    const m = EventMapping.reference()
    expect(m.referenceShape).toBe(true)
    const mapped = items.map((e) => m.map(e))
    const create = mapped.find((e) => e.requestId === 'ta-mapping-1')
    expect(create).toMatchObject({ action: 'accounts.create', outcome: 'success', status: 201, actor: { kind: 'principal' }, method: 'POST' })
    expect(mapped.find((e) => e.requestId === 'ta-mapping-2')).toMatchObject({ outcome: 'failure', accountId: null, actor: { kind: 'anonymous' } })
    expect(decideFit(m, items)).toMatchObject({ fits: true, chain: { recipe: 'rfc8785 (hex)', checked: items.length, verified: items.length } })
    expect(verifyChain(mapped, { complete: false, spec: m.chain! }).problems).toEqual([])
    for (const e of mapped) expect(mappedProblems(e, m), JSON.stringify(e.raw)).toEqual([])

    const lines = describeEvents(m, items, 'GET /portal/v1/audit-events as the bootstrap principal')
    const text = lines.join('\n')
    expect(text).toMatch(/^audit events: \d+ read through GET \/portal\/v1\/audit-events/)
    expect(text).toMatch(/requestId +\/metadata\/correlationUid +→ +"/)
    expect(text).toContain('fit: the mapping fits')
    expect(text).toMatch(/chain: rfc8785 \(hex\): (\d+) of \1 hashes verify; consecutive events link/)
    for (const secret of [token, bootstrap.password, 'wrong-password-canary']) expect(text).not.toContain(secret)
    // Another shape's mapping on these events: the description says why it does not fit.
    expect(describeEvents(mappingOf(OTHER_SHAPE), items, 'x').join('\n')).toMatch(/fit: the profile's audit\.events mapping does not fit .*`\/requestId` is absent/)
  }, 60_000)
})
