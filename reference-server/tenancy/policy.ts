import { createRequire } from 'node:module'

/** The role table (roles.json): the only place the server learns which role may do what, with the x-tenancy annotations. */
export interface RoleTable {
  workspaceRoles: WorkspaceRole[]
  accountRoles: string[]
  principalRoles: PlatformRole[]
  rank: Record<string, number>
  tokenRoles: Record<string, string>
  accountRoleImplies: Record<string, string>
  contexts: Record<string, { actors: ActorKind[]; scope?: string }>
  grants: Record<string, { maxWorkspaceRole: WorkspaceRole; accountAdmin: boolean }>
  readOnly: string[]
}

export type WorkspaceRole = 'viewer' | 'editor' | 'admin'
export type PlatformRole = 'platform_admin' | 'support'
export type ActorKind = 'anonymous' | 'user' | 'principal'

export const roleTable: RoleTable = createRequire(import.meta.url)('./roles.json')

/** Token `roles` claim for a user: `workspace:<role>` plus `account:admin` for account admins. */
export function tokenRolesFor(role: WorkspaceRole, accountRole: 'admin' | null): string[] {
  const claims = [`workspace:${accountRole === 'admin' ? maxRole(role, 'admin') : role}`]
  if (accountRole === 'admin') claims.unshift('account:admin')
  return claims
}

/**
 * The roles a user holds in its own (login) workspace: its workspace role, plus what its account role
 * implies there (an account admin holds `admin` in its login workspace), plus the account role itself.
 */
export function rolesInOwnWorkspace(role: WorkspaceRole, accountRole: 'admin' | null): string[] {
  if (accountRole !== 'admin') return [role]
  const implied = roleTable.accountRoleImplies.account_admin as WorkspaceRole
  return [...new Set([role, implied, 'account_admin'])]
}

/** Roles that act outside the login workspace, within the caller's own account: account roles only. */
export function rolesInSiblingWorkspace(accountRole: 'admin' | null): string[] {
  return accountRole === 'admin' ? ['account_admin'] : []
}

export function rank(role: string): number {
  return roleTable.rank[role] ?? 0
}

function maxRole(a: WorkspaceRole, b: WorkspaceRole): WorkspaceRole {
  return rank(a) >= rank(b) ? a : b
}

/**
 * May a caller holding `callerRoles` hand out `role` (and `accountRole`)? Nobody grants above their own
 * rank; only account admins (and platform admins) grant account_admin.
 */
export function mayGrant(callerRoles: readonly string[], role: WorkspaceRole | undefined, accountRole: 'admin' | null | undefined): boolean {
  const grants = callerRoles.map((r) => roleTable.grants[r]).filter((g) => g !== undefined)
  if (grants.length === 0) return false
  if (role !== undefined && !grants.some((g) => rank(role) <= rank(g.maxWorkspaceRole))) return false
  // Granting or removing account_admin both need the power to grant it.
  if (accountRole !== undefined && !grants.some((g) => g.accountAdmin)) return false
  return true
}

export function isReadOnly(role: string): boolean {
  return roleTable.readOnly.includes(role)
}

/** A caller manages a user only if that user's highest role does not outrank the caller's. */
export function mayManage(callerRoles: readonly string[], target: { role: WorkspaceRole; accountRole: 'admin' | null }): boolean {
  const top = (roles: readonly string[]) => Math.max(0, ...roles.map(rank))
  return top(rolesInOwnWorkspace(target.role, target.accountRole)) <= top(callerRoles)
}
