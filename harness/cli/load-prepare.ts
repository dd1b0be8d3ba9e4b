import { roleChoices } from '../provision/roles.js'
import type { HttpAdapter } from '../adapters/http.js'
import { HarnessError } from '../core/errors.js'
import { fillPath, type TargetContract } from '../core/contract.js'
import type { TargetProfile } from '../core/profile.js'
import type { Topology } from '../core/topology.js'
import { bodyFromSchema } from '../provision/bodies.js'
import { provisionThroughPortal, requireOp } from '../provision/portal.js'
import { fail, newPassword, type Secrets } from '../provision/session.js'
import type { TopologyPlan } from '../provision/plan.js'
import type { Scenario } from '../../fixtures/load/scenario.js'
import type { PreparedLoad, PreparedSession, PreparedTenant } from '../../load/driver/index.js'

export interface LoadTenants {
  prepared: PreparedLoad
  topology: Topology
  secrets: Secrets
  rootToken: string
}

/** One account per scenario tenant, one workspace, one editor: the editor's token carries the load. */
function planFor(s: Scenario): TopologyPlan {
  return {
    accounts: s.tenants.map(() => ({ workspaces: [{ environment: 'staging' as const, users: [{ role: 'editor' as const, accountAdmin: false }] }] })),
    principals: [],
  }
}

/** The actions the scenario's streams call. */
export function scenarioActions(s: Scenario): string[] {
  return [...new Set(s.streams.map((st) => st.action ?? s.action))]
}

/**
 * The path an action calls for a tenant, found through the contract: a workspace-scoped GET
 * (`*.list`), or one that names an object (`*.read`), filled with an object seeded in that workspace.
 */
function pathFor(contract: TargetContract, t: Topology, action: string, workspaceId: string, accountId: string, userLabel: string): string {
  const op = contract.byAction(action).find((o) => o.tenancy.context !== 'portal')
  if (!op) throw new HarnessError('ERR_CONTRACT_INVALID', `the contract has no operation with x-tenancy action ${action} for the load scenario`)
  if (op.method !== 'get') throw new HarnessError('ERR_USAGE', `load scenarios only read: ${action} is a ${op.method.toUpperCase()}`)
  // The load user (see loadUser) owns nothing: an owner-only read would answer 404 to every request.
  if (op.tenancy.owner) throw new HarnessError('ERR_USAGE', `load scenarios read shared objects: ${action} is owner-only`)
  const values: Record<string, string> = { [t.params.workspace]: workspaceId, [t.params.account]: accountId }
  const last = op.pathParams.at(-1)
  if (last && !(last in values)) {
    const objects = t.objects.filter((o) => o.resource === op.resource && o.workspaceId === workspaceId)
    const obj = objects.find((o) => !o.private) ?? objects.find((o) => o.ownerLabel === userLabel)
    if (!obj) throw new HarnessError('ERR_PROVISION_FAILED', `no ${op.resource} object was seeded for ${action}`)
    values[last] = obj.id
  }
  return fillPath(op.path, values)
}

/**
 * How to set an account's quota: the Portal's `accounts.update` with the profile's
 * `rateLimit.quotaField` (reference: `{rateLimit:{requestsPerSecond, burst}}`), the rate and burst
 * members found in that field's schema (as the rate-limit checks do). Missing: a clear exit 2.
 */
function quotaSetter(contract: TargetContract, profile: TargetProfile) {
  const op = requireOp(contract, 'account', 'update', 'portal')
  const field = profile.rateLimit.quotaField
  const props = (contract.resolve(op.requestSchema ?? {}).properties ?? {}) as Record<string, unknown>
  const inner = props[field] ? ((contract.resolve(props[field]).properties ?? {}) as Record<string, unknown>) : {}
  const rate = Object.keys(inner).find((k) => /second|rate/i.test(k))
  const burst = Object.keys(inner).find((k) => /burst|capacity|limit/i.test(k) && k !== rate)
  if (!rate || !burst) {
    throw new HarnessError('ERR_CONTRACT_INVALID', `${op.id} takes no "${field}" quota with a rate and a burst: the scenario's quotas cannot be set on this target (set rateLimit.quotaField in the profile, or remove rateLimit from the scenario and set quotas yourself)`)
  }
  return { op, body: (q: { requestsPerSecond: number; burst: number }) => ({ [field]: { [rate]: q.requestsPerSecond, [burst]: q.burst } }) }
}

/** A login through the password grant, kept whole: the access token, its expiry and the rotating refresh token. */
async function loginSession(http: HttpAdapter, profile: TargetProfile, secrets: Secrets, username: string, password: string, workspaceId: string): Promise<PreparedSession> {
  const form = new URLSearchParams({ grant_type: 'password', username, password })
  if (profile.auth.workspaceParam) form.set(profile.auth.workspaceParam, workspaceId)
  const res = await http.send({ method: 'POST', path: profile.auth.tokenEndpoint, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() })
  const body = (res.json ?? {}) as { access_token?: unknown; refresh_token?: unknown; expires_in?: unknown; id_token?: unknown }
  if (res.status !== 200 || typeof body.access_token !== 'string') fail(`login of the load user ${username}`, res)
  for (const v of [body.access_token, body.refresh_token, body.id_token]) if (typeof v === 'string') secrets.add(v)
  // Without a refresh token (or an expiry) the session cannot be renewed: engines use it until the end.
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : undefined
  return {
    token: body.access_token,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : '',
    expiresAt: expiresIn === undefined ? Number.MAX_SAFE_INTEGER : Date.now() + expiresIn * 1000,
  }
}

/**
 * The user whose tokens carry a tenant's load: an editor of the tenant's workspace, created here so
 * its password is known (in memory only) and it can log in once per session an engine needs.
 * Removed with its account.
 */
async function loadUser(http: HttpAdapter, contract: TargetContract, t: Topology, rootToken: string, secrets: Secrets, accountId: string, workspaceId: string, label: string) {
  const op = requireOp(contract, 'user', 'create', 'portal')
  const email = `ta-${t.tag}-${label}@tenant-audit.test`
  const password = secrets.add(newPassword())!
  const res = await http.send({
    method: op.method, path: fillPath(op.path, { [t.params.account]: accountId, [t.params.workspace]: workspaceId }), token: rootToken,
    body: bodyFromSchema(contract, op.requestSchema ?? {}, { email, password, role: contract.vocabulary.roleValue('editor', roleChoices(contract, op.requestSchema, 'role')), label }),
  })
  if (res.status < 200 || res.status > 299) fail(`creating the load user ${label}`, res)
  return { email, password }
}

/**
 * Provisions the scenario's tenants through the Portal (the audit's provisioning: accounts,
 * workspaces, users, seeded objects), logs their users in, and sets each quota through the Portal's
 * `accounts.update` (see quotaSetter). Each tenant's load user logs in as many times as `sessions` says after its first login (k6 needs
 * one login per VU when a run can outlive an access token: a rotating refresh token serves one
 * holder). Everything created is in `topology.created` as it happens, for teardown.
 */
export async function provisionLoadTenants(
  http: HttpAdapter, contract: TargetContract, profile: TargetProfile, baseUrl: string, s: Scenario, seed: number,
  onCreated: (t: Topology) => void = () => {}, sessions: (first: PreparedSession) => number = () => 1,
): Promise<LoadTenants> {
  const { topology, secrets, rootToken } = await provisionThroughPortal(http, contract, profile, planFor(s), seed, onCreated)
  const quota = s.tenants.some((t) => t.rateLimit) ? quotaSetter(contract, profile) : undefined
  const tenants: PreparedTenant[] = []
  const base = new URL(baseUrl)
  const prefix = base.pathname.replace(/\/$/, '')
  for (const [i, tenant] of s.tenants.entries()) {
    const account = topology.accounts[i]!
    const ws = account.workspaces[0]!
    const user = topology.actors.find((a) => a.kind === 'user' && a.workspaceId === ws.id)
    if (!user?.token) throw new HarnessError('ERR_PROVISION_FAILED', `no user was logged in for tenant ${tenant.name}`)
    const loader = await loadUser(http, contract, topology, rootToken, secrets, account.id, ws.id, `load-${tenant.name}`)
    const logins = [await loginSession(http, profile, secrets, loader.email, loader.password, ws.id)]
    for (let k = logins.length, n = sessions(logins[0]!); k < n; k++) logins.push(await loginSession(http, profile, secrets, loader.email, loader.password, ws.id))
    if (tenant.rateLimit && quota) {
      const { op, body } = quota
      const res = await http.send({ method: op.method, path: fillPath(op.path, { [topology.params.account]: account.id }), token: rootToken, body: body(tenant.rateLimit) })
      if (res.status < 200 || res.status > 299) fail(`setting the quota of tenant ${tenant.name}`, res)
    }
    // Paths carry the base URL's own path (https://host/api → /api/app/v1/…), so engines join them to the origin.
    const paths = Object.fromEntries(scenarioActions(s).map((a) => [a, prefix + pathFor(contract, topology, a, ws.id, account.id, user.label)]))
    tenants.push({ name: tenant.name, accountId: account.id, workspaceId: ws.id, token: logins[0]!.token, sessions: logins, paths })
  }
  return { prepared: { baseUrl: base.origin, tokenUrl: `${base.origin}${prefix}${profile.auth.tokenEndpoint}`, tenants }, topology, secrets, rootToken }
}
