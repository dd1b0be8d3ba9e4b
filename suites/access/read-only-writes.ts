import { randomBytes } from 'node:crypto'
import type { FindingInput } from '../../harness/core/finding.js'
import type { OpTarget } from '../../harness/core/oracle.js'
import { expected } from '../../harness/core/oracle.js'
import type { CheckContext } from '../../harness/engine/context.js'
import type { Op } from '../../harness/engine/judge.js'
import { objectParam } from '../../harness/engine/targets.js'
import { throwaway } from '../../harness/engine/throwaway.js'
import { bodyFromSchema } from '../../harness/provision/bodies.js'
import { newPassword } from '../../harness/provision/session.js'
import { findingFor } from './policy-matrix.check.js'

const READS = new Set(['read', 'list', 'search'])

/** Portal operations that change something (any verb but read/list/search), deletes last. */
export function portalWrites(ctx: CheckContext): Op[] {
  return ctx.contract.annotated
    .filter((o) => o.tenancy.context === 'portal' && !READS.has(o.verb))
    .sort((a, b) => Number(a.verb === 'delete') - Number(b.verb === 'delete'))
}

/**
 * The second half of access/privilege-escalation: every principal whose roles the contract never lets
 * write (`support`) calls every Portal write, aimed at a throwaway account and workspace (and a
 * throwaway object for updates and deletes). Judged by the oracle: any 2xx is a write it may not make.
 */
export async function readOnlyWrites(ctx: CheckContext): Promise<FindingInput[]> {
  const writes = portalWrites(ctx)
  const readOnly = ctx.topology.actors.filter((p) => p.kind === 'principal' && !writes.some((op) => expected(op, p, {}) === 'allow'))
  if (readOnly.length === 0 || writes.length === 0) return []
  const account = await throwaway(ctx, ctx.contract.vocabulary.name('account'), {})
  const ws = account && (await throwaway(ctx, ctx.contract.vocabulary.name('workspace'), { accountId: account.id }))
  if (!account || !ws) return []
  const base: OpTarget = { accountId: account.id, workspaceId: ws.id }
  const out: FindingInput[] = []
  for (const principal of readOnly) {
    for (const op of writes) {
      let target: OpTarget = base
      let params: Record<string, string> = {}
      if (op.verb !== 'create') {
        const spare = await throwaway(ctx, op.resource, base)
        if (!spare) continue
        const param = objectParam(ctx.topology, op)
        if (op.role === 'account') target = { accountId: spare.id }
        else if (op.role === 'workspace') target = { ...base, workspaceId: spare.id }
        else target = { ...base, object: spare }
        if (param) params = { [param]: spare.id }
      }
      const tag = `ro-${randomBytes(4).toString('hex')}`
      const body = op.verb === 'create'
        ? bodyFromSchema(ctx.contract, op.requestSchema ?? {}, { email: `${tag}@tenant-audit.test`, password: newPassword(), role: 'viewer', platformRole: 'support', label: tag })
        : ['post', 'put', 'patch'].includes(op.method) ? {} : undefined // an empty update changes nothing and still needs the right
      const r = await ctx.probe({ actor: principal, op, target, params, body })
      if (r.judgement.problems.length > 0) out.push(findingFor(ctx, r, 'read-only principal, Portal write'))
    }
  }
  return out
}
