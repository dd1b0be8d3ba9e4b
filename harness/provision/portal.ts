import { randomBytes } from 'node:crypto'
import type { HttpAdapter } from '../adapters/http.js'
import { mapPool } from '../adapters/limit.js'
import { HarnessError } from '../core/errors.js'
import { fillPath, type ContractOperation, type TargetContract, type Tenancy } from '../core/contract.js'
import type { TargetProfile } from '../core/profile.js'
import { makeCanary } from '../core/canary.js'
import type { Actor, AccountNode, SeededObject, Topology } from '../core/topology.js'
import { seedBodies, validBody, type BodyHints } from './bodies.js'
import type { TopologyPlan } from './plan.js'
import { Secrets, bootstrapCredentials, fail, login, newPassword } from './session.js'
import { seedObjects } from './objects.js'
import { roleChoices } from './roles.js'
import type { EntityRole, PolicyRole } from '../core/vocabulary.js'

type Op = ContractOperation & { tenancy: Tenancy }

/** The operation playing a role with a verb, or a clear exit-2 error naming what the contract lacks, in its terms and the role's. */
export function requireOp(contract: TargetContract, role: EntityRole, verb: string, context?: 'portal'): Op {
  const op = contract.byRole(role, verb, context)[0]
  if (op) return op
  const name = contract.vocabulary.resources[role]
  const what = name ? `operation with x-tenancy action ${name}.${verb}` : `resource playing the ${role} role (set vocabulary.resources.${role} in the profile if it has another name)`
  throw new HarnessError('ERR_CONTRACT_INVALID', `the contract has no ${context ? `${context} ` : ''}${what}; the harness provisions through it (the ${role} ${verb})`)
}

/**
 * The body of a provisioning call, valid under the operation's schema; when none can be built the
 * run cannot provision at all: one exit-2 line naming the operation and the schema's problem.
 */
export function provisioningBody(contract: TargetContract, op: Op, hints: BodyHints): unknown {
  const r = validBody(contract, op.requestSchema ?? {}, hints)
  if (r.ok) return r.body
  throw new HarnessError('ERR_PROVISION_FAILED', `${op.id} (${op.tenancy.action}) needs a body the harness cannot build from its schema: ${r.reason}`)
}

/** The path parameter that carries a role's ids: the last one of its `read` operation (e.g. `{workspaceId}`). */
export function idParam(contract: TargetContract, role: 'account' | 'workspace', override?: string): string {
  if (override) return override
  const read = contract.byRole(role, 'read', 'portal')[0] ?? contract.byRole(role, 'read')[0]
  const name = read?.pathParams.at(-1)
  if (!name) throw new HarnessError('ERR_CONTRACT_INVALID', `cannot tell which path parameter carries ${role} ids: add a read operation of the ${role} resource (${contract.vocabulary.resources[role] ?? 'none found'}) or set pathParams.${role} in the profile`)
  return name
}

/**
 * An empty topology for a run: a fresh tag (in every name and email the harness creates), a canary
 * counter, the tenant path parameters, and the seeded body generator. Both provisioning modes start here.
 */
export function startTopology(contract: TargetContract, profile: TargetProfile, seed: number): { topology: Topology; canary: () => string } {
  seedBodies(seed)
  const tag = randomBytes(3).toString('hex')
  let n = 0
  const params = { account: idParam(contract, 'account', profile.pathParams.account), workspace: idParam(contract, 'workspace', profile.pathParams.workspace) }
  return { topology: { seed, tag, accounts: [], actors: [], objects: [], params, created: [] }, canary: () => makeCanary(tag, n++) }
}

export interface ProvisionResult {
  topology: Topology
  secrets: Secrets
  /** The bootstrap principal's token, for teardown. */
  rootToken: string
}

/**
 * Builds a topology through the target's Portal: accounts, workspaces, users of every role and
 * principals of both kinds, each logged in; then objects carrying canaries. Everything created is
 * recorded in `topology.created` as it happens, so teardown can remove it even after a failure.
 */
export async function provisionThroughPortal(
  http: HttpAdapter, contract: TargetContract, profile: TargetProfile, plan: TopologyPlan, seed: number,
  onCreated: (t: Topology) => void = () => {},
): Promise<ProvisionResult> {
  const secrets = new Secrets()
  const root = bootstrapCredentials(profile)
  secrets.add(root.password)
  const rootToken = await login(http, profile, secrets, root.username, root.password)
  const { topology, canary } = startTopology(contract, profile, seed)
  const { tag, params } = topology
  onCreated(topology)
  const create = async (op: Op, path: Record<string, string>, hints: BodyHints, what: string) => {
    const res = await http.send({ method: op.method, path: fillPath(op.path, path), token: rootToken, body: provisioningBody(contract, op, hints) })
    const id = (res.json as { id?: unknown } | undefined)?.id
    if (res.status < 200 || res.status > 299 || typeof id !== 'string') fail(`creating ${what}`, res)
    return id
  }

  const accountsCreate = requireOp(contract, 'account', 'create', 'portal')
  const accountsDelete = contract.byRole('account', 'delete', 'portal')[0]
  const workspacesCreate = requireOp(contract, 'workspace', 'create', 'portal')
  const usersCreate = requireOp(contract, 'user', 'create', 'portal')
  const principalsCreate = contract.byRole('principal', 'create', 'portal')[0]
  const principalsDelete = contract.byRole('principal', 'delete', 'portal')[0]
  const vocab = contract.vocabulary
  const roleIn = (op: Op | undefined, field: 'role' | 'platformRole', role: PolicyRole) => vocab.roleValue(role, roleChoices(contract, op?.requestSchema, field))
  const accountChoices = roleChoices(contract, usersCreate.requestSchema, 'accountRole')
  const accountAdmin = accountChoices?.includes('admin') ? 'admin' : vocab.roleValue('account_admin', accountChoices)

  // Everything is named first, in plan order (labels, canaries, passwords). Each collection is then
  // filled in plan order (the accounts one after another; an account's workspaces, then its users,
  // one after another), so the target lists them in the same order on every run of the seed; the
  // accounts' subtrees are built concurrently, and all logins go through a pool of the adapter's
  // concurrency. The topology lists everything in plan order whatever order the answers came in.
  const width = http.concurrency ?? 1
  const planned = plan.accounts.map((accountPlan, a) => ({
    label: `a${a}`,
    workspaces: accountPlan.workspaces.map((wsPlan, w) => {
      const label = `a${a}.w${w}`
      const counts: Record<string, number> = {}
      return {
        label, wsPlan,
        users: wsPlan.users.map((u) => {
          const kind: Actor['actorKind'] = u.accountAdmin ? 'account_admin' : u.role
          const k = (counts[kind] = (counts[kind] ?? 0) + 1)
          const marker = canary()
          return { u, kind, label: `${label}.${kind}${k > 1 ? k : ''}`, marker, email: `${marker}@tenant-audit.test`, password: secrets.add(newPassword())! }
        }),
      }
    }),
  }))
  const accountIds: string[] = []
  for (const pa of planned) {
    const accountId = await create(accountsCreate, {}, { label: `ta-${tag}-${pa.label}` }, `account ${pa.label}`)
    if (accountsDelete) topology.created.push({ resource: accountsCreate.resource, path: fillPath(accountsDelete.path, { [params.account]: accountId }) })
    accountIds.push(accountId)
  }
  const built = await mapPool(planned, width, async (pa, a) => {
    const accountId = accountIds[a]!
    const account: AccountNode = { label: pa.label, id: accountId, workspaces: [] }
    const users: { actor: Actor; object: SeededObject; password: string }[] = []
    for (const pw of pa.workspaces) {
      const workspaceId = await create(workspacesCreate, { [params.account]: accountId }, { label: `ta-${tag}-${pw.label}`, environment: pw.wsPlan.environment }, `workspace ${pw.label}`)
      account.workspaces.push({ label: pw.label, id: workspaceId, accountId })
    }
    for (const [w, pw] of pa.workspaces.entries()) {
      const workspaceId = account.workspaces[w]!.id
      for (const pu of pw.users) {
        const id = await create(usersCreate, { [params.account]: accountId, [params.workspace]: workspaceId },
          { email: pu.email, password: pu.password, role: roleIn(usersCreate, 'role', pu.u.role), accountRole: pu.u.accountAdmin ? accountAdmin : undefined, label: pu.label }, `user ${pu.label}`)
        const actor: Actor = { label: pu.label, kind: 'user', actorKind: pu.kind, id, username: pu.email, accountId, workspaceId, role: pu.u.role, accountRole: pu.u.accountAdmin ? 'admin' : null }
        users.push({ actor, object: { label: pu.label, resource: usersCreate.resource, id, accountId, workspaceId, ownerLabel: pu.label, private: false, canary: pu.marker }, password: pu.password })
      }
    }
    return { account, users }
  })
  const pending: { actor: Actor; password: string }[] = []
  for (const b of built) {
    topology.accounts.push(b.account)
    for (const { actor, object, password } of b.users) {
      topology.actors.push(actor)
      topology.objects.push(object)
      pending.push({ actor, password })
    }
  }
  if (principalsCreate) {
    for (const role of plan.principals) {
      const email = `ta-${tag}-${role.replace('_', '-')}@tenant-audit.test`
      const password = secrets.add(newPassword())!
      const id = await create(principalsCreate, {}, { email, password, platformRole: roleIn(principalsCreate, 'platformRole', role) }, `principal ${role}`)
      if (principalsDelete) topology.created.push({ resource: principalsCreate.resource, path: fillPath(principalsDelete.path, { [principalsDelete.pathParams.at(-1)!]: id }) })
      const actor: Actor = { label: `p.${role}`, kind: 'principal', actorKind: role, id, username: email, platformRole: role }
      topology.actors.push(actor)
      pending.push({ actor, password })
    }
  }
  // Every actor logs in once, concurrently; the adapter records each login as a session that is renewed (by refresh when it can) later.
  await mapPool(pending, width, async ({ actor, password }) => void (actor.token = await login(http, profile, secrets, actor.username!, password, actor.workspaceId)))
  topology.objects.push(...(await seedObjects(http, contract, topology, canary)))
  return { topology, secrets, rootToken }
}

export type { SeededObject }
