import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import pino, { type Logger } from 'pino'
import { createApp } from './app.js'
import type { Database } from './store/db.js'
import { createPgliteDatabase } from './store/pglite.js'
import { createPgDatabase } from './store/pg.js'
import { createKeyStore, type KeyStore } from './auth/keys.js'
import { createVerifier } from './auth/verify.js'
import { importJWK, type CryptoKey, type JWK } from 'jose'
import { refreshTokenAsAccess } from './http/forgery-faults.js'
import { grantRevocationKey } from './http/auth/grants.js'
import { EMBEDDED_COST, PRODUCTION_COST, THROWAWAY_COST, generatePassword, hashPassword, type ScryptCost } from './auth/passwords.js'
import { loadContract } from './contract.js'
import { NO_FAULTS, faultSpec, type FaultSet } from './faults/index.js'
import type { ServerDeps, ServerSettings } from './http/types.js'
import { THROWAWAY_LOGIN_WINDOWS, createLimiter, type RateLimitSettings } from './ratelimit/limiter.js'
import { recorderFor } from './audit/recorder.js'

export interface StartOptions {
  port?: number
  host?: string
  /** Real Postgres; the embedded PGlite otherwise. */
  databaseUrl?: string
  databaseRuntimeUrl?: string
  pgliteDataDir?: string
  /** An already-open database (tests share one per file). */
  db?: Database
  faults?: FaultSet
  issuer?: string
  bootstrap?: { email: string; password?: string }
  logger?: Logger
  settings?: Partial<ServerSettings>
  /** Extra verification-only keys (the harness's test issuer): public ES256/RS256 JWKs with kid. */
  trustedKeys?: { kid: string; alg: 'ES256' | 'RS256'; jwk: JWK }[]
  /** Rate-limit counters in Redis (shared by every process); the in-memory limiter otherwise. */
  redisUrl?: string
  rateLimits?: Partial<RateLimitSettings>
}

export interface RunningServer {
  url: string
  deps: ServerDeps
  /** The bootstrap principal's password when it was generated (printed once by `serve`). */
  generatedPassword?: string
  close(): Promise<void>
}

export async function openDatabase(opts: Pick<StartOptions, 'databaseUrl' | 'databaseRuntimeUrl' | 'pgliteDataDir' | 'logger'>): Promise<Database> {
  if (opts.databaseUrl) {
    return createPgDatabase({ url: opts.databaseUrl, runtimeUrl: opts.databaseRuntimeUrl, deriveRuntime: true, warn: (m) => opts.logger?.warn(m) })
  }
  return createPgliteDatabase({ dataDir: opts.pgliteDataDir })
}

export async function buildDeps(db: Database, opts: StartOptions, issuer: string): Promise<ServerDeps> {
  const settings: ServerSettings = {
    issuer,
    audience: 'tenant-audit-api',
    clientId: 'tenant-audit',
    accessTtlSeconds: 900,
    refreshTtlSeconds: 86_400,
    refreshFamilyTtlSeconds: 30 * 86_400,
    clockToleranceSeconds: 5,
    bodyLimit: '64kb',
    passwordCost: PRODUCTION_COST,
    ...opts.settings,
  }
  const keys: KeyStore = await createKeyStore({ retireAfterSeconds: settings.accessTtlSeconds + settings.clockToleranceSeconds })
  for (const t of opts.trustedKeys ?? []) keys.trust(t.kid, (await importJWK(t.jwk, t.alg)) as CryptoKey, t.alg)
  const faults = opts.faults ?? NO_FAULTS
  const verifier = createVerifier({
    keys,
    issuer: settings.issuer,
    audience: settings.audience,
    maxTokenAgeSeconds: settings.accessTtlSeconds,
    clockToleranceSeconds: settings.clockToleranceSeconds,
    // Revocation is checked inside each request's own transaction (route.ts), not in a second one here.
    isRevoked: async () => false,
    clientIds: [settings.clientId],
    faults,
  })
  const log = opts.logger ?? pino({ level: 'silent' })
  const revocationKeys = ({ jti, sid }: { jti: string; sid: string | null }): readonly [string, string] | undefined =>
    faults.has('revoked-tokens-accepted') ? undefined : [jti, sid && !faults.has('revoke-keeps-grant-access') ? grantRevocationKey(sid) : jti]
  const limiter = await createLimiter({ db, faults, log, redisUrl: opts.redisUrl, settings: opts.rateLimits })
  return {
    db,
    faults,
    keys,
    settings,
    tokens: { issuer: settings.issuer, audience: settings.audience, accessTtlSeconds: settings.accessTtlSeconds, idAudience: settings.clientId },
    contract: loadContract(),
    log,
    verify: async (h) => (faults.has('refresh-token-as-access-token') && (await refreshTokenAsAccess(db, h))) || verifier.verify(h),
    isRevoked: async (tx, token) => {
      const keys = revocationKeys(token)
      return keys !== undefined && (await tx.query('SELECT 1 FROM revoked_tokens WHERE jti = $1 OR jti = $2', keys)).rowCount > 0
    },
    revocationKeys,
    limiter,
  }
}

/** Creates the bootstrap platform_admin principal if no principal has that email yet. */
export async function bootstrapPrincipal(db: Database, email: string, password: string, cost: ScryptCost = PRODUCTION_COST): Promise<void> {
  const hash = await hashPassword(password, cost)
  await db.withTenant({ platformRole: 'platform_admin' }, (tx) =>
    tx.query(`INSERT INTO principals (email, password_hash, platform_role) VALUES ($1, $2, 'platform_admin') ON CONFLICT (email) DO NOTHING`,
      [email.toLowerCase(), hash]))
}

/**
 * A server for throwaway users only (the embedded audit server, test and bench servers): `startServer`
 * with a cheaper KDF and the short `THROWAWAY_LOGIN_WINDOWS` lockouts, under any settings or limits
 * `opts` adds. The KDF is EMBEDDED_COST, or THROWAWAY_COST (long enough to time) when a fault that shows
 * only in the KDF's duration is on (catalog `timedKdf`). Never `serve`'s: its users are real.
 */
export function startThrowawayServer(opts: StartOptions = {}): Promise<RunningServer> {
  return startServer({ ...opts, settings: { passwordCost: throwawayCost(opts.faults), ...opts.settings }, rateLimits: { ...THROWAWAY_LOGIN_WINDOWS, ...opts.rateLimits } })
}

/** The KDF cost of a throwaway server with these faults on (see startThrowawayServer). */
export function throwawayCost(faults: FaultSet | undefined): ScryptCost {
  return faults?.names.some((n) => faultSpec(n)?.timedKdf) ? THROWAWAY_COST : EMBEDDED_COST
}

/** Opens the database, listens, and serves. The issuer is the listening URL unless one is given. */
export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const db = opts.db ?? (await openDatabase(opts))
  // The app needs the issuer, which is the listening URL, so it is built after listen(): a request
  // that arrives in between waits for it instead of hanging unanswered on a server without a handler.
  let app: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  let appReady!: () => void
  const ready = new Promise<void>((resolve) => (appReady = resolve))
  const server: Server = createServer((req, res) => {
    if (app) return app(req, res)
    void ready.then(() => app ? app(req, res) : res.writeHead(503, { 'Content-Type': 'application/problem+json' })
      .end(JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'The server failed to start.' })))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const host = opts.host && opts.host !== '0.0.0.0' && opts.host !== '::' ? opts.host : '127.0.0.1'
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  let deps: ServerDeps
  let generatedPassword: string | undefined
  try {
    deps = await buildDeps(db, opts, opts.issuer ?? url)
    if (opts.bootstrap) {
      const password = opts.bootstrap.password ?? (generatedPassword = generatePassword())
      await bootstrapPrincipal(db, opts.bootstrap.email, password, deps.settings.passwordCost)
    }
    app = createApp(deps)
  } catch (err) {
    // Nothing half-started stays behind: waiting requests get a 503 and the port is released.
    appReady()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    if (!opts.db) await db.close()
    throw err
  }
  appReady()
  server.keepAliveTimeout = 5_000
  return {
    url,
    deps,
    generatedPassword,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await deps.limiter.close()
      await recorderFor(deps).flush() // pending flood aggregates
      if (!opts.db) await db.close()
    },
  }
}
