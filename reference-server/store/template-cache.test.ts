import { describe, expect, it } from 'vitest'
import { migrationFiles } from './migrate.js'
import { templateName } from './pglite.js'

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
})
