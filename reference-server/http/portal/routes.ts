import type { Express } from 'express'
import { z } from 'zod'
import type { ServerDeps, Call } from '../types.js'
import { mount, type MountOptions } from '../route.js'
import { notFound } from '../problem.js'
import { readPage, listPage } from '../pagination.js'
import { SQL_FIELDS, toAccount, toPrincipal, toUser, toWorkspace } from '../../store/rows.js'
import { HttpError } from '../problem.js'
import { createUserBody, email, insertUser, password, passwordHash } from '../users.js'
import { createWorkspaceBody } from '../dashboard/routes.js'

const name = z.string().min(1).max(100)
const createAccount = z.object({ name })
const patchAccount = z.object({
  name: name.optional(),
  status: z.enum(['active', 'suspended']).optional(),
  rateLimit: z.object({ requestsPerSecond: z.number().int().min(1).max(100_000), burst: z.number().int().min(1).max(100_000) }).optional(),
})
/** Only a platform admin writes through the Portal (support is read-only): its password is hashed before the transaction. */
const platformAdminHashesAhead: MountOptions = { password: { mayHashAhead: (caller) => caller.kind === 'principal' && caller.platformRole === 'platform_admin' } }
const createPrincipal = z.object({ email, password, platformRole: z.enum(['platform_admin', 'support']) })

async function requireAccount(call: Call) {
  const { rows } = await call.tx.query(`SELECT ${SQL_FIELDS.accounts} FROM accounts WHERE id = $1`, [call.params.accountId])
  if (!rows[0]) throw notFound()
  return rows[0]
}

async function requireWorkspace(call: Call) {
  const { rows } = await call.tx.query(`SELECT ${SQL_FIELDS.workspaces} FROM workspaces WHERE id = $1 AND account_id = $2`,
    [call.params.workspaceId, call.params.accountId])
  if (!rows[0]) throw notFound()
  return rows[0]
}

/** Portal API: platform principals only (the x-tenancy context and the role table keep users out). */
export function mountPortal(app: Express, deps: ServerDeps): void {
  mount(app, deps, 'listAccounts', async (call) => ({
    status: 200, body: await listPage(call.tx, 'accounts', SQL_FIELDS.accounts, 'true', [], readPage(call.req), toAccount),
  }))

  mount(app, deps, 'createAccount', async (call) => {
    const input = createAccount.parse(call.req.body)
    const { rows } = await call.tx.query(`INSERT INTO accounts (name) VALUES ($1) RETURNING ${SQL_FIELDS.accounts}`, [input.name])
    return { status: 201, body: toAccount(rows[0]!) }
  })

  mount(app, deps, 'getAccount', async (call) => ({ status: 200, body: toAccount(await requireAccount(call)) }))

  mount(app, deps, 'updateAccount', async (call) => {
    const input = patchAccount.parse(call.req.body)
    await requireAccount(call)
    const { rows } = await call.tx.query(
      `UPDATE accounts SET name = COALESCE($2, name), status = COALESCE($3, status), rate_limit = COALESCE($4::jsonb, rate_limit)
        WHERE id = $1 RETURNING ${SQL_FIELDS.accounts}`,
      [call.params.accountId, input.name ?? null, input.status ?? null, input.rateLimit ? JSON.stringify(input.rateLimit) : null])
    if (!rows[0]) throw notFound()
    // The new quota applies at once in this process (other processes re-read it within quotaCacheMs).
    if (input.rateLimit) call.deps.limiter.quotaChanged(call.params.accountId!, input.rateLimit)
    return { status: 200, body: toAccount(rows[0]) }
  })

  mount(app, deps, 'deleteAccount', async (call) => {
    const res = await call.tx.query('DELETE FROM accounts WHERE id = $1', [call.params.accountId])
    if (res.rowCount === 0) throw notFound()
    call.deps.limiter.quotaChanged(call.params.accountId!, undefined)
    return { status: 204 }
  })

  mount(app, deps, 'listPortalWorkspaces', async (call) => {
    await requireAccount(call)
    return { status: 200, body: await listPage(call.tx, 'workspaces', SQL_FIELDS.workspaces, 'account_id = $1', [call.params.accountId], readPage(call.req), toWorkspace) }
  })

  mount(app, deps, 'createPortalWorkspace', async (call) => {
    const input = createWorkspaceBody.parse(call.req.body)
    await requireAccount(call)
    const { rows } = await call.tx.query(`INSERT INTO workspaces (account_id, name, environment) VALUES ($1, $2, $3) RETURNING ${SQL_FIELDS.workspaces}`,
      [call.params.accountId, input.name, input.environment])
    return { status: 201, body: toWorkspace(rows[0]!) }
  })

  mount(app, deps, 'getPortalWorkspace', async (call) => ({ status: 200, body: toWorkspace(await requireWorkspace(call)) }))

  mount(app, deps, 'deletePortalWorkspace', async (call) => {
    await requireWorkspace(call)
    await call.tx.query('DELETE FROM workspaces WHERE id = $1 AND account_id = $2', [call.params.workspaceId, call.params.accountId])
    return { status: 204 }
  })

  mount(app, deps, 'listPortalUsers', async (call) => {
    await requireWorkspace(call)
    return { status: 200, body: await listPage(call.tx, 'users', SQL_FIELDS.users, 'account_id = $1 AND workspace_id = $2',
      [call.params.accountId, call.params.workspaceId], readPage(call.req), toUser) }
  })

  mount(app, deps, 'createPortalUser', async (call) => {
    const input = createUserBody.parse(call.req.body)
    await requireWorkspace(call)
    return { status: 201, body: await insertUser(call.tx, call.params.accountId!, call.params.workspaceId!, input, deps.faults, await passwordHash(call, input.password)) }
  }, platformAdminHashesAhead)

  mount(app, deps, 'listPrincipals', async (call) => ({
    status: 200, body: await listPage(call.tx, 'principals', SQL_FIELDS.principals, 'true', [], readPage(call.req), toPrincipal),
  }))

  mount(app, deps, 'createPrincipal', async (call) => {
    const input = createPrincipal.parse(call.req.body)
    const hash = await passwordHash(call, input.password)
    const { rows } = await call.tx.query(
      `INSERT INTO principals (email, password_hash, platform_role) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING RETURNING ${SQL_FIELDS.principals}`,
      [input.email, hash, input.platformRole])
    if (!rows[0]) throw new HttpError(409, 'conflict', 'A principal with this email exists.')
    return { status: 201, body: toPrincipal(rows[0]) }
  }, platformAdminHashesAhead)

  mount(app, deps, 'deletePrincipal', async (call) => {
    // A principal cannot delete itself: the platform must never be left without an administrator by accident.
    if (call.params.principalId === call.actor.id) throw new HttpError(409, 'conflict', 'A principal cannot delete itself.')
    const res = await call.tx.query('DELETE FROM principals WHERE id = $1', [call.params.principalId])
    if (res.rowCount === 0) throw notFound()
    return { status: 204 }
  })
}
