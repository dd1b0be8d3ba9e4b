import { defineCheck } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { Actor, SeededObject, WorkspaceNode } from '../../harness/core/topology.js'
import { FindingCollector } from '../../harness/engine/collect.js'
import type { CheckContext, ProbeResult } from '../../harness/engine/context.js'
import type { Op } from '../../harness/engine/judge.js'
import { objectParam, representatives, workspacesAround } from '../../harness/engine/targets.js'
import { probeUnrecorded } from '../../harness/engine/unrecorded.js'
import { disposeCreated, marker, victimIn, workspaceFor, writeBody } from '../../harness/engine/victims.js'
import { findingFor } from './policy-matrix.check.js'

/** A 2xx to an account/workspace pair that does not exist is the defect, whoever the caller (principals may call the operation). */
function mismatchFinding(ctx: CheckContext, r: ProbeResult, accountLabel: string, ws: WorkspaceNode): FindingInput | undefined {
  const { status } = r.response
  const problems = [...(status >= 200 && status < 300 ? ['wrongly-allowed'] : []), ...(status >= 500 ? ['server-error'] : []), ...(r.judgement.leaks.length ? ['leak'] : [])]
  if (problems.length === 0) return undefined
  const carried = ctx.leaks.objectsIn(r.response.body).filter((o) => o.workspaceId === ws.id).map((o) => o.label)
  return {
    message: `${r.probe.actor.label} ${r.probe.op.method.toUpperCase()} ${r.probe.op.path} [account ${accountLabel}, workspace ${ws.label}]: ` +
      `a workspace named under an account it does not belong to must answer 404, target answered ${status}` +
      `${carried.length ? ` with ${ws.label}'s data (${carried.join(', ')})` : ''} (${problems.join(', ')})`,
    dedupKey: `${r.probe.op.id}|mismatched-pair|${problems.join('+')}`,
    severity: problems.length === 1 && problems[0] === 'server-error' ? 'medium' : 'critical',
    ...ctx.evidenceOf(r),
    repro: { seed: ctx.settings.seed, curl: '' },
  }
}

/**
 * A child reached through a parent it does not belong to (RESTler ResourceHierarchy R3; RPL-03),
 * walked for a representative of every role: each object operation as `/<my workspace>/<their
 * object>` and `/<their workspace>/<my object>` (sibling workspace and another account); each
 * workspace operation on a workspace of another account (the token's account is its parent); and
 * each operation naming both an account and a workspace, with a workspace of one account under the
 * other, for users and principals alike. All must be refused: 404 (or 403), never 2xx, 5xx or data.
 * Writes aim at throwaway objects and workspaces.
 */
export const childUnderForeignParent = defineCheck<CheckContext>({
  id: 'access/child-under-foreign-parent',
  suite: 'access',
  title: 'Object or workspace reachable through a parent it does not belong to',
  severity: 'critical', cwe: 639, owasp: 'API1:2023',
  requires: ['two-accounts'],
  docs: 'authz-tools.md §4 R3, R1 (attacker prefix); forgery.md RPL-03',
  async run(ctx) {
    const t = ctx.topology
    const found = new FindingCollector()
    const actors = representatives(t).filter((a) => a.kind !== 'anonymous')
    const probe = async (actor: Actor, op: Op, ws: WorkspaceNode, child: SeededObject | undefined, accountId = ws.accountId) => {
      const param = objectParam(t, op)
      const target = { accountId, workspaceId: ws.id, object: child }
      const p = { actor, op, target, params: param && child ? { [param]: child.id } : {}, body: writeBody(ctx, op, marker(ctx)) }
      // A mismatched pair is outside the oracle's model (it would call a principal's 404 wrongly denied): keep it off the matrix.
      const r = accountId === ws.accountId ? await ctx.probe(p) : await probeUnrecorded(ctx, p)
      disposeCreated(ctx, op, actor, { accountId: ws.accountId, workspaceId: ws.id }, r.response)
      return r
    }
    const judged = (r: ProbeResult, relation: string) => {
      if (r.judgement.problems.length) ctx.inOrder(() => found.add({ ...findingFor(ctx, r, relation), dedupKey: `${r.probe.op.id}|${relation}|${r.judgement.problems.join('+')}` }))
    }
    // Every case names its own throwaways (or only reads): they run concurrently, judged in this order.
    const cases: (() => Promise<void>)[] = []
    for (const op of ctx.contract.annotated.filter((o) => o.tenancy.scope === 'workspace')) {
      for (const actor of actors.filter((a) => a.kind === 'user')) {
        const around = workspacesAround(t, actor)
        const own = around.find((w) => w.relation === 'own')?.ws
        const other = around.find((w) => w.relation === 'other-account')?.ws
        if (!own) continue
        if (!objectParam(t, op)) {
          cases.push(async () => {
            const ws = other && (await workspaceFor(ctx, op, other.accountId, other))
            if (ws) judged(await probe(actor, op, ws, undefined), 'workspace of another account')
          })
          continue
        }
        for (const { relation, ws } of around.filter((w) => w.relation !== 'own')) {
          cases.push(async () => {
            const theirs = await victimIn(ctx, op, ws)
            if (theirs) judged(await probe(actor, op, own, theirs), `parent mine, child of ${relation}`)
          }, async () => {
            const mine = await victimIn(ctx, op, own, actor)
            if (mine) judged(await probe(actor, op, ws, mine), `parent ${relation}, child mine`)
          })
        }
      }
    }
    const { account, workspace } = t.params
    for (const op of ctx.contract.annotated.filter((o) => o.pathParams.includes(account) && o.pathParams.includes(workspace))) {
      for (const actor of actors) {
        const home = t.accounts.find((a) => a.id === actor.accountId) ?? t.accounts[0]
        const away = t.accounts.find((a) => a !== home)
        if (!home || !away) continue
        for (const [named, owner] of [[away, home], [home, away]] as const) {
          cases.push(async () => {
            const ws = await workspaceFor(ctx, op, owner.id, owner.workspaces[0])
            const child = ws && objectParam(t, op) ? await victimIn(ctx, op, ws) : undefined
            if (!ws || (objectParam(t, op) && !child)) return
            const f = mismatchFinding(ctx, await probe(actor, op, ws, child, named.id), named.label, ws)
            ctx.inOrder(() => found.add(f))
          })
        }
      }
    }
    await ctx.concurrently(cases, (run) => run())
    return { findings: found.list() }
  },
})
