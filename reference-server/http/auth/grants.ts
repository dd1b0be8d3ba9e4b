import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { Tx } from '../../store/db.js'
import type { ServerDeps } from '../types.js'
import type { FaultSet } from '../../faults/index.js'
import { issueAccessToken, issueIdToken } from '../../auth/tokens.js'
import { verifyAgainstDummy, verifyPassword, type ScryptCost } from '../../auth/passwords.js'
import { tokenRolesFor, type PlatformRole, type WorkspaceRole } from '../../tenancy/policy.js'

export const hashRefresh = (token: string) => createHash('sha256').update(token).digest('hex')

export type Subject =
  | { kind: 'user'; id: string; email: string; accountId: string; workspaceId: string; role: WorkspaceRole; accountRole: 'admin' | null }
  | { kind: 'principal'; id: string; email: string; platformRole: PlatformRole }

export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  refresh_token: string
  id_token: string
  scope: string
}

/** Thrown for RFC 6749 §5.2 errors: the token endpoint answers 400 `{error}`, not problem+json. */
export class OAuthError extends Error {
  constructor(readonly error: 'invalid_request' | 'invalid_grant' | 'unsupported_grant_type', readonly description: string) {
    super(description)
  }
}

const badCredentials = () => new OAuthError('invalid_grant', 'The credentials are invalid.')

type UserRow = { id: string; email: string; account_id: string; workspace_id: string; role: WorkspaceRole; account_role: 'admin' | null; password_hash: string }
type PrincipalRow = { id: string; email: string; platform_role: PlatformRole; password_hash: string }

/**
 * Password grant. The lookup runs, in a transaction of its own (`inTx`), under a context that can see
 * exactly the rows with this email; the password KDF runs after it, holding no database connection, so
 * a flood of logins cannot starve other tenants' requests of connections (issue 13 defect 2; with
 * PGlite, of *the* connection). An unknown email costs one scrypt like a known one. Whether the
 * account is active is `issueLoginTokens`' to check, in the transaction that issues the tokens.
 */
export async function passwordGrant(inTx: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>, email: string, password: string, workspaceId: string | undefined, faults: FaultSet, cost?: ScryptCost): Promise<Subject> {
  const { users, principals } = await inTx(async (tx) => ({
    users: (await tx.query<UserRow>('SELECT id, email, account_id, workspace_id, role, account_role, password_hash FROM users WHERE email = $1', [email])).rows,
    principals: (await tx.query<PrincipalRow>('SELECT id, email, platform_role, password_hash FROM principals WHERE email = $1', [email])).rows,
  }))
  // At least one KDF on every path, whatever matched: the answer's timing must not tell which e-mails
  // exist (issue 13 defect 3: a known e-mail with another workspace_id used to skip it).
  let hashed = false
  const verify = (hash: string) => ((hashed = true), verifyPassword(password, hash))
  // E-mails are unique per account (issue 13 defect 6): the password, and workspace_id when given, picks the user.
  let u: UserRow | undefined
  for (const row of users) {
    if ((workspaceId && workspaceId !== row.workspace_id) || !(await verify(row.password_hash))) continue
    if (u) throw new OAuthError('invalid_request', 'These credentials sign in to several workspaces: give workspace_id.')
    u = row
  }
  if (u) return { kind: 'user', id: u.id, email: u.email, accountId: u.account_id, workspaceId: u.workspace_id, role: u.role, accountRole: u.account_role }
  const p = principals[0]
  if (p && !workspaceId && (await verify(p.password_hash))) {
    return { kind: 'principal', id: p.id, email: p.email, platformRole: p.platform_role }
  }
  if (!hashed && !(faults.has('login-timing-oracle') && (users.length > 0 || p))) await verifyAgainstDummy(password, cost)
  throw badCredentials()
}

/** The tokens of a password login, once its subject is known: a suspended account cannot log in. */
export async function issueLoginTokens(tx: Tx, deps: ServerDeps, s: Subject): Promise<TokenResponse> {
  if (s.kind === 'user') {
    await tx.query("SELECT set_config('app.account_id', $1, true)", [s.accountId])
    const acct = await tx.query<{ status: string }>('SELECT status FROM accounts WHERE id = $1', [s.accountId])
    if (acct.rows[0]?.status !== 'active') throw badCredentials()
  }
  return issueTokens(tx, deps, s)
}

/** Issues the access, ID and refresh tokens for a subject; the refresh token is stored hashed in `familyId`. */
export async function issueTokens(tx: Tx, deps: ServerDeps, s: Subject, familyId: string = randomUUID()): Promise<TokenResponse> {
  const { settings } = deps
  const scope = s.kind === 'user' ? 'app dashboard' : 'portal'
  const access = await issueAccessToken(deps.keys, deps.tokens, s.kind === 'user'
    ? { sub: s.id, client_id: settings.clientId, scope, account_id: s.accountId, workspace_id: s.workspaceId, roles: tokenRolesFor(s.role, s.accountRole), sid: familyId }
    : { sub: s.id, client_id: settings.clientId, scope, platform_role: s.platformRole, sid: familyId })
  const idToken = await issueIdToken(deps.keys, deps.tokens, s.kind === 'user'
    ? { sub: s.id, email: s.email, account_id: s.accountId, workspace_id: s.workspaceId }
    : { sub: s.id, email: s.email })
  const refresh = randomBytes(32).toString('base64url')
  await tx.query("SELECT set_config('app.refresh_family', $1, true)", [familyId])
  // A rotated token never outlives its family: the family ends refreshFamilyTtlSeconds after its
  // first token (the login; now() for a new family). The fault refresh-family-endless slides it.
  const familyEnd = deps.faults.has('refresh-family-endless') ? 'now() + make_interval(secs => $7)'
    : 'LEAST(now() + make_interval(secs => $7), COALESCE((SELECT min(created_at) FROM refresh_tokens WHERE family_id = $2), now()) + make_interval(secs => $8))'
  await tx.query(
    `INSERT INTO refresh_tokens (token_hash, family_id, user_id, principal_id, account_id, workspace_id, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, ${familyEnd})`,
    [hashRefresh(refresh), familyId, s.kind === 'user' ? s.id : null, s.kind === 'principal' ? s.id : null,
      s.kind === 'user' ? s.accountId : null, s.kind === 'user' ? s.workspaceId : null, settings.refreshTtlSeconds,
      ...(deps.faults.has('refresh-family-endless') ? [] : [settings.refreshFamilyTtlSeconds])])
  return { access_token: access.token, token_type: 'Bearer', expires_in: access.expiresIn, refresh_token: refresh, id_token: idToken, scope }
}

interface RefreshRow { id: string; family_id: string; user_id: string | null; principal_id: string | null; account_id: string | null; expired: boolean; used_at: unknown; revoked_at: unknown }

/**
 * One refresh or revocation per login at a time (a transaction-scoped advisory lock on the family):
 * without it, under READ COMMITTED, two refreshes of one token both pass the `used_at` check, and a
 * family revoked while its newest token is being refreshed misses the child that refresh inserts.
 */
async function lockFamily(tx: Tx, familyId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [familyId])
}

const REFRESH_ROW = 'SELECT id, family_id, user_id, principal_id, account_id, expires_at < now() AS expired, used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1'

/**
 * Refresh grant with rotation: each refresh token works once, even when sent twice at once. Presenting
 * a used or revoked one is treated as theft, and revokes the whole family (every token of that login).
 * Returns the subject and family, or throws `invalid_grant`. `revokeFamily` runs in its own committed
 * transaction by the caller. `unguarded` is the seeded fault `refresh-token-race` (no lock, an
 * unconditional update: the reviewed defect). `familyTtlSeconds`: the family's absolute lifetime from
 * its login (issue 13 s2), undefined under the fault `refresh-family-endless`.
 */
export async function refreshGrant(tx: Tx, token: string, unguarded = false, familyTtlSeconds?: number): Promise<{ subject: Subject; familyId: string } | { reuse: string }> {
  const hash = hashRefresh(token)
  let row = (await tx.query<RefreshRow>(REFRESH_ROW, [hash])).rows[0]
  if (row && !unguarded) {
    await lockFamily(tx, row.family_id)
    row = (await tx.query<RefreshRow>(REFRESH_ROW, [hash])).rows[0] // what committed while we waited
  }
  if (!row || row.expired) throw new OAuthError('invalid_grant', 'The refresh token is invalid.')
  if (row.used_at || row.revoked_at) return { reuse: row.family_id }
  await tx.query("SELECT set_config('app.refresh_family', $1, true)", [row.family_id])
  // Past the family's absolute end (from the login), even a token issued under a longer setting is refused.
  if (familyTtlSeconds !== undefined) {
    const over = await tx.query<{ over: boolean }>('SELECT min(created_at) + make_interval(secs => $2) <= now() AS over FROM refresh_tokens WHERE family_id = $1', [row.family_id, familyTtlSeconds])
    if (over.rows[0]?.over) throw new OAuthError('invalid_grant', 'The refresh token is invalid.')
  }
  const spent = await tx.query(unguarded ? 'UPDATE refresh_tokens SET used_at = now() WHERE id = $1'
    : 'UPDATE refresh_tokens SET used_at = now() WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL', [row.id])
  if (spent.rowCount === 0) return { reuse: row.family_id }
  let subject: Subject | undefined
  if (row.user_id && row.account_id) {
    await tx.query("SELECT set_config('app.account_id', $1, true)", [row.account_id])
    const u = await tx.query<{ id: string; email: string; account_id: string; workspace_id: string; role: WorkspaceRole; account_role: 'admin' | null; status: string }>(
      'SELECT u.id, u.email, u.account_id, u.workspace_id, u.role, u.account_role, a.status FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.id = $1',
      [row.user_id])
    const r = u.rows[0]
    if (r && r.status === 'active') subject = { kind: 'user', id: r.id, email: r.email, accountId: r.account_id, workspaceId: r.workspace_id, role: r.role, accountRole: r.account_role }
  } else if (row.principal_id) {
    await tx.query("SELECT set_config('app.platform_role', 'support', true)")
    const p = await tx.query<{ id: string; email: string; platform_role: PlatformRole }>('SELECT id, email, platform_role FROM principals WHERE id = $1', [row.principal_id])
    await tx.query("SELECT set_config('app.platform_role', '', true)")
    const r = p.rows[0]
    if (r) subject = { kind: 'principal', id: r.id, email: r.email, platformRole: r.platform_role }
  }
  if (!subject) throw new OAuthError('invalid_grant', 'The refresh token is invalid.')
  return { subject, familyId: row.family_id }
}

/** The `revoked_tokens` key that ends every access token of one grant (its `sid`). */
export const grantRevocationKey = (familyId: string) => `grant:${familyId}`

/**
 * Revokes one login: every refresh token of the family, and every access token issued under it
 * (RFC 7009 §2.1: revoking a refresh token should also invalidate the access tokens of the same grant).
 * The grant's marker lives as long as any of its access tokens can: `accessLifetimeSeconds` from now.
 */
export async function revokeFamily(tx: Tx, familyId: string, accessLifetimeSeconds: number, unguarded = false): Promise<void> {
  if (!unguarded) await lockFamily(tx, familyId)
  await tx.query("SELECT set_config('app.refresh_family', $1, true)", [familyId])
  await tx.query('UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE family_id = $1', [familyId])
  await tx.query('INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, now() + make_interval(secs => $2)) ON CONFLICT (jti) DO NOTHING',
    [grantRevocationKey(familyId), accessLifetimeSeconds])
}
