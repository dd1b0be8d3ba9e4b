import { PGlite, protocol } from '@electric-sql/pglite'
import { readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { type Database, type TenantContext, type Tx, tenantSettings, SET_CONTEXT_SQL, RUNTIME_ROLE, OWNER_ROLE } from './db.js'
import { migrate, assertRuntimeRoleIsSafe } from './migrate.js'

type PgliteTx = Pick<PGlite, 'query' | 'exec'>

function wrap(tx: PgliteTx): Tx {
  return {
    async query<R>(sql: string, params: readonly unknown[] = []) {
      const res = await tx.query<R>(sql, params as unknown[])
      // PGlite reports affectedRows 0 for a SELECT: the row count is whichever is larger.
      return { rows: res.rows, rowCount: Math.max(res.affectedRows ?? 0, res.rows.length) }
    },
  }
}

async function migratePglite(db: PGlite): Promise<void> {
  await migrate(
    // PGlite is one connection: its transaction() API, never BEGIN sent as text.
    (sql) => db.transaction(async (tx) => void (await tx.exec(sql))),
    async () => {
      const res = await db.query<{ version: string }>('SELECT version FROM schema_migrations')
      return new Set(res.rows.map((r) => r.version))
    },
  )
}

const { serialize } = protocol

/** Parse/Bind/Execute of SET_CONTEXT_SQL (text parameters) and of SET LOCAL ROLE, then Sync. */
function setUpBatch(ctx: TenantContext, role: string): Uint8Array {
  const parts = [
    serialize.parse({ text: SET_CONTEXT_SQL }), serialize.bind({ values: tenantSettings(ctx).map(([, v]) => v) }), serialize.execute({}),
    serialize.parse({ text: `SET LOCAL ROLE ${role}` }), serialize.bind({ values: [] }), serialize.execute({}),
    serialize.sync(),
  ]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

let template: Promise<Blob> | undefined

/**
 * A migrated, empty database image. Starting and migrating PGlite costs seconds; loading this image
 * costs well under one, so every server, test and fault run clones it. `TA_PGLITE_TEMPLATE` names a
 * file the vitest global setup writes once for all workers.
 */
export function pgliteTemplate(): Promise<Blob> {
  template ??= (async () => {
    const file = process.env.TA_PGLITE_TEMPLATE
    if (file && existsSync(file)) return new Blob([await readFile(file)])
    const db = await PGlite.create()
    await migratePglite(db)
    const image = await db.dumpDataDir('none')
    await db.close()
    if (file) await writeFile(file, Buffer.from(await image.arrayBuffer()))
    return image
  })()
  return template
}

export interface PgliteOptions {
  /** Persist to this directory (migrated in place); in memory from the template when absent. */
  dataDir?: string
}

/** The embedded, zero-setup driver. */
export async function createPgliteDatabase(opts: PgliteOptions = {}): Promise<Database> {
  let db: PGlite
  if (opts.dataDir) {
    db = await PGlite.create({ dataDir: opts.dataDir })
    await migratePglite(db)
  } else {
    db = await PGlite.create({ loadDataDir: await pgliteTemplate() })
  }
  await db.transaction(async (tx) => assertRuntimeRoleIsSafe(wrap(tx)))
  const run = <T>(role: string, ctx: TenantContext, fn: (tx: Tx) => Promise<T>) =>
    db.transaction(async (tx) => {
      // The tenant context and the role switch in one call into PGlite (one protocol batch: parse,
      // bind and execute each, then one Sync) instead of a query and an exec: the same two statements,
      // in order, inside this transaction; an error in either throws and rolls the transaction back.
      await db.execProtocol(setUpBatch(ctx, role))
      return fn(wrap(tx))
    })
  return {
    kind: 'pglite',
    withTenant: (ctx, fn) => run(RUNTIME_ROLE, ctx, fn),
    withOwner: (fn) => run(OWNER_ROLE, {}, fn),
    close: () => db.close(),
  }
}
