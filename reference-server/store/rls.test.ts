import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { availableDrivers, createTestDatabase, type TestDatabase } from '../testing/databases.js'
import type { Database, Tx } from './db.js'

// Raw SQL through withTenant/withOwner, bypassing the application: RLS alone must hold the wall.
type Table = 'accounts' | 'workspaces' | 'users' | 'documents' | 'notes'
const TABLES: readonly Table[] = ['accounts', 'workspaces', 'users', 'documents', 'notes']
/** The column naming the tenant: an account's own id, every other table's account_id. */
const tenantColumn = (t: Table) => (t === 'accounts' ? 'id' : 'account_id')

interface Tenant {
  account: string
  workspace: string
  users: { id: string; email: string }[]
  documents: string[]
  notes: string[]
  refreshHash: string
}

/** A request of tenant `t`'s first user (the author of its notes): notes are private to their author under RLS too. */
const asAuthor = (t: Tenant) => ({ accountId: t.account, userId: t.users[0]!.id })

const idsOf = (t: Tenant, table: Table): string[] =>
  ({ accounts: [t.account], workspaces: [t.workspace], users: t.users.map((u) => u.id), documents: t.documents, notes: t.notes })[table]

async function seedTenant(db: Database, name: string): Promise<Tenant> {
  const t: Tenant = {
    account: randomUUID(), workspace: randomUUID(), documents: [randomUUID(), randomUUID()], notes: [randomUUID(), randomUUID()],
    users: [0, 1].map((i) => ({ id: randomUUID(), email: `${name}-${i}-${randomUUID()}@example.test` })), refreshHash: `hash-${randomUUID()}`,
  }
  await db.withTenant({ platformRole: 'platform_admin' }, async (tx) => {
    await tx.query('INSERT INTO accounts (id, name) VALUES ($1, $2)', [t.account, name])
    await tx.query("INSERT INTO workspaces (id, account_id, name, environment) VALUES ($1, $2, 'main', 'production')", [t.workspace, t.account])
    for (const u of t.users) {
      await tx.query("INSERT INTO users (id, account_id, workspace_id, email, password_hash, role) VALUES ($1, $2, $3, $4, 'x', 'editor')",
        [u.id, t.account, t.workspace, u.email])
    }
  })
  await db.withTenant(asAuthor(t), async (tx) => {
    for (const id of t.documents) await tx.query(...insertRow('documents', t, id))
    for (const id of t.notes) await tx.query(...insertRow('notes', t, id))
  })
  const family = randomUUID()
  await db.withTenant({ refreshFamily: family }, (tx) => tx.query(
    "INSERT INTO refresh_tokens (token_hash, family_id, user_id, account_id, expires_at) VALUES ($1, $2, $3, $4, now() + interval '1 hour')",
    [t.refreshHash, family, t.users[0]!.id, t.account]))
  return t
}

/** One INSERT of a row belonging to tenant `t` (ids fresh unless given). */
function insertRow(table: Table, t: Tenant, id: string = randomUUID()): [string, unknown[]] {
  const author = t.users[0]!.id
  switch (table) {
    case 'accounts': return ['INSERT INTO accounts (id, name) VALUES ($1, $2)', [id, 'intruder']]
    case 'workspaces': return ["INSERT INTO workspaces (id, account_id, name, environment) VALUES ($1, $2, 'w', 'staging')", [id, t.account]]
    case 'users': return ["INSERT INTO users (id, account_id, workspace_id, email, password_hash, role) VALUES ($1, $2, $3, $4, 'x', 'viewer')",
      [id, t.account, t.workspace, `${id}@example.test`]]
    case 'documents': return ["INSERT INTO documents (id, account_id, workspace_id, created_by, title, body) VALUES ($1, $2, $3, $4, 'doc', 'body')",
      [id, t.account, t.workspace, author]]
    case 'notes': return ["INSERT INTO notes (id, account_id, workspace_id, author_id, title, body) VALUES ($1, $2, $3, $4, 'note', 'body')",
      [id, t.account, t.workspace, author]]
  }
}

const rowsOf = (tx: Tx, table: Table) => tx.query<{ id: string; tenant: string }>(`SELECT id, ${tenantColumn(table)} AS tenant FROM ${table}`)
const RLS_VIOLATION = { code: '42501', message: expect.stringMatching(/row-level security/) }

describe.each(await availableDrivers())('row-level security on %s', (driver) => {
  let tdb: TestDatabase
  let db: Database
  let A: Tenant
  let B: Tenant
  beforeAll(async () => {
    tdb = await createTestDatabase(driver)
    db = tdb.db
    A = await seedTenant(db, 'a')
    B = await seedTenant(db, 'b')
  })
  afterAll(() => tdb?.drop())

  it.each(TABLES)('tenant A reads only its own %s', async (table) => {
    const { rows } = await db.withTenant(asAuthor(A), (tx) => rowsOf(tx, table))
    expect(rows.map((r) => r.tenant)).toEqual(rows.map(() => A.account))
    expect(rows.map((r) => r.id).sort()).toEqual([...idsOf(A, table)].sort())
    for (const id of idsOf(B, table)) expect(rows.map((r) => r.id)).not.toContain(id)
  })

  it.each(TABLES)('tenant A cannot insert a %s row for B (42501)', async (table) => {
    await expect(db.withTenant(asAuthor(A), (tx) => tx.query(...insertRow(table, B)))).rejects.toMatchObject(RLS_VIOLATION)
  })

  it.each(TABLES)("tenant A updates and deletes none of B's %s rows", async (table) => {
    const col = tenantColumn(table)
    const counts = await db.withTenant(asAuthor(A), async (tx) => [
      (await tx.query(`UPDATE ${table} SET created_at = now() WHERE ${col} = $1`, [B.account])).rowCount,
      (await tx.query(`DELETE FROM ${table} WHERE ${col} = $1`, [B.account])).rowCount,
    ])
    expect(counts).toEqual([0, 0])
    const still = await db.withTenant(asAuthor(B), (tx) => rowsOf(tx, table))
    expect(still.rows.map((r) => r.id).sort()).toEqual([...idsOf(B, table)].sort())
  })

  it("a peer in the author's own account and workspace sees, changes and writes none of the author's notes (issue 13 s4)", async () => {
    const peer = { accountId: A.account, workspaceId: A.workspace, userId: A.users[1]!.id }
    // The application's author filter left out, as a query that forgot it would run.
    const seen = await db.withTenant(peer, async (tx) => ({
      all: (await tx.query('SELECT id FROM notes')).rows,
      byId: (await tx.query('SELECT id FROM notes WHERE id = ANY($1::uuid[])', [A.notes])).rows,
      updated: (await tx.query("UPDATE notes SET body = 'peer' WHERE account_id = $1", [A.account])).rowCount,
      deleted: (await tx.query('DELETE FROM notes WHERE account_id = $1', [A.account])).rowCount,
    }))
    expect(seen).toEqual({ all: [], byId: [], updated: 0, deleted: 0 })
    // Nor may a note be written in the author's name.
    await expect(db.withTenant(peer, (tx) => tx.query(...insertRow('notes', A)))).rejects.toMatchObject(RLS_VIOLATION)
    // The author still sees every one of them, untouched; an account context without a user sees none.
    const own = await db.withTenant(asAuthor(A), (tx) => tx.query<{ id: string; body: string }>('SELECT id, body FROM notes'))
    expect(own.rows.map((r) => r.id).sort()).toEqual([...A.notes].sort())
    expect(own.rows.map((r) => r.body)).toEqual(A.notes.map(() => 'body'))
    expect((await db.withTenant({ accountId: A.account }, (tx) => tx.query('SELECT id FROM notes'))).rows).toEqual([])
  })

  it.each(TABLES.filter((t) => t !== 'accounts'))('tenant A cannot move a %s row to B (42501)', async (table) => {
    const move = (tx: Tx) => tx.query(`UPDATE ${table} SET account_id = $1 WHERE id = $2`, [B.account, idsOf(A, table)[0]])
    await expect(db.withTenant(asAuthor(A), move)).rejects.toMatchObject(RLS_VIOLATION)
  })

  describe.each([
    ['no tenant set', (fn: (tx: Tx) => Promise<unknown>) => db.withTenant({}, fn)],
    ['the owner (FORCE RLS)', (fn: (tx: Tx) => Promise<unknown>) => db.withOwner(fn)],
  ] as const)('with %s', (_, run) => {
    it.each(TABLES)('sees no %s rows and cannot insert one', async (table) => {
      expect(await run(async (tx) => (await rowsOf(tx, table)).rows)).toEqual([])
      await expect(run((tx) => tx.query(...insertRow(table, A)))).rejects.toMatchObject(RLS_VIOLATION)
    })
  })

  it('returns only the current tenant\'s rows for any query (property)', async () => {
    const queries: Record<string, (table: Table, other: Tenant) => [string, unknown[]]> = {
      all: (t) => [`SELECT * FROM ${t}`, []],
      'other tenant by column': (t, o) => [`SELECT * FROM ${t} WHERE ${tenantColumn(t)} = $1`, [o.account]],
      'other tenant by ids': (t, o) => [`SELECT * FROM ${t} WHERE id = ANY($1::uuid[])`, [idsOf(o, t)]],
      'tautology': (t, o) => [`SELECT * FROM ${t} WHERE ${tenantColumn(t)} = $1 OR true`, [o.account]],
      newest: (t) => [`SELECT * FROM ${t} ORDER BY created_at DESC LIMIT 3`, []],
    }
    const property = fc.asyncProperty(fc.boolean(), fc.constantFrom(...TABLES), fc.constantFrom(...Object.keys(queries)),
      async (isA, table, query) => {
        const [self, other] = isA ? [A, B] : [B, A]
        const { rows } = await db.withTenant(asAuthor(self), (tx) => tx.query<Record<string, string>>(...queries[query]!(table, other)))
        for (const row of rows) {
          expect(row[tenantColumn(table)]).toBe(self.account)
          expect(idsOf(self, table)).toContain(row.id)
        }
      })
    await fc.assert(property, { numRuns: 30 })
  })

  it('a login context sees only the user row of that email', async () => {
    const user = A.users[1]!
    const seen = await db.withTenant({ loginEmail: user.email }, async (tx) => ({
      users: (await tx.query('SELECT id, email FROM users')).rows,
      documents: (await tx.query('SELECT id FROM documents')).rows,
      accounts: (await tx.query('SELECT id FROM accounts')).rows,
    }))
    expect(seen).toEqual({ users: [user], documents: [], accounts: [] })
  })

  it('a refresh-hash context sees only that token', async () => {
    const { rows } = await db.withTenant({ refreshHash: B.refreshHash }, (tx) => tx.query('SELECT token_hash, account_id FROM refresh_tokens'))
    expect(rows).toEqual([{ token_hash: B.refreshHash, account_id: B.account }])
  })

  describe('catalogue', () => {
    it('forces RLS, with at least one policy, on every table that carries a tenant', async () => {
      const { rows } = await db.withTenant({}, (tx) => tx.query<{ relname: string; rls: boolean; forced: boolean; policies: number }>(
        `SELECT c.relname, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
                (SELECT count(*)::int FROM pg_policies p WHERE p.schemaname = 'public' AND p.tablename = c.relname) AS policies
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind = 'r' AND (c.relname = 'accounts' OR EXISTS (
                SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'account_id' AND NOT a.attisdropped))`))
      expect(rows.map((r) => r.relname)).toEqual(expect.arrayContaining([...TABLES, 'refresh_tokens']))
      for (const r of rows) {
        expect(r, r.relname).toMatchObject({ rls: true, forced: true })
        expect(r.policies, r.relname).toBeGreaterThan(0)
      }
    })

    it('writes every policy fail-closed, with a WITH CHECK on every write command', async () => {
      const { rows } = await db.withTenant({}, (tx) => tx.query<{ policyname: string; cmd: string; qual: string | null; with_check: string | null }>(
        "SELECT policyname, cmd, qual, with_check FROM pg_policies WHERE schemaname = 'public'"))
      expect(rows.length).toBeGreaterThan(0)
      for (const p of rows) {
        // '' (an unset setting after first use in a session) must mean "no tenant", never a cast error or a match.
        expect(p.qual ?? p.with_check, p.policyname).toContain('NULLIF(current_setting(')
        if (p.cmd !== 'SELECT' && p.cmd !== 'DELETE') expect(p.with_check, p.policyname).toContain('NULLIF(current_setting(')
      }
    })

    it('runs as ta_runtime, which cannot bypass RLS and owns nothing', async () => {
      const { rows } = await db.withTenant(asAuthor(A), (tx) => tx.query(
        `SELECT current_user AS role, r.rolsuper, r.rolbypassrls,
                (SELECT count(*)::int FROM pg_class c WHERE c.relowner = r.oid) AS owned
           FROM pg_roles r WHERE r.rolname = 'ta_runtime'`))
      expect(rows).toEqual([{ role: 'ta_runtime', rolsuper: false, rolbypassrls: false, owned: 0 }])
    })
  })
})
