import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Tx } from './db.js'

const dir = fileURLToPath(new URL('./migrations/', import.meta.url))

/** The migrations in order: `000_roles.sql` is cluster-level and runs every time (idempotent). */
export function migrationFiles(): { version: string; sql: string }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => ({ version: f.replace(/\.sql$/, ''), sql: readFileSync(dir + f, 'utf8') }))
}

/**
 * Applies pending migrations through `exec`, a function that runs one multi-statement script in its
 * own transaction on the administrative connection. Both drivers share this; the SQL is the same.
 */
export async function migrate(
  exec: (sql: string) => Promise<void>,
  applied: () => Promise<Set<string>>,
): Promise<void> {
  const files = migrationFiles()
  const roles = files.find((f) => f.version.startsWith('000_'))
  if (roles) await exec(roles.sql)
  await exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
  )
  const done = await applied()
  for (const f of files) {
    if (f.version.startsWith('000_') || done.has(f.version)) continue
    await exec(`${f.sql}\n;RESET ROLE;\nINSERT INTO schema_migrations (version) VALUES ('${f.version}');`)
  }
}

/** Start-up guard: refuse to serve when the runtime role could read past RLS. */
export async function assertRuntimeRoleIsSafe(tx: Tx): Promise<void> {
  const role = await tx.query<{ rolsuper: boolean; rolbypassrls: boolean }>(
    "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'ta_runtime'",
  )
  const r = role.rows[0]
  if (!r) throw new Error('runtime role ta_runtime does not exist')
  if (r.rolsuper || r.rolbypassrls) throw new Error('refusing to start: runtime role ta_runtime can bypass row-level security')
  const owned = await tx.query<{ n: string }>(
    "SELECT count(*)::text AS n FROM pg_tables WHERE schemaname = 'public' AND tableowner = 'ta_runtime'",
  )
  if (owned.rows[0]?.n !== '0') throw new Error('refusing to start: runtime role ta_runtime owns tables')
  const open = await tx.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r'
        AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'account_id' AND NOT a.attisdropped)
        AND NOT (c.relrowsecurity AND c.relforcerowsecurity)`,
  )
  if (open.rows.length > 0) {
    throw new Error(`refusing to start: RLS not enabled and forced on ${open.rows.map((r) => r.relname).join(', ')}`)
  }
}
