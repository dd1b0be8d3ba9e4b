import type { HttpResponse } from '../adapters/http.js'
import type { OpTarget } from '../core/oracle.js'
import type { Actor } from '../core/topology.js'
import type { CheckContext } from './context.js'
import type { Op } from './judge.js'
import { throwaway } from './throwaway.js'

/**
 * Where a destructive call may land: `target` with a throwaway of the op's resource in place of
 * what the op's last path parameter names (the account or workspace itself when the op deletes a
 * tenant, else the object). Undefined when the contract offers no way to create one.
 */
export async function spareTarget(ctx: CheckContext, op: Op, target: OpTarget, creator?: Actor): Promise<OpTarget | undefined> {
  const spare = await throwaway(ctx, op.resource, target, creator)
  if (!spare) return undefined
  const last = op.pathParams.at(-1)
  if (last === ctx.topology.params.account) return { ...target, accountId: spare.id }
  if (last === ctx.topology.params.workspace) return { ...target, workspaceId: spare.id }
  return { ...target, object: spare }
}

/** Path parameters for a probe of `op` at `target`: the object's id in the op's object parameter. */
export function objectParams(ctx: CheckContext, op: Op, target: OpTarget): Record<string, string> {
  const last = op.pathParams.at(-1)
  const { account, workspace } = ctx.topology.params
  return last && last !== account && last !== workspace && target.object ? { [last]: target.object.id } : {}
}

/**
 * A create that went through outside any provisioned account (an account, a principal: its delete
 * operation names nothing but its own id) is deleted when the check ends, so a wrongly allowed or
 * accidentally valid create leaves nothing behind on a real deployment.
 */
export function deferCreated(ctx: CheckContext, op: Op, res: Pick<HttpResponse, 'status' | 'json'>): void {
  const id = (res.json as { id?: unknown } | undefined)?.id
  if (op.verb !== 'create' || res.status < 200 || res.status > 299 || typeof id !== 'string') return
  const del = ctx.contract.byResource(op.resource, 'delete').find((o) => o.pathParams.length === 1)
  if (del) ctx.defer(ctx.pathFor(del, {}, { [del.pathParams[0]!]: id }))
}
