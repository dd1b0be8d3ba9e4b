import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { availableDrivers, createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { createTestServer, type TestServer } from '../testing/server.js'
import { seedTopology, type Topology } from '../testing/topology.js'
import { appendEvent, readTrail, verifyEvents } from './chain.js'
import type { AuditEvent, EventDraft } from './event.js'

/**
 * The audit trail below the app, on real Postgres (PGlite is one superuser session: neither a
 * privilege boundary nor concurrent): the runtime role cannot change or remove events, a change made
 * by the owner breaks verification at that row, and concurrent appends of one account never fork the chain.
 */
const hasPg = (await availableDrivers()).includes('pg')
const PERMISSION_DENIED = { code: '42501' }

async function exportAll(s: TestServer, path: string, token: string): Promise<AuditEvent[]> {
  const out: AuditEvent[] = []
  let cursor: string | null = null
  do {
    const res = await s.call('GET', `${path}${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`, token)
    expect(res.status, res.text).toBe(200)
    out.push(...(res.body.items as AuditEvent[]))
    cursor = res.body.nextCursor as string | null
  } while (cursor)
  return out
}

function draft(accountId: string | null, n: number): EventDraft {
  return {
    accountId, time: new Date().toISOString(), classUid: 6003, activity: 'update', action: 'documents.update', correlationUid: `req-${n}`,
    actor: { kind: 'anonymous' }, http: { method: 'PATCH', route: '/x', status: 200 }, outcome: 'success', reason: null,
    src: { ip: '127.0.0.1', userAgent: 'test' }, count: 1,
  }
}

describe.skipIf(!hasPg)('audit trail on Postgres', () => {
  let tdb: TestDatabase
  let s: TestServer
  let t: Topology
  let root: string

  beforeAll(async () => {
    tdb = await createTestDatabase('pg')
    s = await createTestServer(tdb.db)
    t = await seedTopology(s)
    root = await s.rootToken()
  })
  afterAll(async () => tdb?.drop())

  /** A fresh session as ta_login, acting as ta_runtime in account `accountId`. */
  async function asRuntime<T>(accountId: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: tdb.runtimeUrl })
    await client.connect()
    try {
      await client.query('BEGIN')
      await client.query('SET LOCAL ROLE ta_runtime')
      await client.query("SELECT set_config('app.account_id', $1, true)", [accountId])
      return await fn(client)
    } finally {
      await client.query('ROLLBACK').catch(() => undefined)
      await client.end()
    }
  }

  it('lets the runtime role (ta_login as ta_runtime) read and append events, never change or remove them', async () => {
    const account = t.accounts[0].id
    await asRuntime(account, async (c) => {
      const { rows } = await c.query('SELECT id FROM audit_events WHERE account_id = $1', [account])
      expect(rows.length).toBeGreaterThan(0)
      // Only its own account's trail is visible.
      const foreign = await c.query('SELECT count(*)::int AS n FROM audit_events WHERE account_id IS DISTINCT FROM $1', [account])
      expect(foreign.rows[0].n).toBe(0)
      await c.query('SAVEPOINT p')
      for (const sql of [
        "UPDATE audit_events SET outcome = 'failure' WHERE account_id = $1",
        "UPDATE audit_events SET event = jsonb_set(event, '{outcome}', '\"failure\"') WHERE account_id = $1",
        'DELETE FROM audit_events WHERE account_id = $1',
      ]) {
        await expect(c.query(sql, [account]), sql).rejects.toMatchObject(PERMISSION_DENIED)
        await c.query('ROLLBACK TO SAVEPOINT p')
      }
      await expect(c.query('TRUNCATE audit_events')).rejects.toMatchObject(PERMISSION_DENIED)
      await c.query('ROLLBACK TO SAVEPOINT p')
      await expect(c.query('SET LOCAL ROLE ta_owner')).rejects.toMatchObject(PERMISSION_DENIED)
    })
    // ta_login on its own (without SET ROLE) holds nothing at all.
    const client = new pg.Client({ connectionString: tdb.runtimeUrl })
    await client.connect()
    try {
      await expect(client.query('DELETE FROM audit_events')).rejects.toMatchObject(PERMISSION_DENIED)
      await expect(client.query('UPDATE audit_events SET hash = hash')).rejects.toMatchObject(PERMISSION_DENIED)
    } finally {
      await client.end()
    }
  })

  it('changes nothing even as the owner unless app.audit_maintenance is switched on', async () => {
    const n = await tdb.db.withOwner((tx) => tx.query("UPDATE audit_events SET outcome = 'failure' WHERE account_id = $1", [t.accounts[1].id]))
    expect(n.rowCount).toBe(0)
  })

  it('fails verification at exactly the row the owner changed directly', async () => {
    const account = t.accounts[0].id
    const token = t.accounts[0].workspaces[0].users.account_admin.token
    const before = await exportAll(s, `/dashboard/v1/accounts/${account}/audit-events`, token)
    expect(verifyEvents(before)).toMatchObject({ ok: true })
    const victim = before[Math.floor(before.length / 2)]!
    await tdb.db.withOwner(async (tx) => {
      await tx.query("SELECT set_config('app.audit_maintenance', 'on', true)")
      const r = await tx.query(`UPDATE audit_events SET event = jsonb_set(event, '{outcome}', '"failure"'), outcome = 'failure' WHERE id = $1`, [victim.id])
      expect(r.rowCount).toBe(1)
    })
    const after = await exportAll(s, `/dashboard/v1/accounts/${account}/audit-events`, token)
    expect(verifyEvents(after)).toEqual({ ok: false, accountId: account, seq: victim.seq, id: victim.id, problem: 'hash' })
    // A deleted row: the gap is found at the next seq.
    const gone = after[after.length - 2]!
    await tdb.db.withOwner(async (tx) => {
      await tx.query("SELECT set_config('app.audit_maintenance', 'on', true)")
      await tx.query('DELETE FROM audit_events WHERE id = $1', [gone.id])
    })
    const trail = await tdb.db.withTenant({ accountId: account }, (tx) => readTrail(tx, account))
    const tail = trail.filter((e) => e.seq > victim.seq)
    expect(verifyEvents([...trail.filter((e) => e.seq < victim.seq), { ...victim }, ...tail])).toMatchObject({ ok: false, seq: gone.seq + 1, problem: 'seq' })
  })

  it('serialises concurrent writes of one account: no fork, no gap, the whole chain verifies', async () => {
    const [a, b] = t.accounts.map((acct) => acct.workspaces[0])
    const writes = Array.from({ length: 24 }, (_, i) => {
      const ws = i % 3 === 0 ? b! : a!
      return i % 2 === 0
        ? s.call('PATCH', `/app/v1/workspaces/${ws.id}/documents/${ws.documentId}`, ws.users.editor.token, { title: `concurrent ${i}` })
        : s.call('POST', `/app/v1/workspaces/${ws.id}/documents`, ws.users.editor.token, { title: `concurrent ${i}`, body: 'b' })
    })
    for (const res of await Promise.all(writes)) expect([200, 201]).toContain(res.status)
    const trail = await exportAll(s, `/dashboard/v1/accounts/${t.accounts[1].id}/audit-events`, t.accounts[1].workspaces[0].users.account_admin.token)
    expect(verifyEvents(trail)).toMatchObject({ ok: true })
    expect(trail.map((e) => e.seq)).toEqual(trail.map((_, i) => i + 1))
  })

  it('serialises concurrent appends in separate transactions on one trail', async () => {
    const account = randomUUID()
    await Promise.all(Array.from({ length: 30 }, (_, i) => tdb.db.withTenant({ accountId: account }, (tx) => appendEvent(tx, draft(account, i)))))
    const trail = await tdb.db.withTenant({ accountId: account }, (tx) => readTrail(tx, account))
    expect(trail.map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
    expect(verifyEvents(trail)).toEqual({ ok: true, trails: 1, events: 30 })
    const all = await exportAll(s, '/portal/v1/audit-events', root)
    expect(verifyEvents(all.filter((e) => e.accountId === account))).toMatchObject({ ok: true, events: 30 })
  })
})
