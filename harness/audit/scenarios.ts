import { randomUUID } from 'node:crypto'
import type { FindingInput } from '../core/finding.js'
import { expected, type OpTarget } from '../core/oracle.js'
import type { Actor, SeededObject, Topology } from '../core/topology.js'
import type { CheckContext } from '../engine/context.js'
import type { Op } from '../engine/judge.js'
import { objectIn, objectParam } from '../engine/targets.js'
import { disposeLater, isRead, marker, victimTarget, writeBody } from '../engine/victims.js'
import type { Expected } from './event.js'
import { auditOps, type AuditTrail, type Sent } from './trail.js'

/**
 * The requests audit checks make so that there is something to find in the trail: every allowed
 * write of the contract (create, then every update, then a delete, per resource) and cross-tenant
 * attempts that must be denied. Each comes with what its event must say. Operations, actors and
 * tenants come from `x-tenancy`, the oracle and the topology only.
 */

export interface Tracked {
  op: Op
  actor: Actor
  sent: Sent
  /** What the request's event must say. */
  expect: Expected
  /** `PATCH documents.update by a0.w0.editor`, for messages. */
  label: string
  /** The object the request names or created. */
  objectId?: string | undefined
}

const ok = (status: number) => status >= 200 && status < 300
const DENIALS = new Set([401, 403, 404, 405])

/** Operations no scenario sends: logins and revocations (auth), public documents, and the audit read API itself. */
function inScope(op: Op, audit: readonly Op[]): boolean {
  return op.tenancy.context !== 'auth' && op.tenancy.context !== 'public' && !audit.includes(op)
}

/** Users first (the first account's, by label), then principals: the first the policy allows on `target`. */
function allowed(t: Topology, op: Op, target: OpTarget, prefer?: Actor): Actor | undefined {
  const first = t.accounts[0]?.id
  const users = t.actors.filter((a) => a.kind === 'user').sort((a, b) => Number(b.accountId === first) - Number(a.accountId === first))
  const pool = [...(prefer ? [prefer] : []), ...users, ...t.actors.filter((a) => a.kind === 'principal')]
  return pool.find((a) => a.token && expected(op, a, target) === 'allow')
}

/** Where a create by `actor` goes: its own workspace / account, or the first provisioned tenant for the Portal. */
function createTarget(t: Topology, op: Op, actor: Actor): OpTarget {
  if (actor.kind === 'user') return { accountId: actor.accountId, workspaceId: op.tenancy.scope === 'workspace' ? actor.workspaceId : undefined }
  const ws = t.accounts[0]?.workspaces[0]
  return { accountId: ws?.accountId, workspaceId: ws?.id }
}

function createActor(t: Topology, op: Op): Actor | undefined {
  const candidates = [...t.actors.filter((a) => a.kind === 'user'), ...t.actors.filter((a) => a.kind === 'principal')]
  return candidates.find((a) => a.token && expected(op, a, createTarget(t, op, a)) === 'allow')
}

const describeCall = (op: Op, actor: Actor) => `${op.method.toUpperCase()} ${op.path} (${op.tenancy.action}) by ${actor.label}`

/** The tenant ids the operation's path names (only those: a path that names a workspace does not name its account). */
function named(t: Topology, op: Op, target: OpTarget): { accountId?: string | undefined; workspaceId?: string | undefined } {
  return {
    accountId: op.pathParams.includes(t.params.account) ? target.accountId : undefined,
    workspaceId: op.pathParams.includes(t.params.workspace) ? target.workspaceId : undefined,
  }
}

function expectFor(trail: AuditTrail, op: Op, actor: Actor, sent: Sent, target: OpTarget, objectId: string | undefined): Expected {
  const user = actor.kind === 'user'
  const where = named(trail.ctx.topology, op, target)
  return {
    requestId: sent.requestId,
    accountId: user ? actor.accountId : undefined,
    action: op.tenancy.action,
    method: op.method,
    route: op.path,
    status: sent.response.status,
    outcome: ok(sent.response.status) || (sent.response.status >= 300 && sent.response.status < 400) ? 'success' : 'failure',
    actor: { kind: actor.kind, uid: actor.id, accountId: user ? actor.accountId : undefined },
    target: { type: op.resource, uid: objectId, accountId: op.role === 'account' ? objectId : where.accountId, workspaceId: op.role === 'workspace' ? objectId : where.workspaceId },
    userAgent: sent.userAgent,
    window: { from: sent.from, to: sent.to },
    toleranceMs: Math.max(10_000, trail.bound),
  }
}

function objectOf(resource: string, op: Op, actor: Actor, target: OpTarget, id: string): SeededObject {
  return {
    label: `created.${resource}`, resource, id, ownerLabel: actor.label, private: op.tenancy.owner, canary: '',
    accountId: op.role === 'account' ? id : (target.accountId ?? ''),
    workspaceId: op.role === 'workspace' ? id : op.role === 'account' ? '' : (target.workspaceId ?? ''),
  }
}

/** Per resource with a create operation: every create, then every other write of the first created object, the delete last. */
export async function allowedWrites(ctx: CheckContext, trail: AuditTrail, options: { only?: (op: Op) => boolean } = {}): Promise<Tracked[]> {
  const t = ctx.topology
  const audit = auditOps(ctx.contract).all
  const writes = ctx.contract.annotated.filter((o) => !isRead(o) && inScope(o, audit))
  const resources = [...new Set(writes.filter((o) => o.verb === 'create').map((o) => o.resource))]
  const rank = (o: Op) => ({ app: 0, dashboard: 1, portal: 2 } as Record<string, number>)[o.tenancy.context] ?? 3
  const out: Tracked[] = []
  for (const resource of resources) {
    const creates = writes.filter((o) => o.resource === resource && o.verb === 'create').sort((a, b) => rank(a) - rank(b))
    let created: { op: Op; actor: Actor; target: OpTarget; id: string } | undefined
    // Every create operation of the resource is called; the first that succeeds is the lifecycle's subject,
    // the others' objects are removed when the check ends.
    for (const op of creates) {
      const actor = createActor(t, op)
      if (!actor) continue
      const target = createTarget(t, op, actor)
      const r = await trail.probe({ actor, op, target, body: writeBody(ctx, op, marker(ctx)) })
      const id = (r.response.json as { id?: unknown } | undefined)?.id
      if (!ok(r.response.status) || typeof id !== 'string') continue
      if (!options.only || options.only(op)) out.push({ op, actor, sent: r.sent, expect: expectFor(trail, op, actor, r.sent, target, undefined), label: describeCall(op, actor), objectId: id })
      if (created) disposeLater(ctx, objectOf(resource, op, actor, target, id))
      else created = { op, actor, target, id }
    }
    if (!created) continue
    const victim = objectOf(resource, created.op, created.actor, created.target, created.id)
    const others = writes.filter((o) => o.resource === resource && o.verb !== 'create').sort((a, b) => Number(a.verb === 'delete') - Number(b.verb === 'delete') || rank(a) - rank(b))
    let deleted = false
    for (const op of others) {
      if (deleted) break
      const { target, params } = victimTarget(ctx, op, victim)
      const actor = allowed(t, op, target, created.actor)
      if (!actor) continue
      // A deployment may remove an object's trail with it (a deleted tenant's events): read what the
      // lifecycle wrote so far before the delete, so the lookups that follow find it remembered.
      if (op.verb === 'delete') await trail.await(out.filter((w) => w.objectId === created!.id).map((w) => w.sent))
      const r = await trail.probe({ actor, op, target, params, body: writeBody(ctx, op, marker(ctx)) })
      if (!ok(r.response.status)) continue
      if (op.verb === 'delete') deleted = true
      if (!options.only || options.only(op)) out.push({ op, actor, sent: r.sent, expect: expectFor(trail, op, actor, r.sent, target, created.id), label: describeCall(op, actor), objectId: created.id })
    }
  }
  return out
}

/**
 * Cross-tenant attempts that the policy denies only because of the tenant (the same actor may call
 * the operation at home): per workspace- or account-scoped operation, into another account and
 * into a sibling workspace. Writes name an id that exists nowhere, so a target that wrongly lets
 * one through changes nothing. Only the refused ones (401/403/404/405) are returned.
 */
export async function foreignDenials(ctx: CheckContext, trail: AuditTrail, options: { limit?: number } = {}): Promise<Tracked[]> {
  const t = ctx.topology
  const [home, other] = t.accounts
  if (!home || !other) return []
  const rank = (a: Actor) => (a.accountRole === 'admin' ? 0 : a.role === 'admin' ? 1 : a.role === 'editor' ? 2 : 3)
  const attackers = t.actors.filter((a) => a.kind === 'user' && a.accountId === home.id && a.token).sort((a, b) => rank(a) - rank(b))
  const ops = ctx.contract.annotated.filter((o) => (o.tenancy.context === 'app' || o.tenancy.context === 'dashboard') && (o.tenancy.scope === 'workspace' || o.tenancy.scope === 'account'))
  const out: Tracked[] = []
  for (const op of ops) {
    if (out.length >= (options.limit ?? Infinity)) break
    const places: OpTarget[] = op.tenancy.scope === 'account'
      ? [{ accountId: other.id }]
      : [{ accountId: other.id, workspaceId: other.workspaces[0]?.id }, ...(home.workspaces[1] ? [{ accountId: home.id, workspaceId: home.workspaces[1].id }] : [])]
    for (const place of places) {
      const attacker = attackers.find((a) => {
        const own = { accountId: a.accountId, workspaceId: a.workspaceId }
        return expected(op, a, own) === 'allow' && expected(op, a, place) === 'deny'
      })
      if (!attacker) continue
      const param = objectParam(t, op)
      const ws = place.workspaceId ? t.accounts.flatMap((a) => a.workspaces).find((w) => w.id === place.workspaceId) : undefined
      const seeded = param && isRead(op) && ws ? objectIn(t, op, ws, attacker) : undefined
      const objectId = param ? (seeded?.id ?? randomUUID()) : undefined
      const r = await trail.probe({
        actor: attacker, op, target: { ...place, object: seeded }, params: param && objectId ? { [param]: objectId } : {},
        body: ['post', 'put', 'patch'].includes(op.method) ? writeBody(ctx, op, marker(ctx)) : undefined,
      })
      if (!DENIALS.has(r.response.status)) continue
      const x = expectFor(trail, op, attacker, r.sent, place, undefined)
      out.push({ op, actor: attacker, sent: r.sent, expect: { ...x, target: { type: op.resource, ...named(t, op, place) } }, label: describeCall(op, attacker), objectId })
    }
  }
  return out
}

/** A finding about one tracked request's event(s). */
export function trackedFinding(x: Tracked, message: string, dedupKey: string, extra: Partial<FindingInput> = {}): FindingInput {
  const victim = x.expect.target?.accountId
  return {
    message: `${x.label} (request ${x.sent.requestId}, answered ${x.sent.response.status}): ${message}`,
    dedupKey,
    evidence: x.sent.response.evidence,
    actor: x.actor.label,
    victim,
    operation: { method: x.op.method.toUpperCase(), pathTemplate: x.op.path, operationId: x.op.id },
    ...extra,
  }
}

/** One finding per defect: findings with one dedup key are merged into the first, which says how many more there were. */
export function collapse(findings: readonly FindingInput[]): FindingInput[] {
  const byKey = new Map<string, { first: FindingInput; more: number }>()
  for (const f of findings) {
    const seen = byKey.get(f.dedupKey)
    if (seen) seen.more++
    else byKey.set(f.dedupKey, { first: f, more: 0 })
  }
  return [...byKey.values()].map(({ first, more }) => (more ? { ...first, message: `${first.message} (and ${more} more request(s) like it)` } : first))
}
