import fc from 'fast-check'
import type { OpTarget } from '../core/oracle.js'
import type { Actor, SeededObject } from '../core/topology.js'
import { bodyFromSchema } from '../provision/bodies.js'
import { newPassword } from '../provision/session.js'
import type { CheckContext } from './context.js'
import type { Op } from './judge.js'
import { objectIn } from './targets.js'
import { throwaway } from './throwaway.js'

/** A well-formed call of one operation that is safe to break and send any number of times. */
export interface SafeCall {
  params: Record<string, string>
  body: unknown
}

/**
 * Well-formed calls of any operation for any actor, in the actor's own tenant, that are safe to
 * send with any part broken: reads name a seeded object, updates a throwaway, deletes an unknown
 * id (a malformed delete that still went through must not destroy anything), and principals and
 * anonymous callers act on a throwaway account of their own, so no update reaches a provisioned
 * tenant. Throwaways are created on first use and reused.
 */
export function safeCalls(ctx: CheckContext): (op: Op, actor: Actor) => Promise<SafeCall> {
  const t = ctx.topology
  const { account, workspace } = t.params
  const cache = new Map<string, Promise<SeededObject | undefined>>()
  const once = (key: string, make: () => Promise<SeededObject | undefined>) => {
    if (!cache.has(key)) cache.set(key, make())
    return cache.get(key)!
  }
  const sandbox = async (): Promise<OpTarget> => {
    const acct = await once('sandbox-account', () => throwaway(ctx, ctx.contract.vocabulary.name('account'), {}))
    const ws = acct && (await once('sandbox-workspace', () => throwaway(ctx, ctx.contract.vocabulary.name('workspace'), { accountId: acct.id })))
    const first = t.accounts[0]?.workspaces[0]
    return acct && ws ? { accountId: acct.id, workspaceId: ws.id } : { accountId: first?.accountId, workspaceId: first?.id }
  }
  const [unknown = ''] = fc.sample(fc.uuid({ version: 4 }), { seed: ctx.fc.seed, numRuns: 1 }) // deterministic per seed
  return async (op, actor) => {
    const home = actor.kind === 'user' ? { accountId: actor.accountId, workspaceId: actor.workspaceId } : await sandbox()
    const params: Record<string, string> = {}
    if (home.accountId) params[account] = home.accountId
    if (home.workspaceId) params[workspace] = home.workspaceId
    for (const [i, name] of op.pathParams.entries()) {
      const last = i === op.pathParams.length - 1
      if (op.verb === 'delete' && last) params[name] = unknown
      else if (name === account || name === workspace) continue
      else if (!last) params[name] = unknown
      else if (op.verb === 'read' || op.verb === 'list') {
        const ws = t.accounts.flatMap((a) => a.workspaces).find((w) => w.id === home.workspaceId)
        params[name] = (ws && objectIn(t, op, ws, actor))?.id ?? unknown
      } else {
        params[name] = (await once(`${op.resource}|${home.workspaceId}`, () => throwaway(ctx, op.resource, home, actor)))?.id ?? unknown
      }
    }
    const tag = `safe-${t.tag}-${op.resource}`
    const body = ['post', 'put', 'patch'].includes(op.method)
      ? bodyFromSchema(ctx.contract, op.requestSchema ?? {}, { email: `${tag}@tenant-audit.test`, password: newPassword(), role: 'viewer', platformRole: 'support', label: tag })
      : undefined
    return { params, body }
  }
}
