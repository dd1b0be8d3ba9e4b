import type { ContractOperation, Tenancy } from './contract.js'
import type { Actor, SeededObject, Topology } from './topology.js'

/**
 * The policy oracle: for any actor and annotated operation on any target, whether the target must
 * allow it. Derived only from `x-tenancy` and the role semantics of DESIGN §2, so it works for any
 * conforming deployment. `deny` covers every refusal (403 or 404, as the profile says);
 * `unauthenticated` is a request without a token to a non-public operation (401).
 */
export type Expectation = 'allow' | 'deny' | 'unauthenticated'

export interface OpTarget {
  /** The account in the path (account scope) or owning the workspace. */
  accountId?: string
  /** The workspace in the path (workspace scope). */
  workspaceId?: string
  /** The object the path names, if any (it may belong elsewhere than the path's workspace). */
  object?: SeededObject
}

type Annotated = Pick<ContractOperation, 'id'> & { tenancy: Tenancy }

/** Roles a user holds in its own login workspace (an account admin also holds `admin` there). */
export function rolesInOwnWorkspace(actor: Actor): string[] {
  const roles: string[] = actor.role ? [actor.role] : []
  if (actor.accountRole === 'admin') roles.push('admin', 'account_admin')
  return roles
}

/** Roles a user holds in other workspaces of its own account: account roles only. */
export function rolesInSiblingWorkspace(actor: Actor): string[] {
  return actor.accountRole === 'admin' ? ['account_admin'] : []
}

export function expected(op: Annotated, actor: Actor, target: OpTarget = {}): Expectation {
  const { context, scope, allow, owner } = op.tenancy
  if (context === 'public' || context === 'auth') return 'allow'
  if (actor.kind === 'anonymous') return 'unauthenticated'
  if (context === 'portal' || scope === 'platform') {
    return actor.kind === 'principal' && actor.platformRole !== undefined && allow.includes(actor.platformRole) ? 'allow' : 'deny'
  }
  if (actor.kind !== 'user') return 'deny' // principals act only through the Portal
  let roles: string[]
  if (scope === 'workspace') {
    const ws = target.workspaceId
    if (ws === undefined) return 'deny'
    if (ws === actor.workspaceId) roles = rolesInOwnWorkspace(actor)
    else if (target.accountId !== undefined && target.accountId === actor.accountId) roles = rolesInSiblingWorkspace(actor)
    else roles = []
    // An object reached through a workspace it does not belong to is a foreign object.
    if (target.object && target.object.workspaceId !== ws) return 'deny'
  } else if (scope === 'account') {
    roles = target.accountId === actor.accountId ? rolesInSiblingWorkspace(actor) : []
  } else {
    roles = rolesInOwnWorkspace(actor)
  }
  if (!roles.some((r) => allow.includes(r))) return 'deny'
  if (owner && target.object && target.object.ownerLabel !== actor.label) return 'deny'
  return 'allow'
}

/**
 * May `actor` see this object's content through some documented read or list operation? A canary
 * of an object the actor may not see, found in any response to that actor, is a leak.
 */
export function maySee(ops: readonly (ContractOperation & { tenancy: Tenancy })[], actor: Actor, object: SeededObject): boolean {
  if (actor.label === object.ownerLabel) return true
  return ops.some(
    (op) =>
      op.resource === object.resource &&
      (op.verb === 'read' || op.verb === 'list') &&
      expected(op, actor, { accountId: object.accountId, workspaceId: object.workspaceId, object: op.verb === 'read' ? object : undefined }) === 'allow' &&
      // A list of an owner-only resource (object.private) shows only the caller's own objects,
      // whatever the list's own annotation says: reads of one object decide who may see it.
      !(object.private && op.verb !== 'read'),
  )
}

/** Relation of a target workspace to an actor, for matrix columns and messages. */
export function relation(actor: Actor, t: Topology, workspaceId: string | undefined): 'own-workspace' | 'sibling-workspace' | 'other-account' | 'none' {
  if (!workspaceId) return 'none'
  if (workspaceId === actor.workspaceId) return 'own-workspace'
  const acct = t.accounts.find((a) => a.workspaces.some((w) => w.id === workspaceId))
  return acct && acct.id === actor.accountId ? 'sibling-workspace' : 'other-account'
}
