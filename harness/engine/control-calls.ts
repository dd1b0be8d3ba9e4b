/**
 * Which genuine call stands behind a refusal (see controls.ts). In order of preference:
 * 1. the same actor, on the same operation, at home, when the policy allows it there;
 * 2. where the actor may not call it anywhere: a member of the target's own workspace (the victim's
 *    token), on the victim's object;
 * 3. failing both: the same actor's token on any read or list it is allowed at home (the token is
 *    served at all).
 * An operation that changes something (update, delete, another verb) is controlled by a read or
 * list of the same resource, so a control never destroys data; a create is controlled by a list of
 * its resource when there is one, else by the create itself (its object is tracked and deleted).
 * A refusal of a call the policy allows (a "wrongly denied" cell) is never controlled by that same
 * call: the control must show that the target serves *something* genuine, not repeat the refusal.
 */
import type { TargetContract } from '../core/contract.js'
import { expected, type OpTarget } from '../core/oracle.js'
import type { Actor, Topology } from '../core/topology.js'
import type { ControlCall } from './controls.js'
import type { Op } from './judge.js'
import { objectIn, objectParam, targetsFor } from './targets.js'

const READS = new Set(['read', 'list', 'search'])

/** The operations that may control `op`, safest first. */
function controlOps(contract: TargetContract, op: Op): Op[] {
  if (READS.has(op.verb)) return [op]
  const sameResource = contract.annotated.filter((o) => o.resource === op.resource && READS.has(o.verb))
  const sameContext = sameResource.filter((o) => o.tenancy.context === op.tenancy.context)
  const ordered = [...sameContext, ...sameResource.filter((o) => !sameContext.includes(o))]
  return op.verb === 'create' ? [...ordered.filter((o) => o.verb === 'list'), op] : ordered
}

/** Where an actor is at home for an operation: its own workspace, or the Portal's first account. */
function homeOf(t: Topology, op: Op, actor: Actor): OpTarget | undefined {
  if (actor.kind === 'user') return { accountId: actor.accountId, workspaceId: actor.workspaceId }
  if (actor.kind === 'principal') return targetsFor(t, op, actor)[0]?.target
  return undefined
}

/** A call of `op` by `actor` at `where`, with an object filled in when the path names one; undefined unless the policy allows it. */
function callAt(t: Topology, op: Op, actor: Actor, where: OpTarget): ControlCall | undefined {
  const param = objectParam(t, op)
  const target: OpTarget = { ...where }
  if (param) {
    const ws = t.accounts.flatMap((a) => a.workspaces).find((w) => w.id === where.workspaceId)
    const object = ws && objectIn(t, op, ws, actor)
    if (!object) return undefined
    target.object = object
  }
  if (expected(op, actor, target) !== 'allow') return undefined
  return { actor, op, target, params: param && target.object ? { [param]: target.object.id } : {} }
}

const same = (a: ControlCall, actor: Actor, op: Op, target: OpTarget): boolean =>
  a.actor.label === actor.label && a.op.id === op.id && a.target.workspaceId === target.workspaceId &&
  a.target.accountId === target.accountId && a.target.object?.id === target.object?.id

/**
 * The control call for one refusal of `op` to `actor` at `target`, or undefined when the actor
 * carries no token (anonymous: nothing to prove) or nothing genuine can be built.
 */
export function controlFor(t: Topology, contract: TargetContract, actor: Actor, op: Op, target: OpTarget): ControlCall | undefined {
  // Anonymous calls carry no token to prove; the token endpoint and public routes do not read one.
  if (actor.token === undefined || op.tenancy.context === 'auth' || op.tenancy.context === 'public') return undefined
  const wronglyDenied = expected(op, actor, target) === 'allow'
  const fits = (c: ControlCall | undefined): c is ControlCall => c !== undefined && c.actor.token !== undefined && !(wronglyDenied && same(c, actor, op, target))
  const home = homeOf(t, op, actor)
  const ops = controlOps(contract, op)
  for (const cop of ops) {
    const c = home && callAt(t, cop, actor, home)
    if (fits(c)) return c
  }
  // The victim's own token on the victim's object: its owner first, then any member of that workspace.
  const owner = target.object?.ownerLabel
  const members = t.actors
    .filter((a) => a.kind === 'user' && a.label !== actor.label && (target.workspaceId ? a.workspaceId === target.workspaceId : a.accountId === target.accountId))
    .sort((a, b) => Number(b.label === owner) - Number(a.label === owner))
  for (const cop of ops) {
    for (const m of members) {
      // The member's own account: the probe's may be a foreign parent (a child reached under another account).
      const c = callAt(t, cop, m, { accountId: m.accountId, workspaceId: target.workspaceId ?? m.workspaceId })
      if (fits(c)) return c
    }
  }
  // The token is served at all: any read or list the actor may call at home.
  for (const cop of contract.annotated.filter((o) => READS.has(o.verb) && o.tenancy.context !== 'auth' && o.tenancy.context !== 'public')) {
    const where = homeOf(t, cop, actor)
    const c = where && callAt(t, cop, actor, where)
    if (fits(c) && c.op.id !== op.id) return c
  }
  return undefined
}
