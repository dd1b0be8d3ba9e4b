import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Response } from 'supertest'
import { FAULTS, type FaultName } from './index.js'
import { AUDIT_FAULTS } from './audit.js'
import { availableDrivers, createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { createTestServer, type TestServer } from '../testing/server.js'
import { PASSWORD, seedTopology, type SeededWorkspace, type Topology } from '../testing/topology.js'
import { verifyEvents } from '../audit/chain.js'
import type { AuditEvent } from '../audit/event.js'

/**
 * Every audit fault, shown to be real in the style of faults.test.ts: the same requests against the
 * clean server and against a server with the fault (same database, trusting the clean server's key),
 * judged by what the audit trail holds afterwards. Scenarios that would break a shared chain (wrong
 * hashes, deleted events) work in an account of their own.
 */

interface Ctx { s: TestServer; t: Topology; root: string }
interface Scenario<T> {
  act(c: Ctx): Promise<T>
  clean(result: T, t: Topology): void
  defect(result: T, t: Topology): void
}
const scenario = <T>(s: Scenario<T>) => s as Scenario<unknown>

const home = (t: Topology) => t.accounts[0].workspaces[0]
const otherAccount = (t: Topology) => t.accounts[1].workspaces[0]
const docPath = (ws: SeededWorkspace, id = '') => `/app/v1/workspaces/${ws.id}/documents${id ? `/${id}` : ''}`
const rid = (res: Response) => String(res.headers['x-request-id'])

/** The events of one request, from the Portal (every trail). */
async function eventsOf(c: Ctx, res: Response): Promise<AuditEvent[]> {
  const r = await c.s.call('GET', `/portal/v1/audit-events?requestId=${rid(res)}`, c.root)
  expect(r.status, r.text).toBe(200)
  return r.body.items as AuditEvent[]
}

async function exportTrail(c: Ctx, accountId: string): Promise<AuditEvent[]> {
  const out: AuditEvent[] = []
  let cursor: string | null = null
  do {
    const r = await c.s.call('GET', `/portal/v1/audit-events?accountId=${accountId}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, c.root)
    expect(r.status, r.text).toBe(200)
    out.push(...(r.body.items as AuditEvent[]))
    cursor = r.body.nextCursor as string | null
  } while (cursor)
  return out
}

/** A new account with one workspace and an account admin, all through the server under test. */
async function freshAccount(c: Ctx): Promise<{ accountId: string; workspaceId: string; token: string }> {
  const acct = await c.s.call('POST', '/portal/v1/accounts', c.root, { name: `audit-${randomUUID().slice(0, 8)}` })
  expect(acct.status, acct.text).toBe(201)
  const ws = await c.s.call('POST', `/portal/v1/accounts/${acct.body.id}/workspaces`, c.root, { name: 'w', environment: 'staging' })
  expect(ws.status, ws.text).toBe(201)
  const email = `admin-${randomUUID().slice(0, 8)}@audit-fault.test`
  const user = await c.s.call('POST', `/portal/v1/accounts/${acct.body.id}/workspaces/${ws.body.id}/users`, c.root, { email, password: PASSWORD, role: 'admin', accountRole: 'admin' })
  expect(user.status, user.text).toBe(201)
  return { accountId: acct.body.id, workspaceId: ws.body.id, token: (await c.s.login(email, PASSWORD)).access_token }
}

/** Own write: PATCH a document of the editor's own workspace (200), and its events. */
async function patchOwn(c: Ctx): Promise<{ res: Response; events: AuditEvent[] }> {
  const ws = home(c.t)
  const res = await c.s.call('PATCH', docPath(ws, ws.documentId), ws.users.editor.token, { title: `patched ${randomUUID()}` })
  expect(res.status, res.text).toBe(200)
  return { res, events: await eventsOf(c, res) }
}

const SCENARIOS: Record<string, Scenario<unknown>> = {
  'audit-skips-denials': scenario({
    async act(c) {
      const res = await c.s.call('PATCH', docPath(otherAccount(c.t), otherAccount(c.t).documentId), home(c.t).users.editor.token, { title: 'x' })
      expect(res.status).toBe(404)
      return eventsOf(c, res)
    },
    clean: (events) => expect(events).toMatchObject([{ outcome: 'failure', reason: 'not-found' }]),
    defect: (events) => expect(events).toEqual([]),
  }),
  'audit-skips-patch': scenario({
    act: async (c) => (await patchOwn(c)).events,
    clean: (events) => expect(events).toMatchObject([{ action: 'documents.update', outcome: 'success' }]),
    defect: (events) => expect(events).toEqual([]),
  }),
  'audit-read-leaks-accounts': scenario({
    async act(c) {
      const ws = home(c.t)
      const res = await c.s.call('GET', `/dashboard/v1/accounts/${ws.accountId}/audit-events?limit=200`, ws.users.account_admin.token)
      expect(res.status, res.text).toBe(200)
      return (res.body.items as AuditEvent[]).map((e) => e.accountId)
    },
    clean: (accounts, t) => expect(new Set(accounts)).toEqual(new Set([home(t).accountId])),
    defect: (accounts, t) => expect(accounts.some((a) => a !== home(t).accountId)).toBe(true),
  }),
  'audit-actor-missing': scenario({
    act: async (c) => (await patchOwn(c)).events.map((e) => e.actor),
    clean: (actors, t) => expect(actors).toMatchObject([{ kind: 'user', uid: home(t).users.editor.id }]),
    defect: (actors) => expect(actors).toEqual([{ kind: 'anonymous' }]),
  }),
  'audit-chain-wrong-content': scenario({
    async act(c) {
      const { accountId } = await freshAccount(c)
      return verifyEvents(await exportTrail(c, accountId))
    },
    clean: (result) => expect(result).toMatchObject({ ok: true }),
    defect: (result) => expect(result).toMatchObject({ ok: false, seq: 1, problem: 'hash' }),
  }),
  'audit-records-bearer-token': scenario({
    async act(c) {
      const { events } = await patchOwn(c)
      return JSON.stringify(events)
    },
    clean: (text, t) => expect(text).not.toContain(home(t).users.editor.token),
    defect: (text, t) => expect(text).toContain(home(t).users.editor.token),
  }),
  'audit-delete-route': scenario({
    async act(c) {
      const { accountId, token } = await freshAccount(c)
      const before = await exportTrail(c, accountId)
      const victim = before[0]!
      const res = await c.s.call('DELETE', `/dashboard/v1/accounts/${accountId}/audit-events/${victim.id}`, token)
      const after = await exportTrail(c, accountId)
      return { status: res.status, kept: after.some((e) => e.id === victim.id), verified: verifyEvents(after).ok }
    },
    clean: (r) => expect(r).toEqual({ status: 404, kept: true, verified: true }),
    defect: (r) => expect(r).toEqual({ status: 204, kept: false, verified: false }),
  }),
  'audit-outside-transaction': scenario({
    async act(c) {
      const ws = home(c.t)
      // The email is taken: the change fails after validation (409) and rolls back.
      const res = await c.s.call('POST', `/dashboard/v1/workspaces/${ws.id}/users`, ws.users.admin.token, { email: ws.users.viewer.email, password: PASSWORD, role: 'viewer' })
      expect(res.status, res.text).toBe(409)
      return (await eventsOf(c, res)).filter((e) => e.outcome === 'success')
    },
    clean: (events) => expect(events).toEqual([]),
    defect: (events) => expect(events).toMatchObject([{ action: 'users.create', outcome: 'success' }]),
  }),
  'audit-tail-truncated': scenario({
    async act(c) {
      const { accountId, token } = await freshAccount(c)
      const res = await c.s.call('GET', `/dashboard/v1/accounts/${accountId}/audit-checkpoint`, token)
      expect(res.status, res.text).toBe(200)
      const cp = res.body as { seq: number; hash: string }
      const after = await exportTrail(c, accountId)
      const newest = Math.max(0, ...after.map((e) => e.seq))
      return { verified: verifyEvents(after).ok, anchored: after.some((e) => e.seq === cp.seq && e.hash === cp.hash), shorter: newest < cp.seq }
    },
    clean: (r) => expect(r).toEqual({ verified: true, anchored: true, shorter: false }),
    // The chain alone still verifies: only the checkpoint shows the loss.
    defect: (r) => expect(r).toEqual({ verified: true, anchored: false, shorter: true }),
  }),
  'audit-skips-throttled-login': scenario({
    async act(c) {
      // Wrong passwords for a username nobody has, until the token endpoint throttles it (issue 13 defect 9).
      const username = `nobody-${randomUUID().slice(0, 8)}@audit-fault.test`
      let res: Response | undefined
      for (let i = 0; i < 30 && res?.status !== 429; i++) {
        res = await c.s.call('POST', '/auth/token', undefined, { grant_type: 'password', username, password: 'wrong-password-123' })
      }
      expect(res!.status).toBe(429)
      return (await eventsOf(c, res!)).map((e) => ({ accountId: e.accountId, action: e.action, outcome: e.outcome, actor: e.actor }))
    },
    clean: (events) => expect(events).toMatchObject([{ accountId: null, action: 'auth.token', outcome: 'failure', actor: { kind: 'anonymous' } }]),
    defect: (events) => expect(events).toEqual([]),
  }),
  'audit-blames-token-subject': scenario({
    async act(c) {
      // A real token of the other account's viewer with its signature broken: an authentication failure.
      const victim = otherAccount(c.t)
      const [h, p, sig] = victim.users.viewer.token.split('.') as [string, string, string]
      const forged = `${h}.${p}.${sig.slice(0, -4)}${sig.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`
      const res = await c.s.call('GET', docPath(victim, victim.documentId), forged)
      expect(res.status).toBe(401)
      return (await eventsOf(c, res)).map((e) => ({ accountId: e.accountId, actor: e.actor }))
    },
    clean: (events) => expect(events).toMatchObject([{ accountId: null, actor: { kind: 'anonymous' } }]),
    defect: (events, t) => expect(events).toMatchObject([{ accountId: otherAccount(t).accountId, actor: { kind: 'user', uid: otherAccount(t).users.viewer.id } }]),
  }),
}

const auditFaults = AUDIT_FAULTS.map((f) => f.name)

describe('audit fault catalog', () => {
  it('has a scenario for every audit fault, and no scenario without one', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual([...auditFaults].sort())
    for (const f of FAULTS.filter((x) => x.suite === 'audit')) expect(auditFaults).toContain(f.name)
  })
})

for (const driver of await availableDrivers()) {
  describe(`seeded audit faults (${driver})`, () => {
    let tdb: TestDatabase
    let clean: TestServer
    let t: Topology
    let root: string

    beforeAll(async () => {
      tdb = await createTestDatabase(driver)
      clean = await createTestServer(tdb.db)
      t = await seedTopology(clean)
      root = await clean.rootToken()
    })
    afterAll(async () => tdb?.drop())

    async function faulty(...faults: FaultName[]): Promise<TestServer> {
      const s = await createTestServer(tdb.db, faults)
      const { kid } = clean.deps.keys.signingKey()
      const key = clean.deps.keys.verificationKey(kid)!
      s.deps.keys.trust(kid, key.publicKey, key.alg)
      return s
    }

    for (const name of auditFaults) {
      it(`${name}: the clean trail is right, the faulty one shows the defect`, async () => {
        const sc = SCENARIOS[name]!
        sc.clean(await sc.act({ s: clean, t, root }), t)
        sc.defect(await sc.act({ s: await faulty(name), t, root }), t)
      })
    }
  })
}
