import { randomBytes } from 'node:crypto'
import type { HttpResponse } from '../adapters/http.js'
import { ANONYMOUS, type Actor, type WorkspaceNode, type WorkspaceRole } from '../core/topology.js'
import { expected, rolesInOwnWorkspace, rolesInSiblingWorkspace, type OpTarget } from '../core/oracle.js'
import { bodyFromSchema, type BodyHints } from '../provision/bodies.js'
import { newPassword } from '../provision/session.js'
import { roleChoices } from '../provision/roles.js'
import type { CheckContext } from './context.js'
import type { Op } from './judge.js'
import { objectParam } from './targets.js'
import { platformAdmin } from './throwaway.js'

/**
 * Throwaway members and role bookkeeping for the checks that change who belongs where
 * (privilege escalation, stale membership, the stateful model). Every operation is found through
 * `x-tenancy` (resource `users`, verbs create/read/list/update/delete); field names come from the
 * contract's schemas; ranks are the model's (DESIGN §1: viewer < editor < admin < account_admin).
 */
export const RANK: Record<string, number> = { viewer: 1, editor: 2, admin: 3, account_admin: 4 }
export const ROLE_OF_RANK: WorkspaceRole[] = ['viewer', 'viewer', 'editor', 'admin']

/** A user as the target stores it. */
export interface UserRecord { id?: unknown; role?: string; accountRole?: unknown }

export function rankOf(u: UserRecord): number {
  return u.accountRole ? RANK.account_admin! : RANK[String(u.role)] ?? 0
}

/**
 * The target's names of the user fields: the key that carries a hinted value in one body built from
 * the schema and another value (or nothing) in a body built with another hint. Matching on the value,
 * not on any difference, because free-text fields differ between any two bodies.
 */
export function userFields(ctx: CheckContext, schema: unknown): { role?: string; accountRole?: string; email?: string } {
  const viewer = roleHint(ctx, schema, 'viewer')
  const admin = roleHint(ctx, schema, 'admin')
  const accountAdmin = accountRoleHint(ctx, schema)
  const field = (a: BodyHints, b: BodyHints, value: string) => {
    const x = (bodyFromSchema(ctx.contract, schema ?? {}, a) ?? {}) as Record<string, unknown>
    const y = (bodyFromSchema(ctx.contract, schema ?? {}, b) ?? {}) as Record<string, unknown>
    return Object.keys(x).find((k) => x[k] === value && y[k] !== value)
  }
  return {
    role: field({ role: viewer }, { role: admin }, viewer),
    accountRole: field({ accountRole: accountAdmin }, {}, accountAdmin),
    email: field({ email: 'a@tenant-audit.test' }, { email: 'b@tenant-audit.test' }, 'a@tenant-audit.test'),
  }
}

/** How the deployment spells a workspace role in a users body (its schema's enum, else the `allow` spelling). */
export function roleHint(ctx: CheckContext, schema: unknown, role: WorkspaceRole): string {
  return ctx.contract.vocabulary.roleValue(role, roleChoices(ctx.contract, schema, 'role'))
}

/** How the deployment spells "account admin" in a users body's account-role field (`admin` in the reference). */
export function accountRoleHint(ctx: CheckContext, schema: unknown): string {
  const choices = roleChoices(ctx.contract, schema, 'accountRole')
  return choices?.includes('admin') ? 'admin' : ctx.contract.vocabulary.roleValue('account_admin', choices)
}

/** Pseudo object for a user, so the oracle can judge operations that name it. */
function asObject(ctx: CheckContext, u: Actor) {
  return { label: u.label, resource: ctx.contract.vocabulary.name('user'), id: u.id!, accountId: u.accountId!, workspaceId: u.workspaceId!, ownerLabel: u.label, private: false, canary: '' }
}

/** The rank of the roles `actor` holds where an operation on `target` acts (0 when the oracle denies it the call). */
export function grantCeiling(op: Op, actor: Actor, target: OpTarget): number {
  if (expected(op, actor, target) !== 'allow') return 0
  if (actor.kind === 'principal') return op.tenancy.allow.includes(actor.platformRole ?? '') ? RANK.account_admin! : 0
  const roles = target.workspaceId === undefined || target.workspaceId === actor.workspaceId ? rolesInOwnWorkspace(actor) : rolesInSiblingWorkspace(actor)
  return Math.max(0, ...roles.filter((r) => op.tenancy.allow.includes(r)).map((r) => RANK[r] ?? 0))
}

/** The first operation on `users` with one of `verbs` and an actor allowed to call it on `user` (principals first, then the highest rank). */
export function manager(ctx: CheckContext, verbs: string[], user: Actor): { op: Op; actor: Actor } | undefined {
  const t = ctx.topology
  const admin = platformAdmin(t)
  const candidates = [...(admin ? [admin] : []), ...t.actors.filter((a) => a.kind === 'user' && a.accountId === user.accountId)
    .sort((a, b) => rankOf({ role: b.role, accountRole: b.accountRole }) - rankOf({ role: a.role, accountRole: a.accountRole }))]
  const target = { accountId: user.accountId, workspaceId: user.workspaceId, object: asObject(ctx, user) }
  for (const verb of verbs) {
    for (const op of ctx.contract.byRole('user', verb).sort((a, b) => Number(b.tenancy.context === 'portal') - Number(a.tenancy.context === 'portal'))) {
      const actor = candidates.find((a) => grantCeiling(op, a, target) >= RANK.account_admin! || (verb !== 'update' && expected(op, a, target) === 'allow'))
      if (actor) return { op, actor }
    }
  }
  return undefined
}

/** Path of a users operation aimed at one user. */
export function userPath(ctx: CheckContext, op: Op, user: Pick<Actor, 'id' | 'accountId' | 'workspaceId'>): string {
  const param = objectParam(ctx.topology, op)
  return ctx.pathFor(op, { accountId: user.accountId, workspaceId: user.workspaceId }, param && user.id ? { [param]: user.id } : {})
}

/** Logs a user in through the profile's token endpoint (password grant, RFC 6749 §4.3). */
export async function login(ctx: CheckContext, username: string, password: string, workspaceId?: string): Promise<{ token: string; expiresIn?: number } | undefined> {
  const form = new URLSearchParams({ grant_type: 'password', username, password })
  if (workspaceId && ctx.profile.auth.workspaceParam) form.set(ctx.profile.auth.workspaceParam, workspaceId)
  const res = await ctx.as(ANONYMOUS).send({
    method: 'POST', path: ctx.profile.auth.tokenEndpoint, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(),
  })
  const json = res.json as { access_token?: unknown; expires_in?: unknown } | undefined
  if (res.status !== 200 || typeof json?.access_token !== 'string') return undefined
  return { token: json.access_token, expiresIn: typeof json.expires_in === 'number' ? json.expires_in : undefined }
}

/**
 * Creates a throwaway user with `role` in `ws` through a users.create operation (the Portal when it
 * has one), logs it in, and removes it when the check ends. Undefined when the contract offers no way.
 */
export async function addMember(ctx: CheckContext, ws: WorkspaceNode, role: WorkspaceRole, label: string): Promise<(Actor & { expiresIn?: number }) | undefined> {
  const stub: Actor = { label, kind: 'user', actorKind: role, accountId: ws.accountId, workspaceId: ws.id, role, accountRole: null }
  const creator = manager(ctx, ['create'], stub)
  if (!creator) return undefined
  const email = `ta-${ctx.topology.tag}-m${randomBytes(4).toString('hex')}@tenant-audit.test`
  const password = newPassword()
  const body = bodyFromSchema(ctx.contract, creator.op.requestSchema ?? {}, { email, password, role: roleHint(ctx, creator.op.requestSchema, role), label })
  const res = await ctx.as(creator.actor).send({ method: creator.op.method, path: userPath(ctx, creator.op, stub), body })
  const id = (res.json as { id?: unknown } | undefined)?.id
  if (res.status < 200 || res.status > 299 || typeof id !== 'string') return undefined
  const member = { ...stub, id, username: email }
  const remover = manager(ctx, ['delete'], member)
  if (remover) ctx.defer(userPath(ctx, remover.op, member), remover.actor.token)
  const session = await login(ctx, email, password, ws.id)
  return session && { ...member, token: session.token, expiresIn: session.expiresIn }
}

/** Changes a user's workspace role (and account role: 'admin' or null) as a manager allowed to. */
export async function setRole(ctx: CheckContext, user: Actor, role: WorkspaceRole, accountRole?: 'admin' | null): Promise<HttpResponse | undefined> {
  const m = manager(ctx, ['update'], user)
  if (!m) return undefined
  const fields = userFields(ctx, m.op.requestSchema)
  const body = bodyFromSchema(ctx.contract, m.op.requestSchema ?? {}, { role: roleHint(ctx, m.op.requestSchema, role) }) as Record<string, unknown>
  if (accountRole !== undefined && fields.accountRole) body[fields.accountRole] = accountRole && accountRoleHint(ctx, m.op.requestSchema)
  return ctx.as(m.actor).send({ method: m.op.method, path: userPath(ctx, m.op, user), body })
}

/** Removes a user through a users.delete operation. */
export async function removeMember(ctx: CheckContext, user: Actor): Promise<HttpResponse | undefined> {
  const m = manager(ctx, ['delete'], user)
  return m && ctx.as(m.actor).send({ method: m.op.method, path: userPath(ctx, m.op, user) })
}

/**
 * Re-reads a user as the most privileged reader (a platform principal, else the account's admin):
 * a users.read by id, or a users.list searched by id or email. `found: false` when it is gone.
 */
export async function readUser(ctx: CheckContext, user: Pick<Actor, 'id' | 'accountId' | 'workspaceId' | 'username' | 'label'>): Promise<{ found: boolean; record?: UserRecord; status: number } | undefined> {
  const probe = { ...user, kind: 'user', actorKind: 'viewer' } as Actor
  const reader = user.id ? manager(ctx, ['read', 'list'], probe) : manager(ctx, ['list'], probe)
  if (!reader) return undefined
  const fields = userFields(ctx, ctx.contract.byRole('user', 'create')[0]?.requestSchema)
  const spoken = (v: unknown) => (typeof v === 'string' ? ctx.contract.vocabulary.policyRole(v) : undefined)
  // The account role as the deployment spells it (`admin`, `owner`, …) is account admin; anything else
  // (`none`, null, absent) is not.
  const admin = accountRoleHint(ctx, ctx.contract.byRole('user', 'create')[0]?.requestSchema)
  const accountRoleOf = (v: unknown) => (v === admin || (typeof v === 'string' && spoken(v) === 'account_admin') ? 'admin' : null)
  const asRecord = (item: Record<string, unknown>): UserRecord => ({ id: item.id, role: spoken(item[fields.role ?? 'role']), accountRole: accountRoleOf(item[fields.accountRole ?? 'accountRole']) })
  const email = (item: Record<string, unknown>) => String(item[fields.email ?? 'email'] ?? '').toLowerCase()
  if (reader.op.verb === 'read') {
    const res = await ctx.as(reader.actor).get(userPath(ctx, reader.op, probe))
    const item = res.json as Record<string, unknown> | undefined
    return res.status >= 200 && res.status < 300 && item ? { found: true, record: asRecord(item), status: res.status } : { found: false, status: res.status }
  }
  let cursor: string | undefined
  for (let page = 0; page < 20; page++) {
    const res = await ctx.as(reader.actor).get(userPath(ctx, reader.op, { ...probe, id: undefined }), cursor ? { cursor } : undefined)
    const json = res.json as { items?: Record<string, unknown>[]; nextCursor?: unknown } | undefined
    if (res.status < 200 || res.status > 299) return { found: false, status: res.status }
    const item = json?.items?.find((i) => (user.id && i.id === user.id) || (user.username && email(i) === user.username.toLowerCase()))
    if (item) return { found: true, record: asRecord(item), status: res.status }
    if (typeof json?.nextCursor !== 'string' || !json.nextCursor) return { found: false, status: res.status }
    cursor = json.nextCursor
  }
  return { found: false, status: 0 }
}

/**
 * How long a call keeps being accepted: re-sends it every `everyMs` until it is refused (4xx) or
 * `limitMs` has passed. Returns the time of the first refusal, or undefined when it never came.
 */
export async function acceptedFor(send: () => Promise<HttpResponse>, limitMs = 5_000, everyMs = 250): Promise<number | undefined> {
  const start = Date.now()
  while (Date.now() - start < limitMs) {
    await new Promise((r) => setTimeout(r, everyMs))
    const res = await send()
    if (res.status >= 400 && res.status < 500) return Date.now() - start
  }
  return undefined
}

/**
 * One failed login on purpose: a random wrong password for `username` at the profile's token endpoint,
 * the answer handed back as it is (a 429 included: `throttle: 'report'`). `workspaceId` goes in the
 * profile's workspace parameter; `burst` releases it outside the concurrency bound (a race).
 */
export function wrongLogin(ctx: CheckContext, username: string, opts: { workspaceId?: string; burst?: boolean; headers?: Record<string, string> } = {}): Promise<HttpResponse> {
  const form = new URLSearchParams({ grant_type: 'password', username, password: randomBytes(12).toString('base64url') })
  if (opts.workspaceId && ctx.profile.auth.workspaceParam) form.set(ctx.profile.auth.workspaceParam, opts.workspaceId)
  return ctx.as(ANONYMOUS).send({
    method: 'POST', path: ctx.profile.auth.tokenEndpoint, throttle: 'report', burst: opts.burst,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...opts.headers }, body: form.toString(),
  })
}
