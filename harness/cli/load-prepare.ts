import type { HttpAdapter } from '../adapters/http.js'
import { HarnessError } from '../core/errors.js'
import { fillPath, type TargetContract } from '../core/contract.js'
import type { TargetProfile } from '../core/profile.js'
import type { Topology } from '../core/topology.js'
import { provisionThroughPortal, requireOp } from '../provision/portal.js'
import { fail, type Secrets } from '../provision/session.js'
import type { TopologyPlan } from '../provision/plan.js'
import type { Scenario } from '../../fixtures/load/scenario.js'
import type { PreparedLoad, PreparedTenant } from '../../load/driver/index.js'

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

/**
 * Provisions the scenario's tenants through the Portal (the audit's provisioning: accounts,
 * workspaces, users, seeded objects), logs their users in, and sets each quota through the Portal's
 * `accounts.update` (see quotaSetter). Everything created is in
 * `topology.created` as it happens, for teardown.
 */
export async function provisionLoadTenants(
  http: HttpAdapter, contract: TargetContract, profile: TargetProfile, baseUrl: string, s: Scenario, seed: number,
  onCreated: (t: Topology) => void = () => {},
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
    if (tenant.rateLimit && quota) {
      const { op, body } = quota
      const res = await http.send({ method: op.method, path: fillPath(op.path, { [topology.params.account]: account.id }), token: rootToken, body: body(tenant.rateLimit) })
      if (res.status < 200 || res.status > 299) fail(`setting the quota of tenant ${tenant.name}`, res)
    }
    // Paths carry the base URL's own path (https://host/api → /api/app/v1/…), so engines join them to the origin.
    const paths = Object.fromEntries(scenarioActions(s).map((a) => [a, prefix + pathFor(contract, topology, a, ws.id, account.id, user.label)]))
    tenants.push({ name: tenant.name, accountId: account.id, workspaceId: ws.id, token: user.token, paths })
  }
  return { prepared: { baseUrl: base.origin, tenants }, topology, secrets, rootToken }
}
