import type { Operation } from '../contract.js'
import type { VerifiedToken } from '../auth/verify.js'
import type { Tx } from '../store/db.js'
import type { FaultSet } from '../faults/index.js'
import type { Actor, UserActor } from '../http/types.js'
import { HttpError, notFound, forbidden } from '../http/problem.js'
import { roleTable, rolesInOwnWorkspace, rolesInSiblingWorkspace, type PlatformRole, type WorkspaceRole } from './policy.js'

export interface Decision {
  actor: Actor
  roles: string[]
  workspaceId: string | undefined
  accountId: string | undefined
}

const invalidToken = () => new HttpError(401, 'invalid-token', 'The access token is missing or invalid.')

type PrincipalRow = { id: string; email: string; platform_role: PlatformRole }
type UserRow = { id: string; email: string; account_id: string; workspace_id: string; role: WorkspaceRole; account_role: 'admin' | null; status: string }

/**
 * What the start of an authenticated request reads, in one statement (one round trip): whether the
 * token is revoked, the caller as the database knows it now, and (a user naming another workspace of
 * its account in the path) whether that workspace is a sibling. `authorize` takes it instead of reading again.
 */
export interface CallerRead {
  revoked: boolean
  /** The caller's row; undefined when it no longer exists. */
  row: PrincipalRow | UserRow | undefined
  /** The workspace asked about and whether it belongs to the token's account. */
  sibling?: { workspaceId: string; accountId: string; exists: boolean }
}

const PRINCIPAL_READ = `SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1 OR jti = $2) AS revoked, p.id, p.email, p.platform_role
  FROM (SELECT 1) AS one LEFT JOIN principals p ON p.id = $3`
const USER_READ = `SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1 OR jti = $2) AS revoked,
       u.id, u.email, u.account_id, u.workspace_id, u.role, u.account_role, a.status,
       EXISTS (SELECT 1 FROM workspaces w WHERE w.id = $4 AND w.account_id = $5) AS sibling
  FROM (SELECT 1) AS one LEFT JOIN (users u JOIN accounts a ON a.id = u.account_id) ON u.id = $3`

/**
 * Reads revocation, caller and sibling workspace in one statement. `revocationKeys` are the jtis that
 * revoke this token (its own and its grant's marker); undefined checks none (the seeded fault
 * `revoked-tokens-accepted`).
 */
export async function readCaller(tx: Tx, token: VerifiedToken, params: Record<string, string>, revocationKeys: readonly [string, string] | undefined): Promise<CallerRead> {
  const [k1, k2] = revocationKeys ?? [null, null]
  if (token.kind === 'principal') {
    const { rows } = await tx.query<PrincipalRow & { revoked: boolean }>(PRINCIPAL_READ, [k1, k2, token.sub])
    const r = rows[0]!
    return { revoked: r.revoked, row: r.id === null ? undefined : { id: r.id, email: r.email, platform_role: r.platform_role } }
  }
  const accountId = token.accountId
  const ws = params.workspaceId !== undefined && params.workspaceId !== token.workspaceId && accountId ? params.workspaceId : undefined
  const { rows } = await tx.query<UserRow & { revoked: boolean; sibling: boolean }>(USER_READ, [k1, k2, token.sub, ws ?? null, accountId ?? null])
  const r = rows[0]!
  const { revoked, sibling, ...row } = r
  return { revoked, row: r.id === null ? undefined : row, ...(ws !== undefined && accountId ? { sibling: { workspaceId: ws, accountId, exists: sibling } } : {}) }
}

/** Re-reads the caller on every request, so removal, demotion and suspension apply at once (ASVS 8.3.2). */
async function loadActor(tx: Tx, token: VerifiedToken, faults: FaultSet, read?: CallerRead): Promise<Actor> {
  if (token.kind === 'principal') {
    const p = read ? (read.row as PrincipalRow | undefined) : (await tx.query<PrincipalRow>(
      'SELECT id, email, platform_role FROM principals WHERE id = $1', [token.sub])).rows[0]
    if (!p) throw invalidToken()
    return { kind: 'principal', id: p.id, email: p.email, platformRole: p.platform_role }
  }
  const u = read ? (read.row as UserRow | undefined) : (await tx.query<UserRow>(
    `SELECT u.id, u.email, u.account_id, u.workspace_id, u.role, u.account_role, a.status
       FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.id = $1`, [token.sub])).rows[0]
  if (faults.has('stale-token-after-removal') && token.accountId && token.workspaceId) {
    // The bug: membership and role come from the token, so removal and demotion wait for expiry.
    const role = (token.roles.find((r) => r.startsWith('workspace:'))?.slice('workspace:'.length) ?? 'viewer') as WorkspaceRole
    return { kind: 'user', id: token.sub, email: u?.email ?? '', accountId: token.accountId, workspaceId: token.workspaceId, role, accountRole: token.roles.includes('account:admin') ? 'admin' : null }
  }
  if (!u || u.account_id !== token.accountId || u.workspace_id !== token.workspaceId) throw invalidToken()
  if (u.status !== 'active' && !faults.has('suspended-account-tokens-work')) {
    throw new HttpError(403, 'account-suspended', 'The account is suspended.')
  }
  return { kind: 'user', id: u.id, email: u.email, accountId: u.account_id, workspaceId: u.workspace_id, role: u.role, accountRole: u.account_role }
}

async function workspaceRoles(tx: Tx, op: Operation, actor: UserActor, workspaceId: string, faults: FaultSet, read?: CallerRead): Promise<{ roles: string[]; accountId: string }> {
  if (workspaceId === actor.workspaceId) return { roles: rolesInOwnWorkspace(actor.role, actor.accountRole), accountId: actor.accountId }
  // Read with the caller when it asked about this workspace of this account (it did, unless a fault changed the actor).
  const known = read?.sibling?.workspaceId === workspaceId && read.sibling.accountId === actor.accountId ? read.sibling.exists : undefined
  const sibling = known ?? (await tx.query('SELECT 1 FROM workspaces WHERE id = $1 AND account_id = $2', [workspaceId, actor.accountId])).rowCount > 0
  if (sibling) {
    if (faults.has('workspace-admin-lists-foreign-users') && op.operationId === 'listWorkspaceUsers' && actor.role === 'admin') {
      return { roles: ['admin'], accountId: actor.accountId }
    }
    return { roles: rolesInSiblingWorkspace(actor.accountRole), accountId: actor.accountId }
  }
  if (faults.has('account-admin-foreign-account') && actor.accountRole === 'admin') {
    // The bug: the tenant is taken from the path's workspace, looked up with platform rights.
    await tx.query("SELECT set_config('app.platform_role', 'support', true)")
    const { rows } = await tx.query<{ account_id: string }>('SELECT account_id FROM workspaces WHERE id = $1', [workspaceId])
    await tx.query("SELECT set_config('app.platform_role', '', true)")
    if (rows[0]) {
      await tx.query("SELECT set_config('app.account_id', $1, true)", [rows[0].account_id])
      return { roles: ['account_admin'], accountId: rows[0].account_id }
    }
  }
  throw notFound() // a workspace of another account, or none: existence is not revealed
}

/**
 * Decides one call from the operation's x-tenancy annotation and the role table; runs inside the
 * request's transaction. Tenant ids come only from the verified token; path ids must match them.
 * 404 for objects the caller may not know about; 403 for a known place where the role is too low.
 */
export async function authorize(tx: Tx, op: Operation, token: VerifiedToken, params: Record<string, string>, faults: FaultSet, read?: CallerRead): Promise<Decision> {
  const { context, scope, allow } = op.tenancy
  const ctx = roleTable.contexts[context]
  if (faults.has('user-token-on-portal') && context === 'portal' && token.kind === 'user' && token.roles.includes('account:admin')) {
    // The bug: the Portal checks for an admin-looking role, not for a principal token.
    if (!allow.includes('support')) throw forbidden()
    return { actor: { kind: 'principal', id: token.sub, email: '', platformRole: 'support' }, roles: ['support'], workspaceId: undefined, accountId: params.accountId }
  }
  if (!ctx || !ctx.actors.includes(token.kind) || (ctx.scope && !token.scope.includes(ctx.scope))) {
    throw new HttpError(403, 'insufficient-scope', `This token may not be used on the ${context} API.`)
  }
  const actor = await loadActor(tx, token, faults, read)
  let roles: string[]
  let workspaceId: string | undefined
  let accountId: string | undefined
  let known = true
  if (actor.kind === 'principal') {
    roles = [actor.platformRole]
    accountId = params.accountId
    if (faults.has('support-can-write') && actor.platformRole === 'support') {
      // The bug: support is treated as platform_admin, for the database too.
      roles.push('platform_admin')
      await tx.query("SELECT set_config('app.platform_role', 'platform_admin', true)")
    }
  } else if (scope === 'workspace') {
    workspaceId = params.workspaceId as string
    ;({ roles, accountId } = await workspaceRoles(tx, op, actor, workspaceId, faults, read))
    known = workspaceId === actor.workspaceId
    if (faults.has('editor-raises-own-role') && op.operationId === 'updateWorkspaceUser' && params.userId === actor.id) roles.push('admin')
  } else if (scope === 'account') {
    if (params.accountId !== actor.accountId) throw notFound()
    accountId = actor.accountId
    roles = actor.accountRole === 'admin' ? ['account_admin'] : []
  } else {
    roles = rolesInOwnWorkspace(actor.role, actor.accountRole)
  }
  const granted = roles.filter((r) => allow.includes(r))
  if (granted.length === 0) throw known ? forbidden() : notFound()
  return { actor, roles: granted, workspaceId, accountId }
}
