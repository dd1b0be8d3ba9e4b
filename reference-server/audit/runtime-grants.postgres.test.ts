import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { availableDrivers, createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { createTestServer, type TestServer } from '../testing/server.js'
import { seedTopology, type Topology } from '../testing/topology.js'
import { PLATFORM_TRAIL } from './event.js'

/**
 * Issue 13 defect 10, on real Postgres (PGlite is one superuser session, no privilege boundary): the
 * runtime role reaches only what a request needs. A session as the runtime role with one account's
 * context sees and moves only that account's trail head (and the platform trail's, which anyone
 * appends to), never another account's; revoked tokens are inserted and read, never changed or
 * removed (a revocation a compromised runtime could delete is no revocation).
 */
const hasPg = (await availableDrivers()).includes('pg')
const PERMISSION_DENIED = { code: '42501' }

describe.skipIf(!hasPg)('the runtime role on audit_heads and revoked_tokens (Postgres)', () => {
  let tdb: TestDatabase
  let s: TestServer
  let t: Topology

  beforeAll(async () => {
    tdb = await createTestDatabase('pg')
    s = await createTestServer(tdb.db)
    t = await seedTopology(s) // its requests write events, so every account's trail has a head
  })
  afterAll(async () => tdb?.drop())

  /** A fresh session as ta_login, acting as ta_runtime with `settings` (app.account_id, …) for one transaction, rolled back. */
  /** Reads audit_heads as the owner, in maintenance (the owner's policy asks for it). */
  const heads = <T extends Record<string, unknown>>(sql: string, args: unknown[] = []) => tdb.db.withOwner(async (tx) => {
    await tx.query("SELECT set_config('app.audit_maintenance', 'on', true)")
    return (await tx.query<T>(sql, args)).rows
  })

  async function asRuntime<T>(settings: Record<string, string>, fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: tdb.runtimeUrl })
    await client.connect()
    try {
      await client.query('BEGIN')
      await client.query('SET LOCAL ROLE ta_runtime')
      for (const [k, v] of Object.entries(settings)) await client.query('SELECT set_config($1, $2, true)', [k, v])
      return await fn(client)
    } finally {
      await client.query('ROLLBACK').catch(() => undefined)
      await client.end()
    }
  }

  it('every seeded account has a trail head (what the next assertions rest on)', async () => {
    const trails = new Set((await heads<{ trail: string }>('SELECT trail FROM audit_heads')).map((r) => r.trail))
    for (const a of t.accounts) expect(trails.has(a.id), a.id).toBe(true)
  })

  it("in one account's context, sees and updates no other account's trail head", async () => {
    const [mine, theirs] = [t.accounts[0].id, t.accounts[1].id]
    await asRuntime({ 'app.account_id': mine }, async (c) => {
      const seen = await c.query<{ trail: string }>('SELECT trail FROM audit_heads')
      expect(seen.rows.map((r) => r.trail).filter((x) => x !== mine && x !== PLATFORM_TRAIL)).toEqual([])
      const forged = await c.query("UPDATE audit_heads SET hash = 'forged' WHERE trail = $1", [theirs])
      expect(forged.rowCount).toBe(0)
      // Its own trail's head is still the runtime's to advance (every append does).
      const own = await c.query("UPDATE audit_heads SET hash = hash WHERE trail = $1", [mine])
      expect(own.rowCount).toBe(1)
    })
    const after = await heads<{ hash: string | null }>('SELECT hash FROM audit_heads WHERE trail = $1', [theirs])
    expect(after[0]?.hash).not.toBe('forged')
  })

  it('with an unrelated account context, cannot rewrite every head at once', async () => {
    await asRuntime({ 'app.account_id': randomUUID() }, async (c) => {
      const all = await c.query("UPDATE audit_heads SET hash = 'forged' WHERE trail <> $1", [PLATFORM_TRAIL])
      expect(all.rowCount).toBe(0)
    })
  })

  it('cannot create a head for another account (a pre-set head would fork its chain)', async () => {
    await asRuntime({ 'app.account_id': t.accounts[0].id }, async (c) => {
      await expect(c.query('INSERT INTO audit_heads (trail, seq, hash) VALUES ($1, 99, $2)', [randomUUID(), 'planted'])).rejects.toMatchObject({ code: '42501' })
    })
  })

  it('may insert and read revoked tokens, never update or delete them', async () => {
    const jti = `jti-${randomUUID()}`
    await asRuntime({}, async (c) => {
      await c.query("INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, now() + interval '1 hour')", [jti])
      expect((await c.query('SELECT 1 FROM revoked_tokens WHERE jti = $1', [jti])).rowCount).toBe(1)
      await c.query('SAVEPOINT p')
      await expect(c.query("UPDATE revoked_tokens SET expires_at = now() - interval '1 hour' WHERE jti = $1", [jti])).rejects.toMatchObject(PERMISSION_DENIED)
      await c.query('ROLLBACK TO SAVEPOINT p')
      await expect(c.query('DELETE FROM revoked_tokens WHERE jti = $1', [jti])).rejects.toMatchObject(PERMISSION_DENIED)
    })
  })
})
