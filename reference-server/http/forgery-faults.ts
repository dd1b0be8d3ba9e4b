/**
 * The two forgery faults that need the request or the database rather than the verifier
 * (reference-server/faults/forgery.ts). Each runs only behind its own `faults.has(...)` guard.
 */
import { randomUUID } from 'node:crypto'
import type { Request } from 'express'
import type { VerifiedToken } from '../auth/verify.js'
import type { Database } from '../store/db.js'
import { hashRefresh } from './auth/grants.js'
import type { Operation } from '../contract.js'
import type { Decision } from '../tenancy/authorize.js'
import { rolesInOwnWorkspace, type WorkspaceRole } from '../tenancy/policy.js'
import { forbidden } from './problem.js'

/** `refresh-token-as-access-token`: a Bearer value that is a live refresh token becomes its user's access token. */
export async function refreshTokenAsAccess(db: Database, authorization: string | undefined): Promise<VerifiedToken | undefined> {
  const raw = authorization?.replace(/^bearer\s+/i, '').trim()
  if (!raw || raw.includes('.')) return undefined
  const hash = hashRefresh(raw)
  const row = await db.withTenant({ refreshHash: hash }, async (tx) => (await tx.query<{ user_id: string | null; account_id: string | null; workspace_id: string | null }>(
    'SELECT user_id, account_id, workspace_id FROM refresh_tokens WHERE token_hash = $1 AND revoked_at IS NULL', [hash])).rows[0])
  if (!row?.user_id) return undefined
  const now = Math.floor(Date.now() / 1000)
  return { sub: row.user_id, jti: randomUUID(), clientId: 'refresh', scope: ['app', 'dashboard'], accountId: row.account_id, workspaceId: row.workspace_id,
    roles: [], platformRole: null, kind: 'user', exp: now + 60, iat: now, sid: null }
}

/**
 * `tenant-from-unverified-header`: `X-Account-Id` / `X-Workspace-Id` replace the token's tenant.
 */
export function tenantFromHeaders(req: Request, token: VerifiedToken): VerifiedToken | undefined {
  const accountId = req.get('x-account-id')
  const workspaceId = req.get('x-workspace-id')
  if (token.kind !== 'user' || !accountId || !workspaceId) return undefined
  return { ...token, accountId, workspaceId }
}

/** The decision `tenant-from-unverified-header` makes instead of `authorize`: role from the token, tenant from the headers. */
export function headerTenantDecision(op: Operation, token: VerifiedToken, params: Record<string, string>): Decision {
  const role = (token.roles.find((r) => r.startsWith('workspace:'))?.slice('workspace:'.length) ?? 'viewer') as WorkspaceRole
  const accountRole = token.roles.includes('account:admin') ? 'admin' as const : null
  const granted = rolesInOwnWorkspace(role, accountRole).filter((r) => op.tenancy.allow.includes(r))
  if (granted.length === 0) throw forbidden()
  return {
    actor: { kind: 'user', id: token.sub, email: '', accountId: token.accountId!, workspaceId: token.workspaceId!, role, accountRole },
    roles: granted,
    workspaceId: params.workspaceId ?? token.workspaceId!,
    accountId: token.accountId!,
  }
}
