import { existsSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Database } from '../store/db.js'
import { createPgliteDatabase } from '../store/pglite.js'
import { asLoginRole, createPgDatabase } from '../store/pg.js'

export type DriverName = 'pglite' | 'pg'

let containerUrl: Promise<string | undefined> | undefined

/** A Docker engine answers only where its socket exists; checking the file is instant, unlike a connect timeout. */
function dockerAvailable(): boolean {
  if (process.env.DOCKER_HOST) return true
  return existsSync('/var/run/docker.sock')
}

/** Starts a throwaway Postgres with testcontainers when a Docker engine exists; undefined otherwise. */
async function fromContainer(): Promise<string | undefined> {
  if (!dockerAvailable()) return undefined
  containerUrl ??= (async () => {
    try {
      const { GenericContainer, Wait } = await import('testcontainers')
      const c = await new GenericContainer('postgres:16-alpine')
        .withEnvironment({ POSTGRES_PASSWORD: 'postgres' })
        .withExposedPorts(5432)
        .withWaitStrategy(Wait.forLogMessage(/ready to accept connections/, 2))
        .start()
      return `postgres://postgres:postgres@${c.getHost()}:${c.getMappedPort(5432)}/postgres`
    } catch {
      return undefined
    }
  })()
  return containerUrl
}

/**
 * The administrative URL of a real Postgres for tests: `TEST_DATABASE_URL`, else `DATABASE_URL`, else a
 * testcontainers Postgres. Under `CI=true` a missing Postgres is a failure, never a skip.
 */
export async function postgresAdminUrl(): Promise<string | undefined> {
  const url = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? (await fromContainer())
  if (!url && process.env.CI === 'true') {
    throw new Error('CI=true but no Postgres: set TEST_DATABASE_URL or DATABASE_URL (the Postgres tests must run in CI)')
  }
  return url
}

/** The drivers this run tests: PGlite always, Postgres whenever one is reachable (always under CI). */
export async function availableDrivers(): Promise<DriverName[]> {
  return (await postgresAdminUrl()) ? ['pglite', 'pg'] : ['pglite']
}

export interface TestDatabase {
  driver: DriverName
  db: Database
  /** Postgres only: the URL of this run's own database (administrative), and one as `ta_login`. */
  url?: string
  runtimeUrl?: string
  drop(): Promise<void>
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = '/' + name
  return u.toString()
}

/** A fresh, migrated database of its own for one test file; `drop()` closes and removes it. */
export async function createTestDatabase(driver: DriverName): Promise<TestDatabase> {
  if (driver === 'pglite') {
    const db = await createPgliteDatabase()
    return { driver, db, drop: () => db.close() }
  }
  const admin = await postgresAdminUrl()
  if (!admin) throw new Error('no Postgres available for the pg driver')
  const name = `ta_test_${randomBytes(6).toString('hex')}`
  const client = new pg.Client({ connectionString: admin })
  await client.connect()
  await client.query(`CREATE DATABASE ${name}`)
  await client.end()
  const url = withDatabase(admin, name)
  const db = await createPgDatabase({ url })
  return {
    driver,
    db,
    url,
    runtimeUrl: asLoginRole(url),
    async drop() {
      await db.close()
      const c = new pg.Client({ connectionString: admin })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    },
  }
}
