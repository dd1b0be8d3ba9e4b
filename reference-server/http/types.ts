import type { Request } from 'express'
import type { Logger } from 'pino'
import type { Database, Tx } from '../store/db.js'
import type { FaultSet } from '../faults/index.js'
import type { KeyStore } from '../auth/keys.js'
import type { TokenSettings } from '../auth/tokens.js'
import type { Contract } from '../contract.js'
import type { PlatformRole, WorkspaceRole } from '../tenancy/policy.js'
import type { Limiter } from '../ratelimit/limiter.js'
import type { ScryptCost } from '../auth/passwords.js'

export interface ServerSettings {
  issuer: string
  audience: string
  clientId: string
  accessTtlSeconds: number
  /** Lifetime of one refresh token (each rotation issues a new one). */
  refreshTtlSeconds: number
  /**
   * Absolute lifetime of a refresh-token family (one login and all its rotations), counted from the
   * login: no rotation extends it (issue 13 s2). Default 30 days (Auth0's default absolute lifetime).
   */
  refreshFamilyTtlSeconds: number
  clockToleranceSeconds: number
  bodyLimit: string
  /**
   * scrypt cost of new password hashes and of the dummy hash unknown users are checked against:
   * PRODUCTION_COST by default (`serve`); THROWAWAY_COST only for throwaway users (embedded audit, tests).
   */
  passwordCost: ScryptCost
  /** The audit trail; `false` only in the overhead bench (refused unless TA_BENCH_AUDIT_OFF=1). */
  audit?: boolean
  /** Flood aggregation (429s, repeated authentication failures): window and events written one by one per window. */
  auditWindowMs?: number
  auditBurst?: number
  /** A signed checkpoint of a trail every this many appends (default 100; 0: on demand only). */
  auditCheckpointEvery?: number
}

/** Everything a request handler may use; `createApp(deps)` never opens a port or a database itself. */
export interface ServerDeps {
  db: Database
  faults: FaultSet
  keys: KeyStore
  settings: ServerSettings
  tokens: TokenSettings
  contract: Contract
  log: Logger
  /** Signature, form, claims and key checks; revocation is `isRevoked`, run in the request's transaction. */
  verify(authorization: string | undefined): Promise<import('../auth/verify.js').VerifiedToken>
  /** The token's own jti, or the grant (`sid`) it was issued under, revoked. */
  isRevoked(tx: Tx, token: { jti: string; sid: string | null }): Promise<boolean>
  /**
   * The revocation-list entries that revoke this token, as `isRevoked` checks them: its own jti and its
   * grant's marker (`grant:<sid>`, its jti again without a sid or under `revoke-keeps-grant-access`);
   * undefined under `revoked-tokens-accepted` (nothing revokes). Route.ts reads them with the caller.
   */
  revocationKeys(token: { jti: string; sid: string | null }): readonly [string, string] | undefined
  /** Per-account quotas and failed-login limits (reference-server/ratelimit), applied before the transaction. */
  limiter: Limiter
  /** Test-only: runs in the request's transaction after the handler and its audit event, before the commit. */
  testHooks?: { beforeCommit?(tx: Tx, operationId: string): Promise<void> }
}

export interface UserActor {
  kind: 'user'
  id: string
  email: string
  accountId: string
  /** The login workspace the token is bound to. */
  workspaceId: string
  role: WorkspaceRole
  accountRole: 'admin' | null
}

export interface PrincipalActor {
  kind: 'principal'
  id: string
  email: string
  platformRole: PlatformRole
}

export type Actor = UserActor | PrincipalActor

/** One authorized call: the verified actor, the tenant it acts in, and the request's transaction. */
export interface Call {
  tx: Tx
  actor: Actor
  /** Roles the actor holds for this operation's target (after the workspace/account was resolved). */
  roles: readonly string[]
  /** The workspace the call acts in (workspace-scoped operations), checked against the token. */
  workspaceId: string | undefined
  /** The account the call acts in (the token's, or the Portal path's). */
  accountId: string | undefined
  params: Record<string, string>
  req: Request
  requestId: string
  deps: ServerDeps
  /** The body's password, hashed before the transaction (route.ts `mount`'s `password` option); use it through users.ts `passwordHash`. */
  hashedAhead?: HashedAhead
}

/** A password and its stored hash, made before the request's transaction. */
export interface HashedAhead { password: string; hash: string }

/** Handlers return their reply; it is sent only after the request's transaction has committed. */
export interface Reply {
  status: number
  body?: unknown
}

export type Handler = (call: Call) => Promise<Reply>
