import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { availableDrivers, createTestDatabase, type TestDatabase } from '../testing/databases.js'
import type { QueryResult, Tx } from './db.js'
import { assertRuntimeRoleIsSafe } from './migrate.js'
import { createPgDatabase } from './pg.js'

// PGlite is not a privilege boundary (its one session is a superuser), so these run on real Postgres only.
const hasPg = (await availableDrivers()).includes('pg')
const PERMISSION_DENIED = { code: '42501', message: expect.stringMatching(/permission denied/) }

describe.skipIf(!hasPg)('privileges of the login role on Postgres', () => {
  let tdb: TestDatabase
  const account = randomUUID()
  const workspace = randomUUID()
  const document = randomUUID()
  beforeAll(async () => {
    tdb = await createTestDatabase('pg')
    await tdb.db.withTenant({ platformRole: 'platform_admin' }, async (tx) => {
      await tx.query("INSERT INTO accounts (id, name) VALUES ($1, 'a')", [account])
      await tx.query("INSERT INTO workspaces (id, account_id, name, environment) VALUES ($1, $2, 'w', 'production')", [workspace, account])
    })
    await tdb.db.withTenant({ accountId: account }, (tx) => tx.query(
      "INSERT INTO documents (id, account_id, workspace_id, created_by, title, body) VALUES ($1, $2, $3, $4, 't', 'b')",
      [document, account, workspace, randomUUID()]))
  })
  afterAll(() => tdb?.drop())

  /** A fresh session as ta_login (the URL a deployment without administrative rights would use). */
  async function asLogin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: tdb.runtimeUrl })
    await client.connect()
    try {
      return await fn(client)
    } finally {
      await client.end()
    }
  }

  it('logs in as a plain role that has no table rights of its own (NOINHERIT)', async () => {
    await asLogin(async (c) => {
      const { rows } = await c.query("SELECT current_user AS role, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
      expect(rows).toEqual([{ role: 'ta_login', rolsuper: false, rolbypassrls: false }])
      await expect(c.query('SELECT id FROM documents')).rejects.toMatchObject(PERMISSION_DENIED)
    })
  })

  it.each(['ta_owner', 'ta_maintenance', 'postgres'])('cannot SET ROLE %s', async (role) => {
    await asLogin(async (c) => {
      await expect(c.query(`SET ROLE ${role}`)).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/permission denied to set role/) })
    })
  })

  it('as ta_runtime with no tenant set reads no documents', async () => {
    await asLogin(async (c) => {
      await c.query('SET ROLE ta_runtime') // this throwaway session only; the server never sets a session role
      const { rows } = await c.query('SELECT current_user AS role, (SELECT count(*)::int FROM documents) AS visible')
      expect(rows).toEqual([{ role: 'ta_runtime', visible: 0 }])
    })
  })

  describe('createPgDatabase through ta_login', () => {
    let db: Awaited<ReturnType<typeof createPgDatabase>>
    beforeAll(async () => {
      db = await createPgDatabase({ url: tdb.url!, runtimeUrl: tdb.runtimeUrl! })
    })
    afterAll(() => db?.close())

    it('serves the tenant its rows, as ta_runtime on a ta_login session', async () => {
      const seen = await db.withTenant({ accountId: account }, async (tx) => ({
        who: (await tx.query('SELECT current_user AS role, session_user AS login')).rows,
        docs: (await tx.query('SELECT id FROM documents')).rows,
      }))
      expect(seen).toEqual({ who: [{ role: 'ta_runtime', login: 'ta_login' }], docs: [{ id: document }] })
      const other = await db.withTenant({ accountId: randomUUID() }, (tx) => tx.query('SELECT id FROM documents'))
      expect(other.rows).toEqual([])
    })

    it('writes through ta_login under RLS', async () => {
      const id = randomUUID()
      await db.withTenant({ accountId: account }, (tx) => tx.query(
        "INSERT INTO documents (id, account_id, workspace_id, created_by, title, body) VALUES ($1, $2, $3, $4, 'new', 'b')",
        [id, account, workspace, randomUUID()]))
      const back = await db.withTenant({ accountId: account }, (tx) => tx.query('SELECT title FROM documents WHERE id = $1', [id]))
      expect(back.rows).toEqual([{ title: 'new' }])
    })

    it('gains nothing from RESET ROLE inside a transaction', async () => {
      // Any SQL may undo SET LOCAL ROLE; on a ta_login session that falls back to a role with no rights.
      const escape = db.withTenant({}, async (tx) => {
        await tx.query('RESET ROLE')
        return tx.query('SELECT id FROM documents')
      })
      await expect(escape).rejects.toMatchObject(PERMISSION_DENIED)
    })
  })

  it('passes the start-up guard on the real cluster', async () => {
    await expect(tdb.db.withTenant({}, (tx) => assertRuntimeRoleIsSafe(tx))).resolves.toBeUndefined()
  })
})

/** A Tx that answers the guard's three catalogue queries from canned rows (the real roles are shared). */
function catalogue(role: object[], ownedTables = '0', unforced: string[] = []): Tx {
  return {
    async query<R>(sql: string): Promise<QueryResult<R>> {
      const rows = sql.includes('FROM pg_roles') ? role
        : sql.includes('tableowner') ? [{ n: ownedTables }]
        : sql.includes('relforcerowsecurity') ? unforced.map((relname) => ({ relname }))
        : expect.unreachable(`unexpected query: ${sql}`)
      return { rows: rows as R[], rowCount: rows.length }
    },
  }
}

describe('assertRuntimeRoleIsSafe', () => {
  const safe = { rolsuper: false, rolbypassrls: false }

  it('accepts a plain runtime role', async () => {
    await expect(assertRuntimeRoleIsSafe(catalogue([safe]))).resolves.toBeUndefined()
  })

  it.each([
    ['can bypass RLS', [{ ...safe, rolbypassrls: true }], /bypass row-level security/],
    ['is a superuser', [{ ...safe, rolsuper: true }], /bypass row-level security/],
    ['does not exist', [], /does not exist/],
  ])('rejects a runtime role that %s', async (_, role, message) => {
    await expect(assertRuntimeRoleIsSafe(catalogue(role))).rejects.toThrow(message)
  })

  it('rejects a runtime role that owns tables', async () => {
    await expect(assertRuntimeRoleIsSafe(catalogue([safe], '1'))).rejects.toThrow(/owns tables/)
  })

  it('rejects a tenant table whose RLS is not forced, naming it', async () => {
    await expect(assertRuntimeRoleIsSafe(catalogue([safe], '0', ['documents']))).rejects.toThrow(/not enabled and forced on documents/)
  })
})
