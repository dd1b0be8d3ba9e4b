import { defineCheck } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { expected, type OpTarget } from '../../harness/core/oracle.js'
import type { Actor } from '../../harness/core/topology.js'
import type { CheckContext } from '../../harness/engine/context.js'
import type { Op } from '../../harness/engine/judge.js'
import { deferCreated, objectParams, spareTarget } from '../../harness/engine/spares.js'
import { objectIn, objectParam, representatives } from '../../harness/engine/targets.js'
import { bodyFromSchema } from '../../harness/provision/bodies.js'
import { newPassword } from '../../harness/provision/session.js'
import { findingFor } from './policy-matrix.check.js'

const CONTEXTS = ['app', 'dashboard', 'portal'] as const

/** The actor's own tenant; principals have none, so they are aimed at the first account's first workspace. */
function home(ctx: CheckContext, actor: Actor): OpTarget {
  const ws = ctx.topology.accounts[0]?.workspaces[0]
  return actor.kind === 'user' ? { accountId: actor.accountId, workspaceId: actor.workspaceId } : { accountId: ws?.accountId, workspaceId: ws?.id }
}

/**
 * Every actor kind on every API context (ZAP Z1, ASVS 9.2.3 / T4, "Portal is for principals
 * only"): an actor kind the role semantics exclude from a context — no operation of that context
 * is allowed to it even in its own tenant (principals on App and Dashboard, every user kind,
 * account admins included, on the Portal, viewers and editors on the Dashboard) — calls every
 * operation of that context in its own tenant, on its own records. All must be refused with no
 * canary. Exhaustive: contexts × excluded kinds × operations is small. Deletes hit throwaways.
 */
export const contextConfinement = defineCheck<CheckContext>({
  id: 'access/context-confinement',
  suite: 'access',
  title: 'Token accepted on an API context its holder is excluded from',
  severity: 'critical', cwe: 285, owasp: 'API5:2023',
  requires: ['principals'],
  docs: 'authz-tools.md §3.8, §4 Z1, T4 (ASVS 9.2.3); DESIGN.md §1 role table; faults user-token-on-portal, editor-raises-own-role',
  async run(ctx) {
    const findings = new Map<string, { finding: FindingInput; ops: string[] }>()
    const actors = representatives(ctx.topology).filter((a) => a.kind !== 'anonymous')
    // One walk per (context, caller), concurrently; within one, operation after operation (a call that wrongly
    // went through may have changed the caller's own record the next one names).
    const walks = CONTEXTS.flatMap((context) => {
      const ops = ctx.contract.annotated.filter((op) => op.tenancy.context === context)
      return actors.filter((actor) => ops.length > 0 && ops.every((op) => expected(op, actor, { ...home(ctx, actor), object: undefined }) !== 'allow'))
        .map((actor) => ({ context, actor, ops }))
    })
    await ctx.concurrently(walks, async ({ context, actor, ops }) => {
      for (const op of ops) {
        const target = await targetFor(ctx, op, actor)
        if (!target) continue
        const r = await ctx.probe({ actor, op, target, params: objectParams(ctx, op, target), body: bodyFor(ctx, op) })
        deferCreated(ctx, op, r.response)
        if (r.judgement.problems.length === 0) continue
        // One finding per breach (context × actor kind × what went wrong), listing every operation.
        const key = `${context}|${actor.actorKind}|${r.judgement.problems.join('+')}`
        const own = target.object?.ownerLabel === actor.label ? ' (its own record)' : ''
        ctx.inOrder(() => {
          const entry = findings.get(key) ?? { finding: findingFor(ctx, r, `${context} context, own tenant`), ops: [] }
          entry.ops.push(`${op.method.toUpperCase()} ${op.path}${own} → ${r.judgement.status}`)
          findings.set(key, entry)
        })
      }
    })
    return {
      findings: [...findings.entries()].map(([key, { finding, ops }]) => ({
        ...finding,
        dedupKey: key,
        message: `${finding.actor} (${key.split('|')[1]}) may call no operation of the ${key.split('|')[0]} API, yet ${ops.length} answered it: ${ops.join('; ')}. First: ${finding.message}`,
      })),
    }
  },
})

/** Own tenant, own record when the op names one (a user's own user object); deletes on a throwaway. */
async function targetFor(ctx: CheckContext, op: Op, actor: Actor): Promise<OpTarget | undefined> {
  const target = home(ctx, actor)
  if (op.verb === 'delete') return spareTarget(ctx, op, target)
  if (!objectParam(ctx.topology, op)) return target
  const ws = ctx.topology.accounts.flatMap((a) => a.workspaces).find((w) => w.id === target.workspaceId)
  const object = ws && objectIn(ctx.topology, op, ws, actor)
  return object ? { ...target, object } : undefined
}

function bodyFor(ctx: CheckContext, op: Op): unknown {
  if (op.method === 'get' || op.method === 'delete') return undefined
  if (op.verb !== 'create') return {} // an empty update changes nothing and still has to pass authorization
  const tag = `confine-${ctx.topology.tag}-${op.resource}`
  return bodyFromSchema(ctx.contract, op.requestSchema ?? {}, { email: `${tag}@tenant-audit.test`, password: newPassword(), role: 'viewer', platformRole: 'support', label: tag })
}
