import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { availableDrivers, createTestDatabase, type TestDatabase } from '../testing/databases.js'
import type { Database, Tx } from './db.js'
import { createPgDatabase } from './pg.js'
import pg from 'pg'

// Nothing a transaction does may reach the next one on the same connection: no tenant, no role, no writes.
interface Tenant { account: string; documents: string[] }

async function seedTenant(db: Database, name: string): Promise<Tenant> {
  const [account, workspace, user] = [randomUUID(), randomUUID(), randomUUID()]
  const documents = [randomUUID(), randomUUID(), randomUUID()]
  await db.withTenant({ platformRole: 'platform_admin' }, async (tx) => {
    await tx.query('INSERT INTO accounts (id, name) VALUES ($1, $2)', [account, name])
    await tx.query("INSERT INTO workspaces (id, account_id, name, environment) VALUES ($1, $2, 'main', 'production')", [workspace, account])
    await tx.query("INSERT INTO users (id, account_id, workspace_id, email, password_hash, role) VALUES ($1, $2, $3, $4, 'x', 'editor')",
      [user, account, workspace, `${name}-${user}@example.test`])
  })
  await db.withTenant({ accountId: account }, async (tx) => {
    for (const id of documents) {
      await tx.query("INSERT INTO documents (id, account_id, workspace_id, created_by, title, body) VALUES ($1, $2, $3, $4, 't', 'b')",
        [id, account, workspace, user])
    }
  })
  return { account, documents }
}

/** What a transaction with no context observes: must be no tenant, the runtime role, and no rows. */
const leftovers = (db: Database) => db.withTenant({}, async (tx) => {
  const { rows } = await tx.query<{ account: string | null; role: string; visible: number }>(
    "SELECT current_setting('app.account_id', true) AS account, current_user AS role, (SELECT count(*)::int FROM documents) AS visible")
  const r = rows[0]!
  return { account: r.account ?? '', role: r.role, visible: r.visible }
})
const CLEAN = { account: '', role: 'ta_runtime', visible: 0 }

/** The hygiene checks, registered once per database under test (`get` is read after beforeAll ran). */
function hygiene(get: () => { db: Database; A: Tenant; B: Tenant }) {
  it('keeps 50 interleaved concurrent transactions to their own tenant', async () => {
    const { db, A, B } = get()
    await Promise.all(Array.from({ length: 50 }, async (_, i) => {
      const self = i % 2 === 0 ? A : B
      const seen = await db.withTenant({ accountId: self.account }, async (tx) => {
        const setting = (await tx.query<{ v: string }>("SELECT current_setting('app.account_id', true) AS v")).rows[0]?.v
        await sleep(Math.random() * 5) // hold the transaction open so others start meanwhile (separate connections on pg)
        const docs = (await tx.query<{ id: string; account_id: string }>('SELECT id, account_id FROM documents')).rows
        return { setting, docs }
      })
      expect(seen.setting).toBe(self.account)
      expect(seen.docs.map((d) => d.account_id)).toEqual(self.documents.map(() => self.account))
      expect(seen.docs.map((d) => d.id).sort()).toEqual([...self.documents].sort())
      expect(await leftovers(db)).toEqual(CLEAN)
    }))
  })

  const failures: [string, (tx: Tx) => Promise<unknown>, object][] = [
    ['throws in JavaScript', async () => { throw new Error('boom') }, { message: 'boom' }],
    ['fails in SQL', (tx) => tx.query('SELECT 1 / 0'), { code: '22012' }], // leaves the transaction aborted
  ]
  it.each(failures)('rolls back a transaction whose fn %s and leaves no context behind', async (_, fail, error) => {
    const { db, A } = get()
    const doc = randomUUID()
    let inserted = 0
    const attempt = db.withTenant({ accountId: A.account }, async (tx) => {
      inserted = (await tx.query("INSERT INTO documents (id, account_id, workspace_id, created_by, title, body) SELECT $1, account_id, workspace_id, created_by, 'lost', 'b' FROM documents WHERE id = $2",
        [doc, A.documents[0]])).rowCount
      return fail(tx)
    })
    await expect(attempt).rejects.toMatchObject(error)
    expect(inserted).toBe(1)
    expect(await leftovers(db)).toEqual(CLEAN)
    const after = await db.withTenant({ accountId: A.account }, (tx) => tx.query('SELECT id FROM documents WHERE id = $1', [doc]))
    expect(after.rows).toEqual([])
  })

  it('does not carry a session-level set_config smuggled into one transaction', async () => {
    const { db, A, B } = get()
    await db.withTenant({ accountId: A.account }, (tx) => tx.query("SELECT set_config('app.account_id', $1, false)", [B.account]))
    expect(await leftovers(db)).toEqual(CLEAN)
    const seen = await db.withTenant({ accountId: A.account }, (tx) => tx.query<{ account_id: string }>('SELECT DISTINCT account_id FROM documents'))
    expect(seen.rows).toEqual([{ account_id: A.account }])
  })
}

describe.each(await availableDrivers())('pool hygiene on %s', (driver) => {
  let tdb: TestDatabase
  let A: Tenant
  let B: Tenant
  beforeAll(async () => {
    tdb = await createTestDatabase(driver)
    A = await seedTenant(tdb.db, 'a')
    B = await seedTenant(tdb.db, 'b')
  })
  afterAll(() => tdb?.drop())

  hygiene(() => ({ db: tdb.db, A, B }))

  describe.skipIf(driver !== 'pg')('with a pool of one connection', () => {
    let single: Database
    beforeAll(async () => {
      single = await createPgDatabase({ url: tdb.url!, poolSize: 1 })
    })
    afterAll(() => single?.close())

    it('reuses one connection for every call', async () => {
      const pids = await Promise.all(Array.from({ length: 10 }, (_, i) =>
        single.withTenant({ accountId: (i % 2 ? A : B).account }, async (tx) => (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid)))
      expect(new Set(pids).size).toBe(1)
    })

    hygiene(() => ({ db: single, A, B }))
  })

  describe.skipIf(driver !== 'pg')('when Postgres terminates an idle connection', () => {
    it('the pool discards it with a warning (no crash of the process) and the next call gets a fresh one', async () => {
      const warnings: string[] = []
      const db = await createPgDatabase({ url: tdb.url!, poolSize: 1, warn: (m) => warnings.push(m) })
      try {
        const pid = await db.withTenant({ accountId: A.account }, async (tx) => (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid)
        // The connection is idle in the pool now; kill it from another session, as a restart or a DROP … WITH (FORCE) would.
        const killer = new pg.Client({ connectionString: tdb.url! })
        await killer.connect()
        await killer.query('SELECT pg_terminate_backend($1)', [pid]).finally(() => killer.end())
        await expect.poll(() => warnings.some((w) => w.includes('idle Postgres connection failed'))).toBe(true)
        const again = await db.withTenant({ accountId: A.account }, async (tx) => (await tx.query<{ pid: number; n: number }>('SELECT pg_backend_pid() AS pid, (SELECT count(*)::int FROM documents) AS n')).rows[0]!)
        expect(again.pid).not.toBe(pid)
        expect(again.n).toBe(A.documents.length)
      } finally {
        await db.close()
      }
    })
  })
})
