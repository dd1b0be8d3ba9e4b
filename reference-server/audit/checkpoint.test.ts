import pg from 'pg'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { availableDrivers, createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { createTestServer, type TestServer } from '../testing/server.js'
import { seedTopology, type Topology } from '../testing/topology.js'
import { CHECKPOINT_TYP, storedCheckpoints, type SignedCheckpoint } from './checkpoint.js'
import { verifyEvents } from './chain.js'
import type { AuditEvent } from './event.js'

/**
 * Signed checkpoints of the trails' heads, on both drivers: the on-demand operations (Dashboard and
 * Portal) answer a checkpoint that verifies against the JWKS and names the trail's newest event; the
 * access-token verifier refuses it; periodic checkpoints are stored every N appends and outlive the
 * events they name. On Postgres: the runtime role may insert and read checkpoints, never change them.
 */

const EVERY = 5

async function exportTrail(s: TestServer, accountId: string, root: string): Promise<AuditEvent[]> {
  const out: AuditEvent[] = []
  let cursor: string | null = null
  do {
    const r = await s.call('GET', `/portal/v1/audit-events?accountId=${accountId}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, root)
    expect(r.status, r.text).toBe(200)
    out.push(...(r.body.items as AuditEvent[]))
    cursor = r.body.nextCursor as string | null
  } while (cursor)
  return out
}

for (const driver of await availableDrivers()) {
  describe(`audit checkpoints (${driver})`, () => {
    let tdb: TestDatabase
    let s: TestServer
    let t: Topology
    let root: string
    let jwks: ReturnType<typeof createLocalJWKSet>

    beforeAll(async () => {
      tdb = await createTestDatabase(driver)
      s = await createTestServer(tdb.db, [], { auditCheckpointEvery: EVERY })
      t = await seedTopology(s)
      root = await s.rootToken()
      const keys = await s.call('GET', '/.well-known/jwks.json')
      jwks = createLocalJWKSet(keys.body as JSONWebKeySet)
    })
    afterAll(async () => tdb?.drop())

    const verify = (jws: string) => jwtVerify(jws, jwks, { typ: CHECKPOINT_TYP, issuer: s.deps.settings.issuer, algorithms: ['ES256'] })

    it('answers an account admin with a signed checkpoint of its own trail that names the newest event', async () => {
      const ws = t.accounts[0].workspaces[0]
      const res = await s.call('GET', `/dashboard/v1/accounts/${ws.accountId}/audit-checkpoint`, ws.users.account_admin.token)
      expect(res.status, res.text).toBe(200)
      const cp = res.body as SignedCheckpoint
      const { payload, protectedHeader } = await verify(cp.jws)
      expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: CHECKPOINT_TYP, kid: s.deps.keys.signingKey().kid })
      expect(payload).toMatchObject({ trail: ws.accountId, seq: cp.seq, hash: cp.hash, issuedAt: cp.issuedAt })
      const trail = await exportTrail(s, ws.accountId, root)
      expect(verifyEvents(trail)).toMatchObject({ ok: true })
      const at = trail.find((e) => e.seq === cp.seq)
      expect(at?.hash).toBe(cp.hash)
      // An account admin's read is not recorded: the checkpoint is still the head.
      expect(trail.at(-1)?.seq).toBe(cp.seq)
    })

    it('answers principals for any account through the Portal; the read is recorded after the checkpoint', async () => {
      const account = t.accounts[1].id
      const res = await s.call('GET', `/portal/v1/accounts/${account}/audit-checkpoint`, root)
      expect(res.status, res.text).toBe(200)
      const cp = res.body as SignedCheckpoint
      expect((await verify(cp.jws)).payload).toMatchObject({ trail: account, seq: cp.seq, hash: cp.hash })
      const trail = await exportTrail(s, account, root)
      expect(trail.find((e) => e.seq === cp.seq)?.hash).toBe(cp.hash)
      expect(trail.find((e) => e.seq === cp.seq + 1)).toMatchObject({ action: 'audit-checkpoint.read', actor: { kind: 'principal' } })
    })

    it("refuses another account's checkpoint (404) and a workspace admin's request (403)", async () => {
      const ws = t.accounts[0].workspaces[0]
      const foreign = await s.call('GET', `/dashboard/v1/accounts/${t.accounts[1].id}/audit-checkpoint`, ws.users.account_admin.token)
      expect(foreign.status).toBe(404)
      const admin = await s.call('GET', `/dashboard/v1/accounts/${ws.accountId}/audit-checkpoint`, ws.users.admin.token)
      expect(admin.status).toBe(403)
      const unknown = await s.call('GET', '/portal/v1/accounts/00000000-0000-4000-8000-000000000000/audit-checkpoint', root)
      expect(unknown.status).toBe(404)
    })

    it('is never accepted as an access token (typ audit-checkpoint+jwt)', async () => {
      const ws = t.accounts[0].workspaces[0]
      const cp = (await s.call('GET', `/dashboard/v1/accounts/${ws.accountId}/audit-checkpoint`, ws.users.account_admin.token)).body as SignedCheckpoint
      expect(decodeProtectedHeader(cp.jws).typ).toBe(CHECKPOINT_TYP)
      await expect(s.deps.verify(`Bearer ${cp.jws}`)).rejects.toMatchObject({ code: 'type_invalid' })
      const res = await s.call('GET', `/dashboard/v1/accounts/${ws.accountId}/audit-events`, cp.jws)
      expect(res.status).toBe(401)
      expect(res.headers['www-authenticate']).toMatch(/invalid_token/)
    })

    it('stores a checkpoint every N appends, each signed and naming its event, and keeps them when events are deleted', async () => {
      const account = t.accounts[0].id
      const stored = await tdb.db.withTenant({ platformRole: 'support' }, (tx) => storedCheckpoints(tx, account))
      const periodic = stored.filter((c) => c.seq % EVERY === 0)
      expect(periodic.length).toBeGreaterThan(1)
      const trail = await exportTrail(s, account, root)
      for (const seq of trail.map((e) => e.seq).filter((n) => n % EVERY === 0)) expect(stored.some((c) => c.seq === seq), `seq ${seq}`).toBe(true)
      for (const c of periodic) {
        expect((await verify(c.jws)).payload).toMatchObject({ trail: account, seq: c.seq, hash: c.hash })
        expect(trail.find((e) => e.seq === c.seq)?.hash).toBe(c.hash)
      }
      // A tenant sees its own trail's checkpoints only.
      const other = await tdb.db.withTenant({ accountId: t.accounts[1].id }, (tx) => storedCheckpoints(tx, account))
      expect(other).toEqual([])
      // The owner deletes the newest events: the checkpoints that name them stay.
      const last = trail.at(-1)!
      await tdb.db.withOwner(async (tx) => {
        await tx.query("SELECT set_config('app.audit_maintenance', 'on', true)")
        await tx.query('DELETE FROM audit_events WHERE trail = $1 AND seq > $2', [account, last.seq - 2 * EVERY])
      })
      const after = await tdb.db.withTenant({ platformRole: 'support' }, (tx) => storedCheckpoints(tx, account))
      expect(after).toEqual(stored)
      expect(after.some((c) => c.seq > last.seq - 2 * EVERY)).toBe(true)
    })
  })
}

const hasPg = (await availableDrivers()).includes('pg')

describe.skipIf(!hasPg)('audit checkpoints: privileges on Postgres', () => {
  let tdb: TestDatabase
  let t: Topology

  beforeAll(async () => {
    tdb = await createTestDatabase('pg')
    const s = await createTestServer(tdb.db, [], { auditCheckpointEvery: EVERY })
    t = await seedTopology(s)
  })
  afterAll(async () => tdb?.drop())

  it('lets the runtime role (ta_login as ta_runtime) insert and read checkpoints, never change or remove them', async () => {
    const account = t.accounts[0].id
    const client = new pg.Client({ connectionString: tdb.runtimeUrl })
    await client.connect()
    try {
      await client.query('BEGIN')
      await client.query('SET LOCAL ROLE ta_runtime')
      await client.query("SELECT set_config('app.account_id', $1, true)", [account])
      const { rows } = await client.query('SELECT seq FROM audit_checkpoints WHERE account_id = $1', [account])
      expect(rows.length).toBeGreaterThan(0)
      const foreign = await client.query('SELECT count(*)::int AS n FROM audit_checkpoints WHERE account_id IS DISTINCT FROM $1', [account])
      expect(foreign.rows[0].n).toBe(0)
      await client.query('SAVEPOINT p')
      const ins = await client.query("INSERT INTO audit_checkpoints (id, trail, account_id, seq, hash, issued_at, jws) VALUES (gen_random_uuid(), $1, $1, 1, 'h', now(), 'a.b.c')", [account])
      expect(ins.rowCount).toBe(1)
      await client.query('ROLLBACK TO SAVEPOINT p')
      // Nor into another tenant's trail.
      await expect(client.query("INSERT INTO audit_checkpoints (id, trail, account_id, seq, hash, issued_at, jws) VALUES (gen_random_uuid(), $1, $1, 1, 'h', now(), 'a.b.c')", [t.accounts[1].id]))
        .rejects.toMatchObject({ code: '42501' })
      await client.query('ROLLBACK TO SAVEPOINT p')
      for (const sql of [
        'UPDATE audit_checkpoints SET seq = seq - 1 WHERE account_id = $1',
        'DELETE FROM audit_checkpoints WHERE account_id = $1',
      ]) {
        await expect(client.query(sql, [account]), sql).rejects.toMatchObject({ code: '42501' })
        await client.query('ROLLBACK TO SAVEPOINT p')
      }
      await expect(client.query('TRUNCATE audit_checkpoints')).rejects.toMatchObject({ code: '42501' })
    } finally {
      await client.query('ROLLBACK').catch(() => undefined)
      await client.end()
    }
  })
})
