import { randomBytes, randomUUID } from 'node:crypto'
import { connect, createServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import request from 'supertest'
import { parseList, type Item } from 'structured-headers'
import { createApp } from '../app.js'
import { bootstrapPrincipal, buildDeps } from '../server.js'
import { parseFaults, type FaultName } from '../faults/index.js'
import { availableDrivers, createTestDatabase, type DriverName, type TestDatabase } from '../testing/databases.js'
import { ROOT_EMAIL, ROOT_PASSWORD } from '../testing/server.js'
import type { ServerDeps } from '../http/types.js'
import { QUOTA_EXCEEDED_TYPE, type RateLimitSettings } from './limiter.js'
import { redisTestUrl } from './redis-testing.js'
import { THROWAWAY_COST } from '../auth/passwords.js'

/**
 * The limiter through the HTTP API, on both database drivers and both stores (memory; Redis when
 * TEST_REDIS_URL answers, always under CI). Counts only, no timing: quotas are small and windows
 * long enough that one test never crosses a window boundary.
 */

const drivers = await availableDrivers()
const redisUrl = await redisTestUrl()
type Store = 'memory' | 'redis' | 'redis-down'
const stores: Store[] = redisUrl ? ['memory', 'redis', 'redis-down'] : ['memory', 'redis-down']
// A port nothing listens on: the server starts, Redis never becomes ready, the insurance limiter answers.
const DEAD_REDIS = 'redis://127.0.0.1:1'

interface Server {
  deps: ServerDeps
  call(method: string, path: string, token?: string, body?: unknown, headers?: Record<string, string>): Promise<request.Response>
  login(email: string, password: string): Promise<request.Response>
  close(): Promise<void>
}

async function server(db: TestDatabase, store: Store, opts: { namespace?: string; faults?: FaultName[]; rateLimits?: Partial<RateLimitSettings>; trust?: Server; redisUrl?: string } = {}): Promise<Server> {
  const deps = await buildDeps(db.db, {
    faults: parseFaults(opts.faults ?? []),
    redisUrl: opts.redisUrl ?? (store === 'redis' ? redisUrl : store === 'redis-down' ? DEAD_REDIS : undefined),
    rateLimits: { namespace: opts.namespace ?? `test-${randomBytes(4).toString('hex')}`, ...opts.rateLimits },
    settings: { passwordCost: THROWAWAY_COST },
  }, 'http://reference.test')
  if (opts.trust) {
    // A second instance of one deployment: it accepts the first one's tokens.
    const { kid } = opts.trust.deps.keys.signingKey()
    const key = opts.trust.deps.keys.verificationKey(kid)!
    deps.keys.trust(kid, key.publicKey, key.alg)
  }
  const app = createApp(deps)
  const call = (method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}) => {
    let req = request(app)[method.toLowerCase() as 'get'](path).set(headers)
    if (token) req = req.set('Authorization', `Bearer ${token}`)
    if (body !== undefined) req = req.set('Content-Type', 'application/json').send(JSON.stringify(body))
    return req.then((r) => r)
  }
  const login = (email: string, password: string) => call('POST', '/auth/token', undefined, { grant_type: 'password', username: email, password })
  return { deps, call, login, close: () => deps.limiter.close() }
}

const PASSWORD = 'a-long-test-password'

interface Tenant { accountId: string; workspaceId: string; tokens: string[] }

/** An account with one workspace and `users` admins, each logged in. */
async function tenant(s: Server, root: string, users = 1): Promise<Tenant> {
  const a = await s.call('POST', '/portal/v1/accounts', root, { name: `rl-${randomUUID().slice(0, 6)}` })
  expect(a.status, a.text).toBe(201)
  const w = await s.call('POST', `/portal/v1/accounts/${a.body.id}/workspaces`, root, { name: 'ws', environment: 'development' })
  expect(w.status, w.text).toBe(201)
  const tokens: string[] = []
  for (let i = 0; i < users; i++) {
    const email = `u${i}-${randomUUID().slice(0, 8)}@rl.test`
    const u = await s.call('POST', `/portal/v1/accounts/${a.body.id}/workspaces/${w.body.id}/users`, root, { email, password: PASSWORD, role: 'admin' })
    expect(u.status, u.text).toBe(201)
    const l = await s.login(email, PASSWORD)
    expect(l.status, l.text).toBe(200)
    tokens.push(l.body.access_token)
  }
  return { accountId: a.body.id, workspaceId: w.body.id, tokens }
}

const docs = (t: Tenant) => `/app/v1/workspaces/${t.workspaceId}/documents`
const setQuota = async (s: Server, root: string, t: Tenant, requestsPerSecond: number, burst: number) => {
  const r = await s.call('PATCH', `/portal/v1/accounts/${t.accountId}`, root, { rateLimit: { requestsPerSecond, burst } })
  expect(r.status, r.text).toBe(200)
  expect(r.body.rateLimit).toEqual({ requestsPerSecond, burst })
}

function field(res: request.Response, name: string): Item {
  const value = res.headers[name.toLowerCase()]
  expect(value, `${name} header`).toBeTypeOf('string')
  const list = parseList(value as string)
  expect(list).toHaveLength(1)
  return list[0] as Item
}
const param = (item: Item, key: string) => item[1].get(key)

/** Sends until the first 429 (at most `max`); returns how many were admitted and the 429. */
async function untilLimited(send: (i: number) => Promise<request.Response>, max: number) {
  let admitted = 0
  for (let i = 0; i < max; i++) {
    const r = await send(i)
    if (r.status === 429) return { admitted, limited: r }
    expect(r.status, r.text).toBe(200)
    admitted++
  }
  return { admitted, limited: undefined }
}

describe.each(drivers.flatMap((d) => stores.map((s) => [d, s] as [DriverName, Store])))('rate limits (%s, %s store)', (driver, store) => {
  let db: TestDatabase
  let s: Server
  let root: string

  beforeAll(async () => {
    db = await createTestDatabase(driver)
    await bootstrapPrincipal(db.db, ROOT_EMAIL, ROOT_PASSWORD, THROWAWAY_COST)
    s = await server(db, store)
    root = (await s.login(ROOT_EMAIL, ROOT_PASSWORD)).body.access_token
  })
  afterAll(async () => {
    await s?.close()
    await db?.drop()
  })

  it('uses the configured store', () => {
    expect(s.deps.limiter.store).toBe(store === 'memory' ? 'memory' : 'redis')
  })

  it('a 429 is audited in the account trail, and a flood of them is aggregated rather than one event each', async () => {
    const t = await tenant(s, root)
    await setQuota(s, root, t, 1, 2)
    const { limited } = await untilLimited(() => s.call('GET', docs(t), t.tokens[0]), 5)
    expect(limited?.status).toBe(429)
    for (let i = 0; i < 30; i++) expect((await s.call('GET', docs(t), t.tokens[0])).status).toBe(429)
    const { recorderFor } = await import('../audit/recorder.js')
    await recorderFor(s.deps).flush()
    const first = await s.call('GET', `/portal/v1/audit-events?requestId=${String(limited!.headers['x-request-id'])}`, root)
    expect(first.status, first.text).toBe(200)
    expect(first.body.items).toMatchObject([{ accountId: t.accountId, action: 'documents.list', outcome: 'failure', reason: 'quota-exceeded', http: { status: 429 } }])
    const all = await s.call('GET', `/portal/v1/audit-events?accountId=${t.accountId}&outcome=failure&limit=200`, root)
    const throttled = (all.body.items as { reason: string; count: number }[]).filter((e) => e.reason === 'quota-exceeded')
    // 31 refusals: written one by one up to the burst, the rest counted into aggregate events.
    expect(throttled.reduce((n, e) => n + e.count, 0)).toBe(31)
    expect(throttled.length).toBeLessThan(31)
  })

  it('the default quota is generous and announced on every limited response', async () => {
    const t = await tenant(s, root)
    const r = await s.call('GET', docs(t), t.tokens[0])
    expect(r.status).toBe(200)
    const policy = field(r, 'RateLimit-Policy')
    expect(policy[0]).toBe('account')
    expect(param(policy, 'q')).toBe(2000)
    expect(param(policy, 'w')).toBe(2)
    expect(param(field(r, 'RateLimit'), 'r')).toBe(1999)
  })

  it('enforces a Portal-set quota with 429, Retry-After, draft-11 fields and a quota-exceeded problem', async () => {
    const [a, b] = [await tenant(s, root), await tenant(s, root)]
    await setQuota(s, root, a, 1, 4) // 4 requests per 4 s
    await setQuota(s, root, b, 1, 4)
    const { admitted, limited } = await untilLimited(() => s.call('GET', docs(a), a.tokens[0]), 10)
    expect(admitted).toBe(4)
    expect(limited?.status).toBe(429)
    const res = limited!
    expect(res.type).toBe('application/problem+json')
    expect(res.body.type).toBe(QUOTA_EXCEEDED_TYPE)
    expect(res.body.status).toBe(429)
    expect(res.body['violated-policies']).toEqual(['account'])
    expect(res.text).not.toContain(a.accountId)
    const policy = field(res, 'RateLimit-Policy')
    const state = field(res, 'RateLimit')
    expect(param(policy, 'q')).toBe(4)
    expect(param(policy, 'w')).toBe(4)
    expect(param(state, 'r')).toBe(0)
    const t = param(state, 't') as number
    expect(t).toBeGreaterThan(0)
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(t)
    // pk is a hash, not the account id in any spelling.
    const pk = Buffer.from(param(policy, 'pk') as ArrayBuffer)
    expect(pk.length).toBeGreaterThan(0)
    for (const raw of [a.accountId, a.accountId.replaceAll('-', '')]) {
      expect(pk.toString('utf8')).not.toContain(raw)
      expect(pk.toString('hex')).not.toContain(raw.replaceAll('-', ''))
    }
    expect(Buffer.from(param(state, 'pk') as ArrayBuffer).equals(pk)).toBe(true)

    // Tenant isolation: B (same quota) is untouched: full quota, no 429.
    const rb = await s.call('GET', docs(b), b.tokens[0])
    expect(rb.status).toBe(200)
    expect(param(field(rb, 'RateLimit'), 'r')).toBe(3)
    // The principal has its own bucket: the Portal still answers for A's account.
    expect((await s.call('GET', `/portal/v1/accounts/${a.accountId}`, root)).status).toBe(200)
  })

  it('keys the quota on the verified account: X-Forwarded-For and forged tokens change nothing', async () => {
    const a = await tenant(s, root)
    await setQuota(s, root, a, 1, 3)
    const { admitted } = await untilLimited((i) => s.call('GET', docs(a), a.tokens[0], undefined, { 'X-Forwarded-For': `10.0.0.${i}` }), 8)
    expect(admitted).toBe(3)

    const b = await tenant(s, root)
    await setQuota(s, root, b, 1, 3)
    const [h, p] = b.tokens[0]!.split('.')
    for (let i = 0; i < 6; i++) {
      const forged = await s.call('GET', docs(b), `${h}.${p}.${randomBytes(64).toString('base64url')}`)
      expect(forged.status).toBe(401)
    }
    const real = await s.call('GET', docs(b), b.tokens[0])
    expect(real.status).toBe(200)
    expect(param(field(real, 'RateLimit'), 'r')).toBe(2)
  })

  it("an account's users share its quota", async () => {
    const a = await tenant(s, root, 3)
    await setQuota(s, root, a, 1, 5)
    const { admitted } = await untilLimited((i) => s.call('GET', docs(a), a.tokens[i % 3]), 15)
    expect(admitted).toBe(5)
  })

  it('throttles failed logins per client address (rotating usernames and X-Forwarded-For), then per username', async () => {
    const s2 = await server(db, store, { trust: s, rateLimits: { loginFailuresPerAddress: { points: 5, seconds: 30 }, loginFailuresPerUsername: { points: 3, seconds: 30 } } })
    try {
      // Per username: 3 failures, then even the right password is refused for that username.
      const t = await tenant(s2, root)
      const email = `victim-${randomUUID().slice(0, 8)}@rl.test`
      expect((await s2.call('POST', `/portal/v1/accounts/${t.accountId}/workspaces/${t.workspaceId}/users`, root, { email, password: PASSWORD, role: 'viewer' })).status).toBe(201)
      for (let i = 0; i < 3; i++) expect((await s2.login(email, 'wrong-password-123')).status).toBe(400)
      const blocked = await s2.login(email, PASSWORD)
      expect(blocked.status).toBe(429)
      expect(blocked.body.type).toBe(QUOTA_EXCEEDED_TYPE)
      expect(blocked.body['violated-policies']).toEqual(['login-username'])
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1)
      expect(blocked.text).not.toContain(email)

      // Per address: 2 more failures (5 in all from this address) on fresh usernames with fresh X-Forwarded-For.
      const guess = (i: number) => s2.call('POST', '/auth/token', undefined,
        { grant_type: 'password', username: `nobody-${i}-${randomUUID().slice(0, 6)}@rl.test`, password: 'guess-guess-guess' }, { 'X-Forwarded-For': `10.1.0.${i}` })
      const statuses: number[] = []
      for (let i = 0; i < 4; i++) statuses.push((await guess(i)).status)
      expect(statuses).toEqual([400, 400, 429, 429])
      const r = await guess(9)
      expect(r.body['violated-policies']).toEqual(['login-address'])
      expect(param(field(r, 'RateLimit-Policy'), 'q')).toBe(5)
    } finally {
      await s2.close()
    }
  })

  it('successful logins are not counted: many users log in quickly from one address', async () => {
    const s2 = await server(db, store, { trust: s, rateLimits: { loginFailuresPerAddress: { points: 2, seconds: 30 } } })
    try {
      const t = await tenant(s2, root, 4) // 4 logins (+ the root's) from one address, no 429
      expect(t.tokens).toHaveLength(4)
    } finally {
      await s2.close()
    }
  })

  it('wrong passwords sent at once meet the same per-username limit as in a row (issue 13 defect 2)', async () => {
    const s2 = await server(db, store, { trust: s, rateLimits: { loginFailuresPerAddress: { points: 50, seconds: 30 }, loginFailuresPerUsername: { points: 3, seconds: 30 } } })
    try {
      const email = `race-${randomUUID().slice(0, 8)}@rl.test`
      const statuses = (await Promise.all(Array.from({ length: 12 }, () => s2.login(email, 'wrong-password-123')))).map((r) => r.status)
      expect(statuses.filter((x) => x === 400)).toHaveLength(3)
      expect(statuses.filter((x) => x === 429)).toHaveLength(9)
    } finally {
      await s2.close()
    }
  })

  it("a guesser at another address cannot lock a username out of an address it logged in from, nor guess from there (issue 13 defect 12)", async () => {
    const s2 = await server(db, store, { trust: s, rateLimits: { loginFailuresPerAddress: { points: 50, seconds: 30 }, loginFailuresPerUsername: { points: 3, seconds: 30 } } })
    try {
      const limiter = s2.deps.limiter
      const from = (address: string) => ({ socket: { remoteAddress: address }, get: () => undefined }) as never
      const reply = () => ({ locals: {} as Record<string, unknown>, setHeader: () => undefined }) as never
      const owner = from('10.9.0.1')
      const guesser = from('10.9.0.2')
      const user = `owner-${randomUUID().slice(0, 8)}@rl.test`
      const ok = reply()
      await limiter.reserveLogin(owner, ok, user)
      await limiter.loginSucceeded(owner, ok, user) // the owner's address is now a known client
      for (let i = 0; i < 3; i++) await limiter.reserveLogin(guesser, reply(), user) // three wrong guesses elsewhere
      await expect(limiter.reserveLogin(guesser, reply(), user)).rejects.toMatchObject({ status: 429 })
      await expect(limiter.reserveLogin(from('10.9.0.3'), reply(), user)).rejects.toMatchObject({ status: 429 }) // a new client is refused
      const again = reply()
      await limiter.reserveLogin(owner, again, user) // the owner's known address is not
      await limiter.loginSucceeded(owner, again, user)
      for (let i = 0; i < 3; i++) await limiter.reserveLogin(owner, reply(), user) // but guessing from it is still limited
      await expect(limiter.reserveLogin(owner, reply(), user)).rejects.toMatchObject({ status: 429 })
    } finally {
      await s2.close()
    }
  })

  it.runIf(store === 'redis')('Redis going away mid-run: the insurance limiter answers at once and keeps limiting', async () => {
    // Redis through a TCP proxy this test can cut.
    const up = new URL(redisUrl!)
    const sockets = new Set<Socket>()
    const proxy = createServer((client) => {
      const upstream = connect(Number(up.port || 6379), up.hostname)
      for (const sock of [client, upstream]) { sockets.add(sock); sock.on('error', () => undefined) }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    const s2 = await server(db, store, { trust: s, redisUrl: `redis://127.0.0.1:${(proxy.address() as AddressInfo).port}` })
    try {
      const a = await tenant(s2, root)
      await setQuota(s2, root, a, 1, 4)
      expect((await s2.call('GET', docs(a), a.tokens[0])).status).toBe(200) // counted in Redis
      proxy.close()
      for (const sock of sockets) sock.destroy()
      const statuses: number[] = []
      for (let i = 0; i < 6; i++) statuses.push((await s2.call('GET', docs(a), a.tokens[0])).status)
      // The insurance limiter starts its own count: 4 admitted, then 429; never a 5xx, never a hang.
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429])
    } finally {
      proxy.close()
      await s2.close()
    }
  })

  it.runIf(store !== 'memory')('two server instances on one store share a quota (insurance: per instance while Redis is down)', async () => {
    const namespace = `shared-${randomBytes(4).toString('hex')}`
    const s1 = await server(db, store, { namespace, trust: s })
    const s2 = await server(db, store, { namespace, trust: s1 })
    try {
      const a = await tenant(s1, root)
      await setQuota(s1, root, a, 1, 4)
      const statuses: number[] = []
      for (let i = 0; i < 8; i++) statuses.push((await (i % 2 ? s2 : s1).call('GET', docs(a), a.tokens[0])).status)
      const admitted = statuses.filter((x) => x === 200).length
      // Redis: 4 across both; Redis down: each instance's insurance limiter admits 4 of its own.
      expect(admitted).toBe(store === 'redis' ? 4 : 8)
      expect(statuses.filter((x) => x !== 200 && x !== 429)).toEqual([])
    } finally {
      await s1.close()
      await s2.close()
    }
  })
})

describe('rate-limit faults (memory store, PGlite)', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase('pglite')
    await bootstrapPrincipal(db.db, ROOT_EMAIL, ROOT_PASSWORD, THROWAWAY_COST)
  })
  afterAll(async () => db?.drop())

  async function withFault(fault: FaultName, body: (s: Server, root: string) => Promise<void>) {
    const s = await server(db, 'memory', { faults: [fault] })
    try {
      await body(s, (await s.login(ROOT_EMAIL, ROOT_PASSWORD)).body.access_token)
    } finally {
      await s.close()
    }
  }

  it('ratelimit-quota-ignored: the Portal quota has no effect', () => withFault('ratelimit-quota-ignored', async (s, root) => {
    const a = await tenant(s, root)
    await setQuota(s, root, a, 1, 3)
    const { admitted } = await untilLimited(() => s.call('GET', docs(a), a.tokens[0]), 8)
    expect(admitted).toBe(8)
  }))

  it('ratelimit-keyed-by-address: rotating X-Forwarded-For resets the quota', () => withFault('ratelimit-keyed-by-address', async (s, root) => {
    const a = await tenant(s, root)
    await setQuota(s, root, a, 1, 3)
    const { admitted } = await untilLimited((i) => s.call('GET', docs(a), a.tokens[0], undefined, { 'X-Forwarded-For': `10.0.0.${i}` }), 8)
    expect(admitted).toBe(8)
  }))

  it('ratelimit-global-bucket: one account throttles another', () => withFault('ratelimit-global-bucket', async (s, root) => {
    const [a, b] = [await tenant(s, root), await tenant(s, root)]
    await setQuota(s, root, a, 1, 3)
    await setQuota(s, root, b, 1, 3)
    await untilLimited(() => s.call('GET', docs(a), a.tokens[0]), 5)
    expect((await s.call('GET', docs(b), b.tokens[0])).status).toBe(429)
  }))

  it('ratelimit-unverified-claim: forged tokens drain the named account', () => withFault('ratelimit-unverified-claim', async (s, root) => {
    const b = await tenant(s, root)
    await setQuota(s, root, b, 1, 3)
    const [h, p] = b.tokens[0]!.split('.')
    for (let i = 0; i < 4; i++) await s.call('GET', docs(b), `${h}.${p}.${randomBytes(64).toString('base64url')}`)
    expect((await s.call('GET', docs(b), b.tokens[0])).status).toBe(429)
  }))

  it('ratelimit-token-endpoint-unlimited: failed logins are never throttled', () => withFault('ratelimit-token-endpoint-unlimited', async (s) => {
    for (let i = 0; i < 25; i++) expect((await s.login(`x${i}@rl.test`, 'guess-guess-guess')).status).toBe(400)
  }))

  it('ratelimit-login-check-then-spend: wrong passwords sent at once all pass the read', () => withFault('ratelimit-login-check-then-spend', async (s) => {
    const email = `race-${randomUUID().slice(0, 8)}@rl.test`
    const statuses = (await Promise.all(Array.from({ length: 12 }, () => s.login(email, 'wrong-password-123')))).map((r) => r.status)
    expect(statuses.filter((x) => x === 400).length).toBeGreaterThan(10) // the per-username limit is 10
  }))

  it('ratelimit-raw-partition-key: pk carries the account id', () => withFault('ratelimit-raw-partition-key', async (s, root) => {
    const a = await tenant(s, root)
    const r = await s.call('GET', docs(a), a.tokens[0])
    expect(Buffer.from(param(field(r, 'RateLimit-Policy'), 'pk') as ArrayBuffer).toString('utf8')).toContain(a.accountId)
  }))

  it('ratelimit-keyed-per-user: three users get three quotas', () => withFault('ratelimit-keyed-per-user', async (s, root) => {
    const a = await tenant(s, root, 3)
    await setQuota(s, root, a, 1, 3)
    const { admitted } = await untilLimited((i) => s.call('GET', docs(a), a.tokens[i % 3]), 12)
    expect(admitted).toBe(9)
  }))
})

describe('windowOf', () => {
  it('maps (rate, burst) to a fixed window that admits the burst and the rate', async () => {
    const { windowOf } = await import('./policy.js')
    expect(windowOf({ requestsPerSecond: 1000, burst: 2000 })).toEqual({ points: 2000, seconds: 2 })
    expect(windowOf({ requestsPerSecond: 1, burst: 5 })).toEqual({ points: 5, seconds: 5 })
    expect(windowOf({ requestsPerSecond: 100, burst: 1 })).toEqual({ points: 100, seconds: 1 })
    expect(windowOf({ requestsPerSecond: 2, burst: 3 })).toEqual({ points: 4, seconds: 2 })
  })
})
