import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Migrates PGlite once for the whole run and leaves the image in a file every worker clones from
 * (`loadDataDir`: well under a second, against ~5 s to start and migrate a fresh instance).
 */
export default async function setup(): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'tenant-audit-'))
  process.env.TA_PGLITE_TEMPLATE = join(dir, 'pglite-template.tar')
  const { pgliteTemplate } = await import('../reference-server/store/pglite.js')
  await pgliteTemplate()
  return () => rmSync(dir, { recursive: true, force: true })
}
