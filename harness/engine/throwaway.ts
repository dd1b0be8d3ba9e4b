import { randomBytes } from 'node:crypto'
import type { Actor, SeededObject, Topology } from '../core/topology.js'
import type { TargetContract } from '../core/contract.js'
import { expected, type OpTarget } from '../core/oracle.js'
import { bodyFromSchema } from '../provision/bodies.js'
import { roleChoices } from '../provision/roles.js'
import { newPassword } from '../provision/session.js'
import type { CheckContext } from './context.js'
import type { Op } from './judge.js'
import type { EntityRole } from '../core/vocabulary.js'

const PORTAL_PARENTS: Partial<Record<EntityRole, 'none' | 'account' | 'workspace'>> = { account: 'none', principal: 'none', workspace: 'account', user: 'workspace' }

export function platformAdmin(t: Topology): Actor | undefined {
  return t.actors.find((a) => a.kind === 'principal' && a.platformRole === 'platform_admin')
}

/**
 * Creates a disposable object of `resource` inside `target`, so destructive probes (delete) never
 * consume the seeded data other checks rely on. Data objects are created by `preferred` when the
 * policy lets it (so "may delete my own note" is tested), else by the first member allowed to;
 * tenancy resources through the Portal. Returns undefined when the contract offers no way.
 */
export async function throwaway(ctx: CheckContext, resource: string, target: OpTarget, preferred?: Actor): Promise<SeededObject | undefined> {
  const t = ctx.topology
  const c: TargetContract = ctx.contract
  const marker = `throwaway-${randomBytes(4).toString('hex')}`
  const role = c.vocabulary.roleOfResource(resource)
  const parent = role && PORTAL_PARENTS[role]
  let creator: Actor | undefined
  let op: Op | undefined
  let body: unknown
  if (parent !== undefined) {
    op = c.byResource(resource, 'create', 'portal')[0]
    creator = platformAdmin(t)
    const email = `${marker}@tenant-audit.test`
    body = op && bodyFromSchema(c, op.requestSchema ?? {}, { email, password: newPassword(), role: c.vocabulary.roleValue('viewer', roleChoices(c, op?.requestSchema, 'role')), platformRole: c.vocabulary.roleValue('support', roleChoices(c, op?.requestSchema, 'platformRole')), label: marker })
  } else {
    op = c.byResource(resource, 'create').find((o) => o.tenancy.scope === 'workspace')
    const members = t.actors.filter((a) => a.kind === 'user' && a.workspaceId === target.workspaceId)
    const may = (a: Actor) => op !== undefined && expected(op, a, { accountId: target.accountId, workspaceId: target.workspaceId }) === 'allow'
    creator = preferred && may(preferred) ? preferred : members.find(may)
    body = op && bodyFromSchema(c, op.requestSchema ?? {}, { label: marker, canary: marker })
  }
  if (!op || !creator) return undefined
  const path = ctx.pathFor(op, { accountId: target.accountId, workspaceId: parent === 'none' ? undefined : target.workspaceId })
  const res = await ctx.as(creator).send({ method: op.method, path, body })
  const id = (res.json as { id?: unknown } | undefined)?.id
  if (res.status < 200 || res.status > 299 || typeof id !== 'string') return undefined
  ctx.trackCreated(op, res, creator, target)
  return {
    label: `throwaway.${resource}`, resource, id,
    accountId: role === 'account' ? id : (target.accountId ?? ''), workspaceId: role === 'workspace' ? id : (target.workspaceId ?? ''),
    ownerLabel: creator.label, private: c.ownerOnly(op.resource), canary: marker,
  }
}
