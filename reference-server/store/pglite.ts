import { PGlite, protocol, type PGliteOptions } from '@electric-sql/pglite'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { existsSync, readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Database, type TenantContext, type Tx, tenantSettings, SET_CONTEXT_SQL, RUNTIME_ROLE, OWNER_ROLE } from './db.js'
import { migrate, migrationFiles, assertRuntimeRoleIsSafe } from './migrate.js'
import { bind, concat, DESCRIBE_PORTAL, EXECUTE, lastResult, SYNC, type WireResult } from './pglite-wire.js'

type PgliteTx = Pick<PGlite, 'query' | 'exec'>

/** PGlite's own query path, for the owner's checks at start-up (outside the request path). */
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

/** Distinct statement texts prepared by name per database (then only bound and executed); bounded like the pg driver's. */
const MAX_NAMED_STATEMENTS = 512

/**
 * Named statements of one PGlite instance (one session). A name is marked prepared only after a batch
 * that parsed it succeeded; until then every batch closes the name first (closing a missing statement
 * is no error), so a Parse that did run in a batch that failed later cannot collide with the next one.
 */
class Statements {
  private readonly names = new Map<string, string>()
  private readonly prepared = new Set<string>()

  /** Parse (when not yet prepared) + Bind + Describe portal + Execute, against the statement's name when it has one. */
  messages(sql: string, values: (string | null)[], parsed: string[]): Uint8Array[] {
    let name = this.names.get(sql)
    if (name === undefined && this.names.size < MAX_NAMED_STATEMENTS) this.names.set(sql, (name = `ta_${this.names.size}`))
    const out: Uint8Array[] = []
    if (name === undefined || !this.prepared.has(name)) {
      if (name !== undefined) {
        out.push(serialize.close({ type: 'S', name }))
        parsed.push(name)
      }
      out.push(serialize.parse({ name, text: sql }))
    }
    out.push(bind(name ?? '', values), DESCRIBE_PORTAL, EXECUTE)
    return out
  }

  done(parsed: string[]): void {
    for (const name of parsed) this.prepared.add(name)
  }
}

/**
 * Parameters this path binds as text and lets the server type, exactly as PGlite's own serialisers
 * would send them for the types they are used with (uuid, text, json given a string, integers,
 * booleans); anything else (objects, dates, bigints, bytes) goes through PGlite's `query`.
 */
function textValues(params: readonly unknown[]): (string | null)[] | undefined {
  const out: (string | null)[] = []
  for (const v of params) {
    if (v === null || v === undefined) out.push(null)
    else if (typeof v === 'string') out.push(v)
    else if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') out.push(String(v))
    else return undefined
  }
  return out
}

/**
 * A request's transaction on PGlite. Each statement is one call into PGlite (Parse once per text, then
 * Bind, Describe, Execute and Sync in one protocol batch) instead of PGlite's six (parse, describe,
 * bind, describe, execute, sync) with a re-parse every time. The tenant context and the role switch
 * are not sent on their own: they lead the batch of the transaction's first statement, in order,
 * before it; an error in either skips everything after it in the batch (the server discards the
 * rest up to the Sync), throws, and the transaction rolls back. Calls are serialised on PGlite's
 * query lock, so statements a handler starts together cannot interleave.
 */
function requestTx(db: PGlite, statements: Statements, tx: PgliteTx, setup: Uint8Array[]): Tx {
  let pending: Uint8Array[] | undefined = setup
  const flushSetup = async () => {
    if (!pending) return
    const parts = pending
    pending = undefined
    await exec(db, concat([...parts, SYNC]))
  }
  return {
    async query<R>(sql: string, params: readonly unknown[] = []) {
      const values = textValues(params)
      if (!values) {
        await flushSetup()
        const res = await tx.query<R>(sql, params as unknown[])
        return { rows: res.rows, rowCount: Math.max(res.affectedRows ?? 0, res.rows.length) }
      }
      const parsed: string[] = []
      const parts = pending ?? []
      pending = undefined
      const res = await exec<R>(db, concat([...parts, ...statements.messages(sql, values, parsed), SYNC]))
      statements.done(parsed)
      return res
    },
  }
}

/**
 * Runs one protocol batch on PGlite's query lock and reads its raw answer (`pglite-wire.ts`): the last
 * statement's rows, or the batch's first error thrown. PGlite hands its output over in pieces that are
 * views of its memory, so each is copied as it comes.
 */
async function exec<R>(db: PGlite, batch: Uint8Array): Promise<WireResult<R>> {
  const chunks: Uint8Array[] = []
  await db.runExclusive(() => db.execProtocolRawStream(batch, { syncToFs: false, onRawData: (chunk) => void chunks.push(chunk.slice()) }))
  return lastResult<R>(chunks.length === 1 ? chunks[0]! : concat(chunks), db.parsers)
}

/**
 * Parse/Bind/Execute of SET_CONTEXT_SQL (text parameters; described, so its row parses like any result)
 * and of SET LOCAL ROLE; the Sync comes with the first statement.
 */
function setUpMessages(ctx: TenantContext, role: string): Uint8Array[] {
  return [
    serialize.parse({ text: SET_CONTEXT_SQL }), bind('', tenantSettings(ctx).map(([, v]) => v)), DESCRIBE_PORTAL, EXECUTE,
    serialize.parse({ text: `SET LOCAL ROLE ${role}` }), bind('', []), EXECUTE,
  ]
}

let template: Promise<Blob> | undefined
type Artifacts = Pick<PGliteOptions, 'pgliteWasmModule' | 'initdbWasmModule' | 'fsBundle' | 'postgresqlconf'>

/**
 * A smaller buffer pool than Postgres's default 128 MB: PGlite sets up the whole pool as it starts
 * (half of an instance's start-up, ~0.5 s here), and the reference server's database is a few MB
 * (pages beyond it are read from PGlite's in-memory file system, not a disk). The WAL buffers stay
 * what the default pool gave them (1/32 of it, 4 MB): every request that is refused appends an event.
 */
const PGLITE_CONF = ['shared_buffers = 32MB', 'wal_buffers = 4MB']
/**
 * initdb's options for a new PGlite data directory (the migrated image, a persisted `dataDir`): WAL
 * segments of 1 MB, not 16: the image carries one whole segment, which every instance loads and
 * writes into its file system as it starts (the image 41 -> 31 MB, ~0.1 s of each start here).
 */
const PGLITE_INITDB = ['--wal-segsize=1']
let artifacts: Promise<Artifacts> | undefined

/**
 * PGlite's WebAssembly modules (compiled) and file-system bundle, read once per process and handed to
 * every instance (its documented options for preloaded artifacts): each instance otherwise reads and
 * compiles them again, ~0.3 s of every server start, and a test run or a fault self-audit chain starts
 * many. With them, the settings every instance starts with (PGLITE_CONF).
 */
function pgliteArtifacts(): Promise<Artifacts> {
  artifacts ??= (async () => {
    const resolve = createRequire(import.meta.url).resolve
    const [pglite, initdb, bundle] = await Promise.all(['pglite.wasm', 'initdb.wasm', 'pglite.data'].map((f) => readFile(resolve(`@electric-sql/pglite/${f}`))))
    // The global WebAssembly (the project's type libraries declare its types, not the value).
    const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WebAssembly.Module> } }).WebAssembly
    const [pgliteWasmModule, initdbWasmModule] = await Promise.all([wasm.compile(pglite!), wasm.compile(initdb!)])
    return { pgliteWasmModule, initdbWasmModule, fsBundle: new Blob([bundle!]), postgresqlconf: PGLITE_CONF }
  })()
  artifacts.catch(() => (artifacts = undefined)) // a failed read is tried again, not remembered
  return artifacts
}

/**
 * Where a migrated image is kept between runs: `node_modules/.cache/tenant-audit/`, named by a hash
 * of PGlite's version, initdb's options and every migration's text, so a changed migration or an
 * upgraded PGlite makes a new image and a stale one is never loaded. `TA_PGLITE_TEMPLATE` (the test setup's file) wins.
 */
function templateFile(): string {
  if (process.env.TA_PGLITE_TEMPLATE) return process.env.TA_PGLITE_TEMPLATE
  // PGlite does not export its package.json: the resolved entry's path names the installed copy, its text the version.
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite')
  return fileURLToPath(new URL(`../../node_modules/.cache/tenant-audit/${templateName(`${entry}${readFileSync(entry, 'utf8')}\0${PGLITE_INITDB.join(' ')}`, migrationFiles())}`, import.meta.url))
}

/** The cached image's file name: a hash of the PGlite build and of every migration's name and text. */
export function templateName(pglite: string, migrations: { version: string; sql: string }[]): string {
  const hash = createHash('sha256').update(pglite)
  for (const f of migrations) hash.update(`\0${f.version}\0${f.sql}`)
  return `pglite-${hash.digest('hex').slice(0, 16)}.tar`
}

/**
 * A migrated, empty database image. Starting and migrating PGlite costs seconds; loading this image
 * costs well under one, so every server, test and fault run clones it, and `tenant-audit run` after
 * the first one starts its embedded server from the image kept on disk (templateFile).
 */
export function pgliteTemplate(): Promise<Blob> {
  template ??= (async () => {
    const file = templateFile()
    if (existsSync(file)) return new Blob([await readFile(file)])
    const db = await PGlite.create({ ...(await pgliteArtifacts()), initDbStartParams: PGLITE_INITDB })
    await migratePglite(db)
    const image = await db.dumpDataDir('none')
    await db.close()
    // Written whole under another name and renamed: a concurrent reader sees no image or all of it.
    // An unwritable cache only costs the next run its migration.
    const bytes = Buffer.from(await image.arrayBuffer())
    const partial = `${file}.${process.pid}.partial`
    await mkdir(dirname(file), { recursive: true })
      .then(() => writeFile(partial, bytes))
      .then(() => rename(partial, file))
      .then(() => (process.env.TA_PGLITE_TEMPLATE ? undefined : pruneImages(dirname(file), basename(file))))
      .catch(() => rm(partial, { force: true }).catch(() => undefined)) // a half-written image is never read: only disk
    return image
  })()
  return template
}

/**
 * Removes the cached images in `dir` other than `keep` (a migration, a PGlite upgrade or initdb's options
 * make a new one under another name; the old ones would stay, ~30-40 MB each). Only files named as
 * templateName names them: a concurrent writer's partial file is left alone.
 */
export async function pruneImages(dir: string, keep: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name !== keep && /^pglite-[0-9a-f]{16}\.tar$/.test(name)) await rm(join(dir, name), { force: true }).catch(() => undefined)
  }
}

export interface PgliteOptions {
  /** Persist to this directory (migrated in place); in memory from the template when absent. */
  dataDir?: string
}

/** The embedded, zero-setup driver. */
export async function createPgliteDatabase(opts: PgliteOptions = {}): Promise<Database> {
  let db: PGlite
  if (opts.dataDir) {
    db = await PGlite.create({ ...(await pgliteArtifacts()), dataDir: opts.dataDir, initDbStartParams: PGLITE_INITDB })
    await migratePglite(db)
  } else {
    db = await PGlite.create({ ...(await pgliteArtifacts()), loadDataDir: await pgliteTemplate() })
  }
  await db.transaction(async (tx) => assertRuntimeRoleIsSafe(wrap(tx)))
  const statements = new Statements()
  const run = <T>(role: string, ctx: TenantContext, fn: (tx: Tx) => Promise<T>) =>
    // PGlite is one connection: its transaction() API (BEGIN and COMMIT or ROLLBACK), never BEGIN as text.
    db.transaction(async (tx) => fn(requestTx(db, statements, tx, setUpMessages(ctx, role))))
  return {
    kind: 'pglite',
    withTenant: (ctx, fn) => run(RUNTIME_ROLE, ctx, fn),
    withOwner: (fn) => run(OWNER_ROLE, {}, fn),
    close: () => db.close(),
  }
}
