import fc from 'fast-check'
import { defineCheck } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { expected, type OpTarget } from '../../harness/core/oracle.js'
import type { Actor, SeededObject } from '../../harness/core/topology.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { worst, type Op } from '../../harness/engine/judge.js'
import { objectIn, objectParam, representatives, targetsFor } from '../../harness/engine/targets.js'
import { throwaway } from '../../harness/engine/throwaway.js'
import { difference, normalise } from '../../harness/engine/answers.js'
import { bodyFromSchema } from '../../harness/provision/bodies.js'
import { newPassword } from '../../harness/provision/session.js'

/**
 * Existence is not revealed (EvoMaster 204 / E1, API1): for every operation that names a tenant
 * or an object, and one user of every kind, a foreign object that exists and a random unknown id
 * must get the same answer — same status, same body once request ids, problem instances, clocks
 * and the path's ids are normalised. Objects are reached through their own workspace and through
 * the caller's (RESTler's attacker prefix); tenants by a foreign id against an unknown one.
 * Exhaustive over operations × kinds × relations; deletes aim at throwaways.
 */
export const existenceOracle = defineCheck<CheckContext>({
  id: 'access/existence-oracle',
  suite: 'access',
  title: 'Answer reveals whether a foreign object exists',
  severity: 'medium', cwe: 204, owasp: 'API1:2023',
  requires: ['two-accounts'],
  docs: 'authz-tools.md §3.3, §4 E1 (EvoMaster 204 SECURITY_EXISTENCE_LEAKAGE), R1; DESIGN.md §1 "existence is not revealed"; fault not-found-echoes-title',
  async run(ctx) {
    const t = ctx.topology
    const [unknownId = '', unknownTenant = ''] = fc.sample(fc.uuid({ version: 4 }), { seed: ctx.fc.seed, numRuns: 2 })
    const findings = new Map<string, FindingInput>()
    const spares = new Map<string, Promise<SeededObject | undefined>>()
    const existing = async (op: Op, target: OpTarget, actor: Actor) => {
      const ws = t.accounts.flatMap((a) => a.workspaces).find((w) => w.id === target.workspaceId)
      if (op.verb !== 'delete') return ws && objectIn(t, op, ws, actor)
      const key = `${op.resource}|${target.workspaceId}`
      if (!spares.has(key)) spares.set(key, throwaway(ctx, op.resource, target))
      return spares.get(key)
    }
    const compare = async (actor: Actor, op: Op, variant: string, found: OpTarget, params: Record<string, string>, missing: OpTarget, missingParams: Record<string, string>) => {
      if (expected(op, actor, found) === 'allow') return // the caller may know it exists
      const body = bodyFor(ctx, op)
      const a = await ctx.probe({ actor, op, target: found, params, body })
      const b = await ctx.as(actor).send({ method: op.method, path: ctx.pathFor(op, missing, missingParams), body: a.probe.body })
      // Both answers are refusals the verdict compares: the control must come after the second one.
      if (b.status >= 400 && b.status < 500) ctx.noteRefused(actor, op, missing)
      const ids = [found.accountId, found.workspaceId, found.object?.id, missing.accountId, missing.workspaceId, ...Object.values(params), ...Object.values(missingParams)].filter((x): x is string => !!x)
      if (a.response.status === b.status && normalise(a.response.body, ids) === normalise(b.body, ids)) return
      const key = `${op.id}|${variant}`
      const also = a.judgement.problems.length ? ` (${a.judgement.problems.join(', ')}${a.judgement.leaks.length ? `: ${a.judgement.leaks.map((l) => l.object.label).join(', ')}` : ''})` : ''
      const [shownA, shownB] = difference(normalise(a.response.body, ids), normalise(b.body, ids))
      const finding: FindingInput = {
        message: `${actor.label} ${op.method.toUpperCase()} ${op.path} [${variant}]: the existing ${found.object?.label ?? 'tenant'} answered ${a.response.status} {${shownA}}${also}, ` +
          `an unknown id answered ${b.status} {${shownB}}: the difference tells the caller that the foreign object exists`,
        dedupKey: key,
        severity: a.judgement.problems.length ? worst(a.judgement.problems) : 'medium',
        // Two refusals told apart mean something only while the target serves genuine calls.
        restsOnRefusal: !a.judgement.problems.some((p) => p === 'leak' || p === 'wrongly-allowed'),
        ...ctx.evidenceOf(a),
      }
      ctx.inOrder(() => { if (!findings.has(key)) findings.set(key, finding) })
    }
    const ops = ctx.contract.annotated.filter((op) => op.tenancy.context !== 'portal' && (op.tenancy.scope === 'workspace' || op.tenancy.scope === 'account'))
    // One case per (operation, caller, place), concurrently; a delete's cases share its throwaways (a delete that
    // wrongly went through changes what the next one meets), so they stay one after another.
    const cases: (() => Promise<void>)[] = []
    for (const op of ops) {
      const param = objectParam(t, op)
      if (!param && op.verb === 'delete') continue // it would delete a tenant
      const mine: (() => Promise<void>)[] = []
      for (const actor of representatives(t).filter((a) => a.kind === 'user')) {
        for (const { relation, target } of targetsFor(t, op, actor).filter((x) => x.relation !== 'own')) {
          mine.push(async () => {
            if (!param) {
              const missing = op.tenancy.scope === 'workspace' ? { ...target, workspaceId: unknownTenant } : { accountId: unknownTenant }
              return compare(actor, op, `${relation} ${op.tenancy.scope}`, target, {}, missing, {})
            }
            const object = await existing(op, target, actor)
            if (!object) return
            const own = { accountId: actor.accountId, workspaceId: actor.workspaceId }
            await compare(actor, op, `${relation} object, through its workspace`, { ...target, object }, { [param]: object.id }, target, { [param]: unknownId })
            await compare(actor, op, `${relation} object, through the caller's workspace`, { ...own, object }, { [param]: object.id }, own, { [param]: unknownId })
          })
        }
      }
      if (op.verb === 'delete') cases.push(async () => { for (const run of mine) await run() })
      else cases.push(...mine)
    }
    await ctx.concurrently(cases, (run) => run())
    return { findings: [...findings.values()] }
  },
})

function bodyFor(ctx: CheckContext, op: Op): unknown {
  if (op.method === 'get' || op.method === 'delete') return undefined
  if (op.verb !== 'create') return {}
  const tag = `exists-${ctx.topology.tag}-${op.resource}`
  return bodyFromSchema(ctx.contract, op.requestSchema ?? {}, { email: `${tag}@tenant-audit.test`, password: newPassword(), role: 'viewer', label: tag })
}
