import { randomUUID } from 'node:crypto'
import { connect, type AddressInfo } from 'node:net'
import express from 'express'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { availableDrivers, createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { createTestServer, type TestServer } from '../testing/server.js'
import { PASSWORD, seedTopology, type Topology } from '../testing/topology.js'
import { createApp } from '../app.js'
import { buildDeps } from '../server.js'
import { verifyEvents } from './chain.js'
import { recordThrottled, recorderFor } from './recorder.js'
import { clean, type AuditEvent } from './event.js'
import { THROWAWAY_COST } from '../auth/passwords.js'
import type { Database, Tx } from '../store/db.js'

/**
 * The audit trail through the HTTP API, on both drivers: which calls leave which event, in which trail,
 * with the contract's fields; the chain verifies; the read API is isolated, filtered and paginated;
 * secrets and control characters never reach an event; a change and its event commit together.
 */

type Res = request.Response
const ACCOUNT_AUDIT = (id: string) => `/dashboard/v1/accounts/${id}/audit-events`
const WORKSPACE_AUDIT = (id: string) => `/dashboard/v1/workspaces/${id}/audit-events`
const PORTAL_AUDIT = '/portal/v1/audit-events'

/** Every page of an audit list route, following nextCursor. */
async function exportAll(s: TestServer, path: string, token: string, query = ''): Promise<AuditEvent[]> {
  const out: AuditEvent[] = []
  let cursor: string | null = null
  for (let page = 0; page < 1000; page++) {
    const sep = path.includes('?') || query ? '&' : '?'
    const res: Res = await s.call('GET', `${path}${query ? `?${query}` : ''}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`, token)
    expect(res.status, res.text).toBe(200)
    out.push(...(res.body.items as AuditEvent[]))
    cursor = res.body.nextCursor as string | null
    if (!cursor) return out
  }
  throw new Error('too many pages')
}

const rid = (res: Res | { headers: Record<string, unknown> }) => String(res.headers['x-request-id'])

/** One request written byte for byte on a socket (header bytes no HTTP client library would send). */
async function rawRequest(s: TestServer, method: string, path: string, token: string, userAgent: Buffer): Promise<{ status: number; headers: Record<string, unknown> }> {
  const server = s.app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const { port } = server.address() as AddressInfo
  try {
    const socket = connect(port, '127.0.0.1')
    const head = Buffer.concat([
      Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\nUser-Agent: `, 'latin1'),
      userAgent, Buffer.from('\r\n\r\n', 'latin1')])
    socket.write(head)
    const chunks: Buffer[] = []
    for await (const c of socket) chunks.push(c as Buffer)
    const text = Buffer.concat(chunks).toString('latin1')
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1])
    const requestId = /\r\nx-request-id: ([^\r]+)/i.exec(text)?.[1]
    return { status, headers: { 'x-request-id': requestId } }
  } finally {
    server.close()
  }
}

describe.each(await availableDrivers())('audit trail (%s)', (driver) => {
  let tdb: TestDatabase
  let s: TestServer
  let t: Topology
  let root: string
  const A = () => t.accounts[0]
  const B = () => t.accounts[1]
  const home = () => A().workspaces[0]
  const sibling = () => A().workspaces[1]
  const foreign = () => B().workspaces[0]

  /** The events of one request, from the Portal's view of every trail. */
  async function eventsOf(res: Res | { headers: Record<string, unknown> }): Promise<AuditEvent[]> {
    const r = await s.call('GET', `${PORTAL_AUDIT}?requestId=${rid(res)}`, root)
    expect(r.status, r.text).toBe(200)
    return r.body.items as AuditEvent[]
  }

  beforeAll(async () => {
    tdb = await createTestDatabase(driver)
    s = await createTestServer(tdb.db)
    t = await seedTopology(s)
    root = await s.rootToken()
  })
  afterAll(async () => tdb?.drop())

  it('records an allowed write with every field of the contract, in the caller\'s trail', async () => {
    const ws = home()
    const res = await s.call('PATCH', `/app/v1/workspaces/${ws.id}/documents/${ws.documentId}`, ws.users.editor.token, { title: 'edited' })
    expect(res.status).toBe(200)
    const [e, ...more] = await eventsOf(res)
    expect(more).toEqual([])
    expect(e).toMatchObject({
      accountId: ws.accountId,
      classUid: 6003,
      activity: 'update',
      action: 'documents.update',
      metadata: { tenantUid: ws.accountId, correlationUid: rid(res), version: '1' },
      actor: { kind: 'user', uid: ws.users.editor.id, accountId: ws.accountId, workspaceId: ws.id, roles: ['workspace:editor'] },
      target: { type: 'documents', uid: ws.documentId, accountId: ws.accountId, workspaceId: ws.id },
      http: { method: 'PATCH', route: '/app/v1/workspaces/{workspaceId}/documents/{documentId}', status: 200 },
      outcome: 'success',
      reason: null,
      count: 1,
    })
    expect(e!.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(e!.seq).toBeGreaterThan(1)
    expect(e!.prevHash).toMatch(/^[0-9a-f]{64}$/)
    expect(e!.hash).toMatch(/^[0-9a-f]{64}$/)
    expect(new Date(e!.time).toISOString()).toBe(e!.time)
    expect(e!.src.ip).not.toBe('')
    expect(Object.keys(e!)).toEqual(['id', 'accountId', 'seq', 'prevHash', 'hash', 'time', 'classUid', 'activity', 'action', 'metadata', 'actor', 'target', 'http', 'outcome', 'reason', 'src', 'count'])
  })

  it('records a create with the new object as target, and no successful user read', async () => {
    const ws = home()
    const created = await s.call('POST', `/app/v1/workspaces/${ws.id}/documents`, ws.users.editor.token, { title: 't', body: 'b' })
    expect(created.status).toBe(201)
    expect((await eventsOf(created))[0]).toMatchObject({ activity: 'create', target: { type: 'documents', uid: created.body.id }, http: { status: 201 } })
    const read = await s.call('GET', `/app/v1/workspaces/${ws.id}/documents/${created.body.id}`, ws.users.viewer.token)
    expect(read.status).toBe(200)
    expect(await eventsOf(read)).toEqual([])
    const list = await s.call('GET', `/app/v1/workspaces/${ws.id}/documents`, ws.users.viewer.token)
    expect(await eventsOf(list)).toEqual([])
  })

  it('records a cross-tenant attempt in the caller\'s trail, naming the tenant the path named', async () => {
    const ws = home()
    const res = await s.call('PATCH', `/app/v1/workspaces/${foreign().id}/documents/${foreign().documentId}`, ws.users.editor.token, { title: 'x' })
    expect(res.status).toBe(404)
    const events = await eventsOf(res)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      accountId: ws.accountId, outcome: 'failure', reason: 'not-found', action: 'documents.update',
      actor: { kind: 'user', uid: ws.users.editor.id, accountId: ws.accountId },
      target: { type: 'documents', uid: foreign().documentId, workspaceId: foreign().id, accountId: null },
      http: { status: 404 },
    })
    // Never in the victim's trail.
    const victim = await exportAll(s, ACCOUNT_AUDIT(B().id), B().workspaces[0].users.account_admin.token)
    expect(victim.filter((e) => e.metadata.correlationUid === rid(res))).toEqual([])
  })

  it('records a 403 (role too low) with the verified roles, and a sibling workspace with its account', async () => {
    const ws = home()
    const low = await s.call('POST', `/app/v1/workspaces/${ws.id}/documents`, ws.users.viewer.token, { title: 't', body: 'b' })
    expect(low.status).toBe(403)
    expect((await eventsOf(low))[0]).toMatchObject({ outcome: 'failure', reason: 'forbidden', actor: { roles: ['workspace:viewer'] }, http: { status: 403 } })
    const sib = await s.call('GET', `/dashboard/v1/workspaces/${sibling().id}/users`, ws.users.admin.token)
    expect(sib.status).toBe(404)
    expect((await eventsOf(sib))[0]).toMatchObject({ accountId: ws.accountId, target: { accountId: ws.accountId, workspaceId: sibling().id } })
  })

  it('records a user\'s denial in the request\'s own transaction, and alone when that one cannot commit it', async () => {
    const ws = home()
    const real = s.deps.db
    let transactions = 0
    let failAppend = false
    // The server's database, counting transactions; with failAppend, an append in a request's transaction (one
    // that read the caller) fails, as a lost connection would: the refusal must still be answered and recorded.
    const counting: Database = {
      kind: real.kind,
      withOwner: (fn) => real.withOwner(fn),
      close: () => real.close(),
      withTenant: (ctx, fn) => real.withTenant(ctx, (tx) => {
        transactions++
        let requestTx = false
        const query = (async (sql: string, params?: readonly unknown[]) => {
          if (sql.includes('revoked_tokens')) requestTx = true
          if (failAppend && requestTx && sql.includes('INSERT INTO audit_heads')) throw new Error('injected append failure')
          return tx.query(sql, params)
        }) as Tx['query']
        return fn({ query })
      }),
    }
    const call = async (method: 'GET' | 'PATCH', path: string) => {
      ;(s.deps as { db: Database }).db = counting
      transactions = 0
      try {
        const res = await s.call(method, path, ws.users.editor.token, method === 'PATCH' ? { title: 'x' } : undefined)
        return { res, transactions }
      } finally {
        ;(s.deps as { db: Database }).db = real
      }
    }
    const actor = { kind: 'user', uid: ws.users.editor.id, accountId: ws.accountId, workspaceId: ws.id, roles: ['workspace:editor'] }
    const foreignDoc = `/app/v1/workspaces/${foreign().id}/documents/${foreign().documentId}`
    const noSuchDoc = `/app/v1/workspaces/${ws.id}/documents/${randomUUID()}`
    // Refused by authorization, and by a read's handler: one transaction, the event committed with the request's reads.
    for (const [path, target] of [[foreignDoc, { accountId: null, workspaceId: foreign().id }], [noSuchDoc, { accountId: ws.accountId, workspaceId: ws.id }]] as const) {
      const { res, transactions: n } = await call('GET', path)
      expect(res.status).toBe(404)
      expect(n, path).toBe(1)
      const events = await eventsOf(res)
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({ accountId: ws.accountId, action: 'documents.read', outcome: 'failure', reason: 'not-found', actor, target, http: { status: 404 } })
    }
    // Refused by a write's handler: what it wrote rolls back, and the event goes in a transaction of its own, as before.
    const write = await call('PATCH', noSuchDoc)
    expect(write.res.status).toBe(404)
    expect(write.transactions).toBe(2)
    expect(await eventsOf(write.res)).toMatchObject([{ accountId: ws.accountId, action: 'documents.update', outcome: 'failure', actor, target: { accountId: ws.accountId, workspaceId: ws.id } }])
    // The append in the request's transaction fails: still a 404, never a 500, and the event written alone.
    failAppend = true
    const fallback = await call('GET', foreignDoc)
    failAppend = false
    expect(fallback.res.status, fallback.res.text).toBe(404)
    expect(fallback.transactions).toBe(2)
    expect(await eventsOf(fallback.res)).toMatchObject([{ accountId: ws.accountId, outcome: 'failure', actor, target: { accountId: null, workspaceId: foreign().id } }])
  })

  it('records a 405 on an authenticated path as a denial in the caller\'s trail', async () => {
    const ws = home()
    const res = await s.call('PUT', `/app/v1/workspaces/${ws.id}/documents/${ws.documentId}`, ws.users.editor.token, { title: 'x' })
    expect(res.status).toBe(405)
    expect(await eventsOf(res)).toMatchObject([{
      accountId: ws.accountId, action: 'documents.update', outcome: 'failure', reason: 'method-not-allowed',
      actor: { kind: 'user', uid: ws.users.editor.id }, target: { type: 'documents', uid: ws.documentId, workspaceId: ws.id },
      http: { method: 'PUT', route: '/app/v1/workspaces/{workspaceId}/documents/{documentId}', status: 405 },
    }])
  })

  it('records authentication failures in the platform trail as anonymous, never with the token\'s claims', async () => {
    const ws = home()
    const [, payload] = ws.users.editor.token.split('.')
    const forged = `eyJhbGciOiJub25lIn0.${payload}.`
    const res = await s.call('GET', `/app/v1/workspaces/${ws.id}/documents`, forged)
    expect(res.status).toBe(401)
    const [e] = await eventsOf(res)
    expect(e).toMatchObject({ accountId: null, actor: { kind: 'anonymous' }, outcome: 'failure', http: { status: 401 }, metadata: { tenantUid: null } })
    expect(e!.classUid).toBe(3002)
    expect(e!.reason).toMatch(/^[a-z_]+$/)
    expect(JSON.stringify(e!.actor)).toBe('{"kind":"anonymous"}')
    expect(JSON.stringify(e)).not.toContain(ws.users.editor.id)
    const login = await s.call('POST', '/auth/token', undefined, { grant_type: 'password', username: ws.users.editor.email, password: 'wrong-password-123' })
    expect(login.status).toBe(400)
    const [l] = await eventsOf(login)
    expect(l).toMatchObject({ accountId: null, action: 'auth.token', activity: 'logon', classUid: 3002, outcome: 'failure', reason: 'invalid_grant', actor: { kind: 'anonymous' } })
    expect(JSON.stringify(l)).not.toContain('wrong-password-123')
    expect(JSON.stringify(l)).not.toContain(ws.users.editor.email)
  })

  it('records role changes, removals and suspension as account changes in the account\'s trail', async () => {
    const ws = home()
    const admin = ws.users.admin.token
    const email = `lifecycle-${randomUUID().slice(0, 8)}@audit.test`
    const created = await s.call('POST', `/dashboard/v1/workspaces/${ws.id}/users`, admin, { email, password: PASSWORD, role: 'viewer' })
    expect(created.status).toBe(201)
    const promoted = await s.call('PATCH', `/dashboard/v1/workspaces/${ws.id}/users/${created.body.id}`, admin, { role: 'editor' })
    expect(promoted.status).toBe(200)
    const removed = await s.call('DELETE', `/dashboard/v1/workspaces/${ws.id}/users/${created.body.id}`, admin)
    expect(removed.status).toBe(204)
    for (const [res, activity] of [[created, 'create'], [promoted, 'update'], [removed, 'delete']] as const) {
      expect((await eventsOf(res))[0], activity).toMatchObject({ accountId: ws.accountId, classUid: 3001, activity, target: { type: 'users', uid: created.body.id } })
    }
    // Suspension by a principal: in the account's trail, with the principal as actor.
    const acct = B().id
    const suspend = await s.call('PATCH', `/portal/v1/accounts/${acct}`, root, { status: 'suspended' })
    expect(suspend.status).toBe(200)
    const activate = await s.call('PATCH', `/portal/v1/accounts/${acct}`, root, { status: 'active' })
    expect(activate.status).toBe(200)
    expect((await eventsOf(suspend))[0]).toMatchObject({ accountId: acct, classUid: 3001, actor: { kind: 'principal', roles: ['platform:platform_admin'] }, target: { type: 'accounts', uid: acct, accountId: acct } })
  })

  it('records a principal\'s access to an account in that account\'s trail, reads included', async () => {
    const read = await s.call('GET', `/portal/v1/accounts/${A().id}/workspaces`, t.principals.support)
    expect(read.status).toBe(200)
    expect((await eventsOf(read))[0]).toMatchObject({ accountId: A().id, activity: 'list', outcome: 'success', actor: { kind: 'principal', roles: ['platform:support'] } })
    const trail = await exportAll(s, ACCOUNT_AUDIT(A().id), home().users.account_admin.token)
    expect(trail.some((e) => e.metadata.correlationUid === rid(read))).toBe(true)
    const denied = await s.call('DELETE', `/portal/v1/accounts/${A().id}/workspaces/${home().id}`, t.principals.support)
    expect(denied.status).toBe(403)
    expect((await eventsOf(denied))[0]).toMatchObject({ accountId: A().id, outcome: 'failure', reason: 'forbidden' })
    const all = await s.call('GET', '/portal/v1/accounts', t.principals.support)
    expect(await eventsOf(all)).toEqual([])
  })

  it('exports trails that verify end to end, through every read route', async () => {
    const everything = await exportAll(s, PORTAL_AUDIT, root)
    expect(verifyEvents(everything)).toMatchObject({ ok: true })
    const trails = new Set(everything.map((e) => e.accountId))
    expect(trails).toContain(null)
    expect(trails).toContain(A().id)
    const mine = await exportAll(s, ACCOUNT_AUDIT(A().id), home().users.account_admin.token)
    expect(verifyEvents(mine)).toMatchObject({ ok: true })
    expect(mine.map((e) => e.seq)).toEqual(mine.map((_, i) => i + 1))
    const platform = await exportAll(s, PORTAL_AUDIT, root, 'accountId=platform')
    expect(platform.every((e) => e.accountId === null)).toBe(true)
    expect(verifyEvents(platform)).toMatchObject({ ok: true })
  })

  it('keeps the read API isolated: own account only, own workspace only', async () => {
    const aAdmin = home().users.account_admin.token
    const mine = await exportAll(s, ACCOUNT_AUDIT(A().id), aAdmin)
    expect(mine.length).toBeGreaterThan(0)
    expect(mine.every((e) => e.accountId === A().id)).toBe(true)
    for (const [token, path] of [
      [aAdmin, ACCOUNT_AUDIT(B().id)],
      [home().users.admin.token, ACCOUNT_AUDIT(A().id)],
      [home().users.admin.token, WORKSPACE_AUDIT(sibling().id)],
      [home().users.admin.token, WORKSPACE_AUDIT(foreign().id)],
      [aAdmin, WORKSPACE_AUDIT(foreign().id)],
      [home().users.editor.token, WORKSPACE_AUDIT(home().id)],
      [aAdmin, PORTAL_AUDIT],
    ] as const) {
      const res = await s.call('GET', path, token)
      expect([403, 404], `${path}: ${res.status}`).toContain(res.status)
    }
    const wsEvents = await exportAll(s, WORKSPACE_AUDIT(home().id), home().users.admin.token)
    expect(wsEvents.length).toBeGreaterThan(0)
    for (const e of wsEvents) {
      expect(e.accountId).toBe(A().id)
      expect([e.actor.workspaceId, e.target?.workspaceId]).toContain(home().id)
    }
    // An account admin reads a sibling workspace's events through the account-admin rule.
    const sib = await exportAll(s, WORKSPACE_AUDIT(sibling().id), aAdmin)
    for (const e of sib) expect([e.actor.workspaceId, e.target?.workspaceId]).toContain(sibling().id)
  })

  it('filters by requestId, action, outcome and since, and pages without gaps or repeats', async () => {
    const aAdmin = home().users.account_admin.token
    const all = await exportAll(s, ACCOUNT_AUDIT(A().id), aAdmin)
    const paged = await exportAll(s, ACCOUNT_AUDIT(A().id), aAdmin, 'limit=3')
    expect(paged.map((e) => e.id)).toEqual(all.map((e) => e.id))
    const failures = await exportAll(s, ACCOUNT_AUDIT(A().id), aAdmin, 'outcome=failure')
    expect(failures.length).toBeGreaterThan(0)
    expect(failures).toEqual(all.filter((e) => e.outcome === 'failure'))
    const updates = await exportAll(s, ACCOUNT_AUDIT(A().id), aAdmin, 'action=documents.update')
    expect(updates).toEqual(all.filter((e) => e.action === 'documents.update'))
    const pick = all[Math.floor(all.length / 2)]!
    const one = await exportAll(s, ACCOUNT_AUDIT(A().id), aAdmin, `requestId=${pick.metadata.correlationUid}`)
    expect(one.map((e) => e.id)).toContain(pick.id)
    const since = await exportAll(s, ACCOUNT_AUDIT(A().id), aAdmin, `since=${encodeURIComponent(pick.time)}`)
    expect(since.every((e) => e.time >= pick.time)).toBe(true)
    expect(since.map((e) => e.id)).toContain(pick.id)
    const first = await s.call('GET', `${ACCOUNT_AUDIT(A().id)}?limit=1`, aAdmin)
    expect(first.body.items).toHaveLength(1)
    expect(first.body.nextCursor).toEqual(expect.any(String))
    for (const bad of ['limit=0', 'limit=201', 'outcome=maybe', 'since=yesterday', 'cursor=not-a-cursor']) {
      const res = await s.call('GET', `${ACCOUNT_AUDIT(A().id)}?${bad}`, aAdmin)
      expect(res.status, bad).toBe(400)
    }
  })

  it('never records a token, password or secret', async () => {
    const ws = home()
    const email = `secret-${randomUUID().slice(0, 8)}@audit.test`
    const password = `pw-${randomUUID()}`
    await s.call('POST', `/dashboard/v1/workspaces/${ws.id}/users`, ws.users.admin.token, { email, password, role: 'viewer' })
    const tokens = await s.login(email, password)
    await s.call('GET', `/app/v1/workspaces/${ws.id}/documents/${randomUUID()}`, tokens.access_token)
    await s.call('POST', '/auth/token', undefined, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })
    await s.call('POST', '/auth/token', undefined, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }) // reuse: refused
    await recorderFor(s.deps).flush()
    const text = JSON.stringify(await exportAll(s, PORTAL_AUDIT, root))
    for (const secret of [password, tokens.access_token, tokens.refresh_token, tokens.id_token, tokens.access_token.split('.')[2]!, ws.users.editor.token, 'Bearer ']) {
      expect(text).not.toContain(secret)
    }
    expect(text).not.toMatch(/authorization|password/i)
  })

  it('escapes control characters, so a recorded value cannot forge an entry', async () => {
    expect(clean('a\r\n{"seq":1}\u0000\u2028b')).toBe('a\\u000d\\u000a{"seq":1}\\u0000\\u2028b')
    const ws = home()
    // CR and LF cannot travel in an HTTP header value; TAB and obs-text (here NEL, 0x85) can: sent raw.
    const ua = Buffer.concat([Buffer.from('evil'), Buffer.from([0x85]), Buffer.from('{"accountId":null,"seq":1}\tx')])
    const res = await rawRequest(s, 'DELETE', `/app/v1/workspaces/${foreign().id}/documents/${foreign().documentId}`, ws.users.editor.token, ua)
    expect(res.status).toBe(404)
    const events = await eventsOf(res)
    expect(events).toHaveLength(1)
    expect(events[0]!.src.userAgent).toBe('evil\\u0085{"accountId":null,"seq":1}\\u0009x')
    expect(events[0]!.src.userAgent).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
    const lines = (await exportAll(s, PORTAL_AUDIT, root)).map((e) => JSON.stringify(e)).join('\n')
    expect(lines.split('\n').every((l) => JSON.parse(l) && true)).toBe(true)
  })

  it('commits a change and its event together: a failure before the commit leaves neither', async () => {
    const ws = home()
    const title = `atomic-${randomUUID()}`
    s.deps.testHooks = { beforeCommit: async (_tx, op) => { if (op === 'createDocument') throw new Error('injected failure before commit') } }
    let failed: Res
    try {
      failed = await s.call('POST', `/app/v1/workspaces/${ws.id}/documents`, ws.users.editor.token, { title, body: 'b' })
    } finally {
      s.deps.testHooks = undefined
    }
    expect(failed.status).toBe(500)
    expect(await eventsOf(failed)).toEqual([])
    const list = await s.call('GET', `/app/v1/workspaces/${ws.id}/documents?q=${title}`, ws.users.editor.token)
    expect(list.body.items).toEqual([])
    // The same call without the failure: the change and exactly one event.
    const ok = await s.call('POST', `/app/v1/workspaces/${ws.id}/documents`, ws.users.editor.token, { title, body: 'b' })
    expect(ok.status).toBe(201)
    expect(await eventsOf(ok)).toHaveLength(1)
    // A write that fails after validation (duplicate email, 409) leaves no success event.
    const dup = await s.call('POST', `/dashboard/v1/workspaces/${ws.id}/users`, ws.users.admin.token, { email: ws.users.viewer.email, password: PASSWORD, role: 'viewer' })
    expect(dup.status).toBe(409)
    expect((await eventsOf(dup)).filter((e) => e.outcome === 'success')).toEqual([])
  })

  it('aggregates a flood of authentication failures from one source', async () => {
    const deps = await buildDeps(tdb.db, { settings: { auditWindowMs: 3_600_000, auditBurst: 3, passwordCost: THROWAWAY_COST } }, 'http://flood.test')
    const app = createApp(deps)
    const ua = `flood-${randomUUID()}`
    const ids: string[] = []
    for (let i = 0; i < 12; i++) {
      const res = await request(app).get(`/app/v1/workspaces/${home().id}/documents`).set('Authorization', 'Bearer not.a.token').set('User-Agent', ua)
      expect(res.status).toBe(401)
      ids.push(rid(res))
    }
    await recorderFor(deps).flush()
    const events = (await exportAll(s, PORTAL_AUDIT, root, 'accountId=platform')).filter((e) => e.src.userAgent === ua)
    expect(events.map((e) => e.count)).toEqual([1, 1, 1, 9])
    expect(events[3]!.metadata.correlationUid).toBe(ids[11])
  })

  it('records throttled calls through recordThrottled (for the rate limiter), aggregated', async () => {
    const deps = await buildDeps(tdb.db, { settings: { auditWindowMs: 3_600_000, auditBurst: 2, passwordCost: THROWAWAY_COST } }, 'http://limiter.test')
    const op = deps.contract.operation('listDocuments')
    const ws = home()
    const token = await s.deps.verify(`Bearer ${ws.users.viewer.token}`)
    const app = express()
    app.use((req, res, next) => { res.locals.requestId = randomUUID(); next() })
    app.get('/throttled', async (req, res) => {
      await recordThrottled(deps, { req, res, op, token, params: { workspaceId: ws.id } })
      res.status(429).json({ requestId: res.locals.requestId })
    })
    for (let i = 0; i < 5; i++) expect((await request(app).get('/throttled')).status).toBe(429)
    await recorderFor(deps).flush()
    const events = (await exportAll(s, ACCOUNT_AUDIT(A().id), ws.users.account_admin.token, 'action=documents.list'))
      .filter((e) => e.http.status === 429)
    expect(events.map((e) => e.count)).toEqual([1, 1, 3])
    expect(events[0]).toMatchObject({
      accountId: A().id, outcome: 'failure', reason: 'quota-exceeded', actor: { kind: 'user', uid: ws.users.viewer.id },
      target: { type: 'documents', workspaceId: ws.id }, http: { route: op.path, status: 429 },
    })
  })

  it('refuses to start with the audit trail switched off outside the bench', async () => {
    const deps = await buildDeps(tdb.db, { settings: { audit: false, passwordCost: THROWAWAY_COST } }, 'http://off.test')
    expect(() => createApp(deps)).toThrow(/audit trail/)
  })
})
