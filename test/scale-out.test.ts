import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, postgresAdminUrl, type TestDatabase } from '../reference-server/testing/databases.js'
import { redisTestUrl } from '../reference-server/ratelimit/redis-testing.js'

/**
 * Scale-out: two reference-server processes (`tenant-audit serve`, real child processes) on one
 * Postgres database and one Redis. One account's quota is enforced across both: alternating
 * requests through the two processes are admitted exactly `burst` times in all, not per process.
 * Needs TEST_DATABASE_URL and TEST_REDIS_URL; under CI=true a missing one fails (never skips).
 */

const BIN = fileURLToPath(new URL('../bin/tenant-audit.js', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const pgUrl = await postgresAdminUrl()
const redisUrl = await redisTestUrl()
const EMAIL = 'scale-out@platform.test'
const PASSWORD = randomBytes(18).toString('base64url')

interface Proc { url: string; child: ChildProcess }

/** Starts `tenant-audit serve` on a free port; resolves with its URL once it listens. */
function serve(databaseUrl: string): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--database-url', databaseUrl], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: redisUrl, BOOTSTRAP_PRINCIPAL_EMAIL: EMAIL, BOOTSTRAP_PRINCIPAL_PASSWORD: PASSWORD, LOG_LEVEL: 'warn', FAULTS: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let err = ''
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`serve did not start: ${err}`))), 120_000)
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString()
      const m = /listening on (http:\/\/\S+)/.exec(err)
      if (m && /rate limits: redis/.test(err)) {
        clearTimeout(timer)
        resolve({ url: m[1]!, child })
      }
    })
    child.on('exit', (code) => (clearTimeout(timer), reject(new Error(`serve exited ${code}: ${err}`))))
  })
}

async function stop(p: Proc | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null) return
  const exited = new Promise((r) => p.child.once('exit', r))
  p.child.kill('SIGTERM')
  await exited
}

async function json(url: string, method: string, token?: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}

const login = async (base: string, username: string, password: string): Promise<string> => {
  const r = await json(`${base}/auth/token`, 'POST', undefined, { grant_type: 'password', username, password })
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body.access_token as string
}

describe.runIf(pgUrl && redisUrl)('scale-out: two server processes share one Redis', { timeout: 300_000 }, () => {
  let tdb: TestDatabase
  let a: Proc | undefined
  let b: Proc | undefined

  beforeAll(async () => {
    tdb = await createTestDatabase('pg')
    a = await serve(tdb.url!)
    b = await serve(tdb.url!) // after A: A has migrated, B finds nothing to do
  }, 300_000)
  afterAll(async () => {
    await stop(a)
    await stop(b)
    await tdb?.drop()
  })

  it("enforces one account's quota across both processes", async () => {
    const root = await login(a!.url, EMAIL, PASSWORD)
    const acct = await json(`${a!.url}/portal/v1/accounts`, 'POST', root, { name: 'scale-out' })
    expect(acct.status).toBe(201)
    const ws = await json(`${a!.url}/portal/v1/accounts/${acct.body.id}/workspaces`, 'POST', root, { name: 'w', environment: 'development' })
    expect(ws.status).toBe(201)
    const email = `so-${randomUUID().slice(0, 8)}@scale.test`
    const userPassword = randomBytes(18).toString('base64url')
    expect((await json(`${a!.url}/portal/v1/accounts/${acct.body.id}/workspaces/${ws.body.id}/users`, 'POST', root, { email, password: userPassword, role: 'viewer' })).status).toBe(201)
    const quota = await json(`${a!.url}/portal/v1/accounts/${acct.body.id}`, 'PATCH', root, { rateLimit: { requestsPerSecond: 1, burst: 6 } })
    expect(quota.status).toBe(200)

    // Each process signs its own tokens; both name the same verified account.
    const tokens = [await login(a!.url, email, userPassword), await login(b!.url, email, userPassword)]
    const bases = [a!.url, b!.url]
    const statuses: number[][] = [[], []]
    for (let i = 0; i < 12; i++) {
      const r = await json(`${bases[i % 2]}/app/v1/workspaces/${ws.body.id}/documents`, 'GET', tokens[i % 2])
      statuses[i % 2]!.push(r.status)
    }
    const all = statuses.flat()
    expect(all.filter((s) => s !== 200 && s !== 429)).toEqual([])
    // 6 in all (a window of 6 s is far longer than 12 loopback calls); per process it would be 12.
    expect(all.filter((s) => s === 200)).toHaveLength(6)
    expect(statuses[0]!.filter((s) => s === 200)).toHaveLength(3)
    expect(statuses[1]!.filter((s) => s === 200)).toHaveLength(3)
  })
})
