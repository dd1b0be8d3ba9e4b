import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import type { KeyStore } from './keys.js'

/** Access-token lifetime unless configured otherwise (15 minutes). */
export const DEFAULT_ACCESS_TTL_SECONDS = 900

/** Claims an access token carries besides the registered ones (RFC 9068 §2.2 plus our tenancy claims). */
export interface AccessClaims {
  sub: string
  client_id: string
  /** Space-separated: `app dashboard` for users, `portal` for principals. */
  scope: string
  account_id?: string
  workspace_id?: string
  /** e.g. `["workspace:editor"]`, `["account:admin", "workspace:admin"]`. */
  roles?: string[]
  /** Present on principal tokens only. */
  platform_role?: 'platform_admin' | 'support'
  /** The login (refresh-token family) this token was issued under: revoking the grant ends it too (RFC 7009 §2.1). */
  sid?: string
}

export interface TokenSettings {
  issuer: string
  /** The resource-server audience access tokens are for. */
  audience: string
  /** Defaults to DEFAULT_ACCESS_TTL_SECONDS; also the ID-token lifetime. */
  accessTtlSeconds?: number
  /** The client id: the audience of ID tokens, which must never equal `audience`. */
  idAudience: string
}

/** What an ID token says about the user who logged in. */
export interface IdClaims {
  sub: string
  email: string
  account_id?: string
  workspace_id?: string
}

/** Copies only the keys that are set, so an absent tenancy claim is absent, not `null`. */
function defined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>
}

/**
 * Signs an RFC 9068 access token (`typ: at+jwt`) with the current signing key.
 * `expiresIn` is the lifetime in seconds, for the token endpoint's `expires_in`.
 */
export async function issueAccessToken(
  keys: KeyStore,
  settings: TokenSettings,
  claims: AccessClaims,
): Promise<{ token: string; jti: string; expiresIn: number }> {
  const { kid, privateKey } = keys.signingKey()
  const expiresIn = settings.accessTtlSeconds ?? DEFAULT_ACCESS_TTL_SECONDS
  const iat = Math.floor(Date.now() / 1000)
  const jti = randomUUID()
  const { sub, ...rest } = claims
  const token = await new SignJWT(defined(rest))
    .setProtectedHeader({ alg: keys.alg, kid, typ: 'at+jwt' })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + expiresIn)
    .setJti(jti)
    .sign(privateKey)
  return { token, jti, expiresIn }
}

/**
 * Signs an OIDC ID token. It differs from an access token on purpose in two independent places —
 * `typ: JWT` and `aud` = the client id — so that presenting it as an access token fails on either
 * check alone; `token_use: 'id'` is a third marker for deployments that read that claim.
 */
export async function issueIdToken(keys: KeyStore, settings: TokenSettings, claims: IdClaims): Promise<string> {
  const { kid, privateKey } = keys.signingKey()
  const iat = Math.floor(Date.now() / 1000)
  const { sub, ...rest } = claims
  return new SignJWT({ ...defined(rest), token_use: 'id' })
    .setProtectedHeader({ alg: keys.alg, kid, typ: 'JWT' })
    .setIssuer(settings.issuer)
    .setAudience(settings.idAudience)
    .setSubject(sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (settings.accessTtlSeconds ?? DEFAULT_ACCESS_TTL_SECONDS))
    .sign(privateKey)
}
