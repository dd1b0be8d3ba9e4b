import type { Express } from 'express'
import { z } from 'zod'
import type { ServerDeps, UserActor, Call } from '../types.js'
import { mount } from '../route.js'
import { forbidden, notFound } from '../problem.js'
import { readPage, listPage } from '../pagination.js'
import { SQL_FIELDS, toAccount, toUser, toWorkspace } from '../../store/rows.js'
import { mayGrant, mayManage, type WorkspaceRole } from '../../tenancy/policy.js'
import { createUserBody, insertUser, passwordHash, workspaceRole } from '../users.js'
import { lockMemberForChange } from '../../tenancy/member-lock.js'

const patchWorkspace = z.object({ name: z.string().min(1).max(200).optional() })
const patchUser = z.object({ role: workspaceRole.optional(), accountRole: z.literal('admin').nullable().optional() })
export const createWorkspaceBody = z.object({ name: z.string().min(1).max(200), environment: z.enum(['development', 'staging', 'production']) })

// The account the authorization decided the call acts in (always the token's, unless a seeded fault says otherwise).
const accountOf = (call: Call) => call.accountId ?? (call.actor as UserActor).accountId

async function loadUser(call: Call) {
  const { rows } = await call.tx.query(`SELECT ${SQL_FIELDS.users} FROM users WHERE id = $1 AND workspace_id = $2 AND account_id = $3`,
    [call.params.userId, call.workspaceId, accountOf(call)])
  if (!rows[0]) throw notFound()
  return rows[0] as Record<string, unknown> & { role: WorkspaceRole; account_role: 'admin' | null }
}

/** Dashboard API: workspace admins for their workspace, account admins for every workspace of their account. */
export function mountDashboard(app: Express, deps: ServerDeps): void {
  const { faults } = deps

  mount(app, deps, 'getWorkspace', async (call) => {
    const { rows } = await call.tx.query(`SELECT ${SQL_FIELDS.workspaces} FROM workspaces WHERE id = $1 AND account_id = $2`, [call.workspaceId, accountOf(call)])
    if (!rows[0]) throw notFound()
    return { status: 200, body: toWorkspace(rows[0]) }
  })

  mount(app, deps, 'updateWorkspace', async (call) => {
    const input = patchWorkspace.parse(call.req.body)
    const { rows } = await call.tx.query(`UPDATE workspaces SET name = COALESCE($3, name) WHERE id = $1 AND account_id = $2 RETURNING ${SQL_FIELDS.workspaces}`,
      [call.workspaceId, accountOf(call), input.name ?? null])
    if (!rows[0]) throw notFound()
    return { status: 200, body: toWorkspace(rows[0]) }
  })

  mount(app, deps, 'listWorkspaceUsers', async (call) => ({
    status: 200,
    body: await listPage(call.tx, 'users', SQL_FIELDS.users, 'workspace_id = $1 AND account_id = $2', [call.workspaceId, accountOf(call)], readPage(call.req), toUser),
  }))

  mount(app, deps, 'createWorkspaceUser', async (call) => {
    const input = createUserBody.parse(call.req.body)
    const accountRole = faults.has('workspace-admin-grants-account-admin') ? undefined : (input.accountRole ?? undefined)
    if (!mayGrant(call.roles, input.role, accountRole)) throw forbidden('The caller may not grant this role.')
    return { status: 201, body: await insertUser(call.tx, accountOf(call), call.workspaceId!, input, deps.faults, await passwordHash(call, input.password)) }
  }, {
    // An admin of the path's workspace by its claims: the login workspace only (a sibling's is the account's to
    // resolve, in the transaction), so a cross-tenant create is refused before any hash, as it always was.
    password: { mayHashAhead: (caller, params) => caller.kind === 'user' && params.workspaceId === caller.workspaceId && (caller.roles.includes('workspace:admin') || caller.roles.includes('account:admin')) },
  })

  mount(app, deps, 'getWorkspaceUser', async (call) => ({ status: 200, body: toUser(await loadUser(call)) }))

  mount(app, deps, 'updateWorkspaceUser', async (call) => {
    const input = patchUser.parse(call.req.body)
    await lockMemberForChange(call.tx, call.params.userId!, faults)
    const target = await loadUser(call)
    const accountRole = faults.has('workspace-admin-grants-account-admin') ? undefined : input.accountRole
    if (!mayManage(call.roles, { role: target.role, accountRole: target.account_role }) || !mayGrant(call.roles, input.role, accountRole)) {
      throw forbidden('The caller may not grant this role.')
    }
    const { rows } = await call.tx.query(
      `UPDATE users SET role = COALESCE($4, role), account_role = CASE WHEN $5 THEN $6 ELSE account_role END
        WHERE id = $1 AND workspace_id = $2 AND account_id = $3 RETURNING ${SQL_FIELDS.users}`,
      [call.params.userId, call.workspaceId, accountOf(call), input.role ?? null, input.accountRole !== undefined, input.accountRole ?? null])
    return { status: 200, body: toUser(rows[0]!) }
  })

  mount(app, deps, 'deleteWorkspaceUser', async (call) => {
    await lockMemberForChange(call.tx, call.params.userId!, faults)
    const target = await loadUser(call)
    if (!mayManage(call.roles, { role: target.role, accountRole: target.account_role })) throw forbidden()
    await call.tx.query('DELETE FROM users WHERE id = $1 AND workspace_id = $2 AND account_id = $3', [call.params.userId, call.workspaceId, accountOf(call)])
    return { status: 204 }
  })

  mount(app, deps, 'getAccountDashboard', async (call) => {
    const { rows } = await call.tx.query(`SELECT ${SQL_FIELDS.accounts} FROM accounts WHERE id = $1`, [call.accountId])
    if (!rows[0]) throw notFound()
    return { status: 200, body: toAccount(rows[0]) }
  })

  mount(app, deps, 'listAccountWorkspaces', async (call) => ({
    status: 200,
    body: await listPage(call.tx, 'workspaces', SQL_FIELDS.workspaces, 'account_id = $1', [call.accountId], readPage(call.req), toWorkspace),
  }))

  mount(app, deps, 'createAccountWorkspace', async (call) => {
    const input = createWorkspaceBody.parse(call.req.body)
    const { rows } = await call.tx.query(`INSERT INTO workspaces (account_id, name, environment) VALUES ($1, $2, $3) RETURNING ${SQL_FIELDS.workspaces}`,
      [call.accountId, input.name, input.environment])
    return { status: 201, body: toWorkspace(rows[0]!) }
  })
}
