import { randomUUID } from 'node:crypto'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { migrationFiles } from './migrate.js'
import { createPgliteDatabase, pruneImages, templateName } from './pglite.js'
import type { Database } from './db.js'

// The embedded server loads a migrated image kept on disk between runs: an image from an older
// migration or another PGlite build must never be loaded, so its name must change with either.
describe('the cached PGlite image is named by what built it', () => {
  const files = migrationFiles()
  const name = templateName('pglite 0.5.17', files)

  it('the same PGlite and migrations give the same name', () => {
    expect(templateName('pglite 0.5.17', migrationFiles())).toBe(name)
  })

  it('an edited migration gives another name', () => {
    const edited = files.map((f, i) => (i === files.length - 1 ? { ...f, sql: `${f.sql}\n-- changed` } : f))
    expect(templateName('pglite 0.5.17', edited)).not.toBe(name)
  })

  it('a new migration gives another name', () => {
    expect(templateName('pglite 0.5.17', [...files, { version: '999_next', sql: 'SELECT 1' }])).not.toBe(name)
  })

  it('another PGlite build gives another name', () => {
    expect(templateName('pglite 0.5.18', files)).not.toBe(name)
  })

  it('a new image removes the older ones beside it, and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ta-images-'))
    const other = templateName('pglite 0.5.16', files)
    for (const f of [name, other, `${name}.123.partial`, 'notes.txt']) writeFileSync(join(dir, f), 'x')
    await pruneImages(dir, name)
    expect(readdirSync(dir).sort()).toEqual([name, `${name}.123.partial`, 'notes.txt'].sort())
  })
})

// Every instance in a process shares one compiled PGlite module and file-system bundle (pglite.ts
// pgliteArtifacts): two databases started side by side must still be two databases.
describe('PGlite instances sharing the compiled module', () => {
  it('are separate databases: a row written in one is not in the other', { timeout: 60_000 }, async () => {
    const [a, b] = await Promise.all([createPgliteDatabase(), createPgliteDatabase()])
    try {
      const id = randomUUID()
      const admin = { platformRole: 'platform_admin' } as const
      await a.withTenant(admin, (tx) => tx.query("INSERT INTO accounts (id, name) VALUES ($1, 'only-in-a')", [id]))
      const count = (db: Database) => db.withTenant(admin, async (tx) => (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM accounts WHERE id = $1', [id])).rows[0]!.n)
      expect(await count(a)).toBe(1)
      expect(await count(b)).toBe(0)
      // Each started with the settings handed to every instance (pglite.ts PGLITE_CONF), not Postgres's 128 MB pool.
      const setting = (name: string) => a.withTenant(admin, async (tx) => (await tx.query<{ v: string }>('SELECT current_setting($1) AS v', [name])).rows[0]!.v)
      // And from an image made with 1 MB WAL segments (PGLITE_INITDB), which still takes writes past several of them.
      expect([await setting('shared_buffers'), await setting('wal_buffers'), await setting('wal_segment_size')]).toEqual(['32MB', '4MB', '1MB'])
      await a.withTenant(admin, (tx) => tx.query("INSERT INTO accounts (id, name) SELECT gen_random_uuid(), 'wal-' || g || repeat('x', 500) FROM generate_series(1, 20000) g"))
      expect(await a.withTenant(admin, async (tx) => (await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM accounts WHERE name LIKE 'wal-%'")).rows[0]!.n)).toBe(20000)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })
})
