import pg from 'pg'
import { type Database, type TenantContext, type Tx, tenantSettings, SET_CONTEXT_SQL, RUNTIME_ROLE, OWNER_ROLE } from './db.js'
import { migrate, assertRuntimeRoleIsSafe } from './migrate.js'

export interface PgOptions {
  /** Administrative connection: runs migrations. Requests use it too unless `runtimeUrl` is given. */
  url: string
  /** A connection without administrative rights (e.g. the `ta_login` role) for requests. */
  runtimeUrl?: string
  /**
   * Without `runtimeUrl`, try the same server and database as `ta_login` (it works wherever that role
   * may log in, e.g. trust or peer auth); fall back to the administrative connection with a warning.
   */
  deriveRuntime?: boolean
  poolSize?: number
  warn?: (message: string) => void
}

export function asLoginRole(url: string, role = 'ta_login'): string {
  const u = new URL(url)
  u.username = role
  u.password = ''
  return u.toString()
}

async function canConnect(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 })
  try {
    await c.connect()
    await c.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await c.end().catch(() => undefined)
  }
}

/** Distinct statement texts named (prepared once per connection, then only bound and executed); bounded. */
const MAX_NAMED_STATEMENTS = 512
const statementNames = new Map<string, string>()

/**
 * The name of a parameterised statement: the same text always gets the same name, in every pool and
 * connection. Statement texts come from the code (values are parameters, never spliced in), so the set
 * is small; past the bound a text simply runs unnamed.
 */
function statementName(sql: string): string | undefined {
  let name = statementNames.get(sql)
  if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) statementNames.set(sql, (name = `ta_${statementNames.size}`))
  return name
}

function wrap(client: pg.PoolClient): Tx {
  return {
    async query<R>(sql: string, params: readonly unknown[] = []) {
      const name = params.length > 0 ? statementName(sql) : undefined
      const res = await client.query(name ? { name, text: sql, values: params as unknown[] } : { text: sql, values: params as unknown[] })
      return { rows: res.rows as R[], rowCount: res.rowCount ?? res.rows.length }
    },
  }
}

async function inTransaction<T>(pool: pg.Pool, role: string, ctx: TenantContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken = false
  // The pools pipeline (`pipeline: true`): BEGIN, the tenant context, the role switch and fn's first
  // statements leave in one round trip, in this order. Each is its own Sync inside the open
  // transaction block, so if any of them fails, every statement after it fails too ("current
  // transaction is aborted"): nothing runs without its context or its role.
  // Corked until fn has issued its first statements (synchronously, up to its first await): one write.
  const stream = (client as unknown as { connection?: { stream?: { cork?(): void; uncork?(): void } } }).connection?.stream
  stream?.cork?.()
  const setup = Promise.all([
    client.query('BEGIN'),
    client.query({ name: statementName(SET_CONTEXT_SQL), text: SET_CONTEXT_SQL, values: tenantSettings(ctx).map(([, v]) => v) }),
    client.query(`SET LOCAL ROLE ${role}`),
  ])
  setup.catch(() => undefined) // awaited below, on both paths
  try {
    let pending: Promise<T>
    try {
      pending = fn(wrap(client))
    } finally {
      stream?.uncork?.()
    }
    const result = await pending
    await setup
    await client.query('COMMIT')
    return result
  } catch (err) {
    // The first failure is the one to report: a statement behind a failed set-up only saw the abort.
    const first = await setup.then(() => undefined, (e: unknown) => e)
    await client.query('ROLLBACK').catch(() => (broken = true))
    throw first ?? err
  } finally {
    // A connection whose rollback failed is discarded, never handed to the next request.
    client.release(broken)
  }
}

/** The real-Postgres driver (`DATABASE_URL`). Migrates, then refuses to start if RLS could be bypassed. */
export async function createPgDatabase(opts: PgOptions): Promise<Database> {
  // An idle pooled connection can fail at any time (a Postgres restart, a terminated backend, a dropped
  // database): pg emits that on the pool, and an unhandled 'error' event would end the process. The
  // pool discards the broken client; the next request gets a fresh one.
  const idleError = (err: Error) => opts.warn?.(`an idle Postgres connection failed and was discarded: ${err.message}`)
  const admin = new pg.Pool({ connectionString: opts.url, max: 2, pipeline: true }).on('error', idleError)
  let runtimeUrl = opts.runtimeUrl
  let runtime = admin
  try {
    await migrate(
      async (sql) => {
        const c = await admin.connect()
        try {
          await c.query('BEGIN')
          await c.query(sql)
          await c.query('COMMIT')
        } catch (err) {
          await c.query('ROLLBACK').catch(() => undefined)
          throw err
        } finally {
          c.release()
        }
      },
      async () => new Set((await admin.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version)),
    )
    await inTransaction(admin, RUNTIME_ROLE, {}, (tx) => assertRuntimeRoleIsSafe(tx))
    if (!runtimeUrl && opts.deriveRuntime) {
      const candidate = asLoginRole(opts.url)
      if (await canConnect(candidate)) runtimeUrl = candidate
      else opts.warn?.('requests run on the administrative connection: set DATABASE_RUNTIME_URL to a login that is only a member of ta_runtime (e.g. ta_login)')
    }
    if (runtimeUrl) runtime = new pg.Pool({ connectionString: runtimeUrl, max: opts.poolSize ?? 10, pipeline: true }).on('error', idleError)
    else admin.options.max = opts.poolSize ?? 10
  } catch (err) {
    await admin.end()
    if (runtime !== admin) await runtime.end()
    throw err
  }
  return {
    kind: 'pg',
    withTenant: (ctx, fn) => inTransaction(runtime, RUNTIME_ROLE, ctx, fn),
    withOwner: (fn) => inTransaction(admin, OWNER_ROLE, {}, fn),
    async close() {
      await admin.end()
      if (runtime !== admin) await runtime.end()
    },
  }
}
