import { createHash } from 'node:crypto'
import type { Request, Response } from 'express'
import type { Logger } from 'pino'
import { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Database } from '../store/db.js'
import type { FaultSet } from '../faults/index.js'
import type { VerifiedToken } from '../auth/verify.js'
import { HttpError } from '../http/problem.js'
import { partitionKey, policyField, retryAfterSeconds, stateField, windowOf, type PolicyState, type Quota, type Window } from './policy.js'

export type { Quota } from './policy.js'

/** The problem type draft-ietf-httpapi-ratelimit-headers-11 registers for a 429 (RFC 9457). */
export const QUOTA_EXCEEDED_TYPE = 'https://iana.org/assignments/http-problem-types#quota-exceeded'

export interface RateLimitSettings {
  /** An account without its own quota. High enough that normal traffic (and the whole audit) never sees 429. */
  accountDefault: Quota
  /** Each principal (Portal operator) has its own bucket: it never spends an account's quota. */
  principal: Quota
  /** Failed password logins per client address (socket address, never X-Forwarded-For). */
  loginFailuresPerAddress: Window
  /** Failed password logins per username (hashed): from any address but the username's known clients, and from each address. */
  loginFailuresPerUsername: Window
  /** How long an account's quota is cached before it is read again (only PATCH in this process updates it at once). */
  quotaCacheMs: number
  /** Prefix of every counter key: deployments (or test runs) sharing one Redis keep apart by it. */
  namespace: string
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  accountDefault: { requestsPerSecond: 1000, burst: 2000 },
  principal: { requestsPerSecond: 1000, burst: 2000 },
  loginFailuresPerAddress: { points: 20, seconds: 10 },
  loginFailuresPerUsername: { points: 10, seconds: 60 },
  quotaCacheMs: 5_000,
  namespace: 'ta-rl',
}

/**
 * Failed-login lockouts for throwaway servers only (the embedded audit server and test servers): as
 * many failures as `serve`'s (20 per address, 10 per username), counted over 2 s and 10 s instead of
 * 10 s and 60 s. The login checks prove the same with either (a limit, holding under concurrency,
 * with a valid Retry-After) and wait each lockout out, so these make an audit wait less: the default
 * audit waits out ~8 of them. 2 s holds 20 failures with room on a loaded machine since a failed login
 * costs ~4 ms of KDF (EMBEDDED_COST; ~35 ms with a `timedKdf` fault on): login-bruteforce's three
 * waves of 10 land in well under a second. Like the cheaper KDF, never `serve`'s.
 */
export const THROWAWAY_LOGIN_WINDOWS: Pick<RateLimitSettings, 'loginFailuresPerAddress' | 'loginFailuresPerUsername'> = {
  loginFailuresPerAddress: { points: 20, seconds: 2 },
  loginFailuresPerUsername: { points: 10, seconds: 10 },
}

export interface LimiterOptions {
  db: Database
  faults: FaultSet
  log: Logger
  settings?: Partial<RateLimitSettings>
  /** Counters in Redis (shared by every server process); the in-memory limiter is the insurance. */
  redisUrl?: string
}

/**
 * The server's rate limiter (rate-limiter-flexible). Everything here runs before the request's
 * database transaction, so a limited request costs one counter update and no SQL.
 */
export interface Limiter {
  readonly store: 'memory' | 'redis'
  /** After authentication: spends one request of the verified tenant's (or principal's) quota; throws 429 when none is left. */
  consume(token: VerifiedToken, req: Request, res: Response): Promise<void>
  /** Gives back the point `consume` spent for this token (a revoked token turned out to be nobody). */
  refund(token: VerifiedToken): Promise<void>
  /** Seeded fault `ratelimit-unverified-claim` only: spends quota on the account the *unverified* token names. */
  consumeUnverified(req: Request, res: Response): Promise<void>
  /**
   * Token endpoint, before the password is checked: spends one failure of each login window this
   * attempt counts against (address; username, unless this address is a known client of it; the
   * username from this address), 429 when one is spent. Spent *before* the KDF, so N attempts at
   * once meet the same limit as N in a row; a success gives the points back ({@link loginSucceeded}).
   */
  reserveLogin(req: Request, res: Response, username: string): Promise<void>
  /** Token endpoint: the password was right. Refunds the reservation; this address becomes a known client of the username. */
  loginSucceeded(req: Request, res: Response, username: string): Promise<void>
  /** Token endpoint: the password was wrong (the reservation stands; only the seeded fault spends here). */
  loginFailed(req: Request, username: string): Promise<void>
  /** The Portal changed (or deleted, `undefined`) an account's quota: applies at once in this process. */
  quotaChanged(accountId: string, quota: Quota | null | undefined): void
  close(): Promise<void>
}

/** How long an address stays a known client (14 days) of a username after a successful login from it. */
const KNOWN_CLIENT: Window = { points: 1, seconds: 14 * 24 * 3600 } // the memory store times keys out with setTimeout: under 2^31 ms

const clientAddress = (req: Request): string => req.socket.remoteAddress ?? 'unknown'
/** Usernames (emails) are counted by hash: the store never holds one. */
const usernameKey = (username: string): string => `username:${createHash('sha256').update(username).digest('base64url')}`

/** Reads the `account_id` of a bearer token's payload WITHOUT verifying it (the fault's bug). */
function unverifiedAccount(req: Request): string | undefined {
  const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)$/.exec(req.get('authorization') ?? '')
  if (!m) return undefined
  try {
    const claims = JSON.parse(Buffer.from(m[2]!, 'base64url').toString('utf8')) as { account_id?: unknown }
    return typeof claims.account_id === 'string' ? claims.account_id : undefined
  } catch {
    return undefined
  }
}

export async function createLimiter(opts: LimiterOptions): Promise<Limiter> {
  const settings: RateLimitSettings = { ...DEFAULT_RATE_LIMITS, ...opts.settings }
  const { db, faults, log } = opts
  const redis = opts.redisUrl ? await connectRedis(opts.redisUrl, log) : undefined

  // One limiter per (policy, window): a quota change starts a fresh bucket under its own prefix.
  const limiters = new Map<string, RateLimiterAbstract>()
  const limiterFor = (policy: string, w: Window): RateLimiterAbstract => {
    const keyPrefix = `${settings.namespace}:${policy}:${w.points}:${w.seconds}`
    let l = limiters.get(keyPrefix)
    if (!l) {
      const memory = new RateLimiterMemory({ keyPrefix, points: w.points, duration: w.seconds })
      // Redis down (or not ready): the memory limiter takes over, so limits keep applying, per process.
      l = redis
        ? new RateLimiterRedis({ storeClient: redis, keyPrefix, points: w.points, duration: w.seconds, rejectIfRedisNotReady: true, insuranceLimiter: memory })
        : memory
      limiters.set(keyPrefix, l)
    }
    return l
  }

  // The bug (ratelimit-raw-partition-key): the limiter key itself, tenant id and all, goes out as pk.
  const pkOf = (key: string): Buffer => faults.has('ratelimit-raw-partition-key') ? Buffer.from(key) : partitionKey(key)
  // The partition key (a SHA-256) and the RateLimit-Policy field of a bucket change only with its
  // window: computed once per bucket and window, not on every request (bounded; cleared when full).
  const policies = new Map<string, { pk: Buffer; field: string }>()
  const policyOf = (name: string, w: Window, key: string): { pk: Buffer; field: string } => {
    const id = `${name}|${w.points}|${w.seconds}|${key}`
    let p = policies.get(id)
    if (!p) {
      if (policies.size >= 10_000) policies.clear()
      const pk = pkOf(key)
      p = { pk, field: policyField([{ name, window: w, key, pk, remaining: 0, msBeforeNext: 0 }]) }
      policies.set(id, p)
    }
    return p
  }

  const quotas = new Map<string, { quota: Quota | null; until: number }>()
  const loading = new Map<string, Promise<Quota | null>>()
  async function quotaOf(accountId: string): Promise<Quota> {
    if (faults.has('ratelimit-quota-ignored')) return settings.accountDefault // The bug: the Portal's quota is stored, never applied.
    const hit = quotas.get(accountId)
    if (hit && hit.until > Date.now()) return hit.quota ?? settings.accountDefault
    let p = loading.get(accountId)
    if (!p) {
      p = db.withTenant({ accountId }, async (tx) => {
        const { rows } = await tx.query<{ rate_limit: Quota | null }>('SELECT rate_limit FROM accounts WHERE id = $1', [accountId])
        return rows[0]?.rate_limit ?? null
      }).finally(() => loading.delete(accountId))
      loading.set(accountId, p)
    }
    const quota = await p
    quotas.set(accountId, { quota, until: Date.now() + settings.quotaCacheMs })
    return quota ?? settings.accountDefault
  }

  /** Spends one point; writes the draft-11 fields; throws the 429 problem when the window is spent. */
  async function spend(name: string, w: Window, key: string, res: Response | undefined): Promise<PolicyState | undefined> {
    let r: RateLimiterRes
    let limited = false
    try {
      r = await limiterFor(name, w).consume(key)
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        // Only reachable if the insurance limiter itself failed: fail open, loudly.
        log.error({ err: String(err) }, 'rate limiter store failed; request allowed')
        return undefined
      }
      r = err
      limited = true
    }
    const policy = policyOf(name, w, key)
    const state: PolicyState = { name, window: w, key, pk: policy.pk, remaining: r.remainingPoints, msBeforeNext: r.msBeforeNext }
    if (res) {
      res.setHeader('RateLimit-Policy', policy.field)
      res.setHeader('RateLimit', stateField([state]))
    }
    if (limited) throw tooMany(state, res)
    return state
  }

  function tooMany(state: PolicyState, res: Response | undefined): HttpError {
    res?.setHeader('Retry-After', String(retryAfterSeconds(state)))
    return new HttpError(429, 'quota-exceeded', `The ${state.name} quota is spent; retry after the window ends.`, {
      type: QUOTA_EXCEEDED_TYPE,
      'violated-policies': [state.name],
    })
  }

  async function consumeAccount(accountId: string, req: Request, res: Response): Promise<void> {
    const quota = await quotaOf(accountId)
    let key = `account:${accountId}`
    if (faults.has('ratelimit-keyed-by-address')) {
      // The bug: the bucket is the caller's address, and a proxy header is believed.
      key = `address:${String(req.get('x-forwarded-for') ?? clientAddress(req)).split(',')[0]!.trim()}`
    }
    if (faults.has('ratelimit-global-bucket')) key = 'global' // The bug: every tenant shares one bucket.
    await spend('account', windowOf(quota), key, res)
  }

  /**
   * The windows one password attempt counts against. Per username from anywhere, except from a known
   * client (an address this username logged in from before): a guesser elsewhere cannot lock the
   * owner out of the devices it uses (issue 13 defect 12; OWASP Authentication Cheat Sheet, account
   * lockout). The username from one address is always counted, so a known address still cannot guess.
   */
  async function loginWindows(req: Request, username: string): Promise<[string, Window, string][]> {
    const address = clientAddress(req)
    const known = await limiterFor('login-known-client', KNOWN_CLIENT).get(knownKey(req, username)).then((r) => r !== null, () => false)
    const windows: [string, Window, string][] = [['login-address', settings.loginFailuresPerAddress, `address:${address}`]]
    if (!known) windows.push(['login-username', settings.loginFailuresPerUsername, usernameKey(username)])
    windows.push(['login-username-address', settings.loginFailuresPerUsername, `${usernameKey(username)}:address:${address}`])
    return windows
  }

  const knownKey = (req: Request, username: string): string => `${usernameKey(username)}:address:${clientAddress(req)}`

  async function refund(windows: [string, Window, string][]): Promise<void> {
    for (const [name, w, key] of windows) await limiterFor(name, w).reward(key, 1).catch(() => undefined)
  }

  return {
    store: redis ? 'redis' : 'memory',

    async consume(token, req, res) {
      if (faults.has('ratelimit-unverified-claim')) return // already spent before verification (route.ts)
      if (token.kind === 'principal' || token.accountId === null) {
        await spend('principal', windowOf(settings.principal), `principal:${token.sub}`, res)
        return
      }
      if (faults.has('ratelimit-keyed-per-user')) {
        // The bug: each user of the account gets the account's whole quota.
        const quota = await quotaOf(token.accountId)
        await spend('account', windowOf(quota), `user:${token.accountId}:${token.sub}`, res)
        return
      }
      await consumeAccount(token.accountId, req, res)
    },

    async refund(token) {
      if (faults.has('ratelimit-unverified-claim') || faults.has('ratelimit-keyed-per-user') || faults.has('ratelimit-keyed-by-address') || faults.has('ratelimit-global-bucket')) return
      const [name, w, key] = token.kind === 'principal' || token.accountId === null
        ? ['principal', windowOf(settings.principal), `principal:${token.sub}`] as const
        : ['account', windowOf(await quotaOf(token.accountId)), `account:${token.accountId}`] as const
      await limiterFor(name, w).reward(key, 1).catch(() => undefined)
    },

    async consumeUnverified(req, res) {
      const accountId = unverifiedAccount(req)
      if (accountId && /^[0-9a-f-]{36}$/.test(accountId)) await consumeAccount(accountId, req, res)
    },

    async reserveLogin(req, res, username) {
      if (faults.has('ratelimit-token-endpoint-unlimited')) return // The bug: nothing stops a password guesser.
      const windows = await loginWindows(req, username)
      if (faults.has('ratelimit-login-check-then-spend')) {
        // The bug (issue 13 defect 2): counters only read here and spent after the KDF, so attempts
        // sent at once all pass the read before any of them is spent.
        for (const [name, w, key] of windows) {
          let r: RateLimiterRes | null = null
          try {
            r = await limiterFor(name, w).get(key)
          } catch (err) {
            log.error({ err: String(err) }, 'rate limiter store failed; login allowed')
          }
          if (r && r.consumedPoints >= w.points) {
            const state: PolicyState = { name, window: w, key, pk: pkOf(key), remaining: 0, msBeforeNext: r.msBeforeNext }
            res.setHeader('RateLimit-Policy', policyField([state]))
            res.setHeader('RateLimit', stateField([state]))
            throw tooMany(state, res)
          }
        }
        return
      }
      const spent: [string, Window, string][] = []
      res.locals.loginReservation = spent
      try {
        for (const win of windows) {
          await spend(win[0], win[1], win[2], res)
          spent.push(win)
        }
      } catch (err) {
        res.locals.loginReservation = undefined
        // Refused: the windows already passed give their point back (the refusal is the one that counts).
        await refund(spent)
        throw err
      }
    },

    async loginSucceeded(req, res, username) {
      if (faults.has('ratelimit-token-endpoint-unlimited')) return
      await refund((res.locals.loginReservation ?? []) as [string, Window, string][])
      res.locals.loginReservation = undefined
      await limiterFor('login-known-client', KNOWN_CLIENT).set(knownKey(req, username), 1, KNOWN_CLIENT.seconds).catch((err: unknown) => {
        log.error({ err: String(err) }, 'rate limiter store failed; client not remembered')
      })
    },

    async loginFailed(req, username) {
      if (faults.has('ratelimit-token-endpoint-unlimited') || !faults.has('ratelimit-login-check-then-spend')) return
      const spendQuietly = (name: string, w: Window, key: string) =>
        spend(name, w, key, undefined).catch((err: unknown) => { if (!(err instanceof HttpError)) throw err })
      for (const [name, w, key] of await loginWindows(req, username)) await spendQuietly(name, w, key)
    },

    quotaChanged(accountId, quota) {
      if (quota === undefined) quotas.delete(accountId)
      else quotas.set(accountId, { quota, until: Date.now() + settings.quotaCacheMs })
    },

    async close() {
      if (redis) await redis.quit().catch(() => redis.disconnect())
    },
  }
}

/**
 * Connects to Redis without an offline queue, so a command while Redis is down fails at once and
 * the insurance limiter answers instead of the request hanging. Waits briefly for the first
 * connection; if Redis is not there, the server starts anyway on the insurance limiter.
 */
async function connectRedis(url: string, log: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    // A Redis that hangs (rather than refuses) must not hang requests: the command fails, insurance answers.
    commandTimeout: 1_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    lazyConnect: true,
  })
  let down = false
  redis.on('error', (err: Error) => {
    if (!down) log.warn({ err: err.message }, 'redis unavailable: rate limits fall back to the per-process memory limiter')
    down = true
  })
  redis.on('ready', () => {
    if (down) log.info('redis reconnected: rate limits are shared again')
    down = false
  })
  await redis.connect().catch(() => undefined)
  return redis
}
