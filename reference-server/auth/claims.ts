import { z } from 'zod'
import { AuthError } from './errors.js'

/** What the server may rely on once a token is verified. Tenant identity comes from here only. */
export interface VerifiedToken {
  sub: string
  jti: string
  clientId: string
  scope: string[]
  accountId: string | null
  workspaceId: string | null
  roles: string[]
  platformRole: 'platform_admin' | 'support' | null
  kind: 'user' | 'principal'
  exp: number
  iat: number
  /** The grant (login) the token was issued under, when it says. */
  sid: string | null
}

// Lower-case canonical form only: path ids are compared to claims as strings, so one id must have
// one spelling (Postgres prints uuids in lower case).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
// RFC 6749 §3.3 scope-token, space-separated, no empty tokens.
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*$/

// z.number().int() refuses NaN, ±Infinity (jose lets `exp: 1e309` through) and unsafe integers.
const numericDate = z.number().int().nonnegative()
const id = z.string().min(1).max(255)

/** The JSON types of the claims we read; unknown extra claims are allowed (RFC 7519 §4). */
const Claims = z.object({
  sub: id,
  jti: id,
  client_id: id,
  scope: z.string().regex(SCOPE),
  exp: numericDate,
  iat: numericDate,
  nbf: numericDate.optional(),
  account_id: z.string().regex(UUID).optional(),
  workspace_id: z.string().regex(UUID).optional(),
  roles: z.array(z.string().min(1).max(64)).max(16).optional(),
  platform_role: z.enum(['platform_admin', 'support']).optional(),
  sid: z.string().regex(UUID).optional(),
  // Belt and braces beside typ and aud: a token that calls itself anything but an access token is not one.
  token_use: z.literal('access').optional(),
})

/**
 * Checks the types and the actor rules of a verified claims set and maps it to a VerifiedToken.
 * Principal tokens carry `portal` and no tenancy claims; user tokens carry `app` and/or `dashboard`,
 * never `portal`, and both tenant ids. Throws `claim_missing` or `claim_invalid`.
 */
export function toVerifiedToken(payload: unknown): VerifiedToken {
  const parsed = Claims.safeParse(payload)
  if (!parsed.success) throw new AuthError('claim_invalid')
  const c = parsed.data
  const scope = c.scope.split(' ')
  const has = (s: string): boolean => scope.includes(s)

  if (c.platform_role !== undefined) {
    // A principal acts across accounts only through the Portal: tenancy claims or user scopes on its
    // token would let tenant-scoped code mistake it for a member of one tenant.
    if (!has('portal') || has('app') || has('dashboard')) throw new AuthError('claim_invalid')
    if (c.account_id !== undefined || c.workspace_id !== undefined || (c.roles?.length ?? 0) > 0) {
      throw new AuthError('claim_invalid')
    }
  } else {
    if (has('portal') || !(has('app') || has('dashboard'))) throw new AuthError('claim_invalid')
    if (c.account_id === undefined || c.workspace_id === undefined) throw new AuthError('claim_missing')
  }

  return {
    sub: c.sub,
    jti: c.jti,
    clientId: c.client_id,
    scope,
    accountId: c.account_id ?? null,
    workspaceId: c.workspace_id ?? null,
    roles: c.roles ?? [],
    platformRole: c.platform_role ?? null,
    kind: c.platform_role !== undefined ? 'principal' : 'user',
    exp: c.exp,
    sid: c.sid ?? null,
    iat: c.iat,
  }
}
