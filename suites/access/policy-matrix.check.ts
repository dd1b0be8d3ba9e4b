import { randomBytes } from 'node:crypto'
import { defineCheck } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { CheckContext, Probe, ProbeResult } from '../../harness/engine/context.js'
import type { OpTarget } from '../../harness/core/oracle.js'
import type { Actor } from '../../harness/core/topology.js'
import { bodyFromSchema, validBody } from '../../harness/provision/bodies.js'
import { ProbeSkipped } from '../../harness/core/skip.js'
import type { SeededObject } from '../../harness/core/topology.js'
import { newPassword } from '../../harness/provision/session.js'
import { objectIn, objectParam, representatives, targetsFor } from '../../harness/engine/targets.js'
import { throwaway } from '../../harness/engine/throwaway.js'
import { restsOnRefusal, worst, type Op } from '../../harness/engine/judge.js'

function zip<A, B>(a: readonly A[], b: readonly B[]): [A, B][] {
  return a.map((x, i) => [x, b[i]!])
}

/** A finding for one judged probe, keyed so the same defect is one finding across runs. */
export function findingFor(ctx: CheckContext, r: ProbeResult, relation: string): FindingInput {
  const { actor, op } = r.probe
  const j = r.judgement
  const leaked = j.leaks.map((l) => `${l.object.label} (${l.where})`).join(', ')
  return {
    message: `${actor.label} ${op.method.toUpperCase()} ${op.path} [${relation}]: policy says ${j.expected}, target answered ${j.status}` +
      (leaked ? `; response carries foreign data of ${leaked}` : '') + ` (${j.problems.join(', ')})`,
    dedupKey: `${op.id}|${actor.actorKind}|${relation}|${j.problems.join('+')}`,
    severity: worst(j.problems),
    restsOnRefusal: restsOnRefusal(j.problems),
    ...ctx.evidenceOf(r),
    repro: { seed: ctx.settings.seed, curl: '' },
  }
}

function bodyFor(ctx: CheckContext, op: Op, object?: SeededObject): unknown {
  if (op.method === 'get' || op.method === 'delete') return undefined
  if (op.verb === 'create') {
    const tag = randomBytes(4).toString('hex')
    return bodyFromSchema(ctx.contract, op.requestSchema ?? {}, {
      email: `walk-${tag}@tenant-audit.test`, password: newPassword(), role: 'viewer', platformRole: 'support', label: `walk-${tag}`, canary: `walk-${tag}`,
    })
  }
  // The smallest update the schema accepts (an empty one where it may be empty: it changes nothing and
  // still has to pass authorization), carrying the object's own canary so the object stays recognisable.
  // No role hint: an update of a member must not demote anyone the audit still needs.
  const r = validBody(ctx.contract, op.requestSchema ?? {}, { label: object?.label ?? 'policy-matrix', canary: object?.canary })
  if (!r.ok) throw new ProbeSkipped(`${op.id} needs a body the harness cannot build: ${r.reason}`)
  return op.requestSchema && r.body && typeof r.body === 'object' && Object.keys(r.body).length === 0 ? {} : r.body
}

/**
 * The whole policy, walked: every annotated operation × one actor of every kind (and anonymous)
 * × own workspace / sibling workspace / other account, each answer judged two-sided against the
 * x-tenancy oracle and scanned for canaries. Destructive calls hit throwaway objects. This check
 * also fills the isolation matrix of the report. (authz-tools §4 M1, Z1–Z2, O1; ASVS 8.2.1–8.2.2)
 */
export const policyMatrix = defineCheck<CheckContext>({
  id: 'access/policy-matrix',
  suite: 'access',
  title: 'Every role on every operation gets exactly what the policy allows',
  severity: 'high', cwe: 285, owasp: 'API5:2023',
  requires: ['two-accounts'],
  docs: 'authz-tools.md §4 AuthMatrix M1, ZAP Z1–Z2, overstep O1',
  async run(ctx) {
    const t = ctx.topology
    // The cells in walk order. A delete cell needs its own throwaway first, made and probed in order;
    // every other cell is independent of the others and goes through a pool (ctx.probeAll books the
    // answers in walk order). Findings are taken in walk order, so the first of a dedup key wins as before.
    type Cell = { relation: string; probe?: Probe; spare?: { op: Op; actor: Actor; target: OpTarget } }
    const cells: Cell[] = []
    for (const op of ctx.contract.annotated) {
      if (op.tenancy.context === 'auth' || op.tenancy.context === 'public') continue
      const objParam = objectParam(t, op)
      for (const actor of representatives(t)) {
        for (const { relation, target } of targetsFor(t, op, actor)) {
          if (op.verb === 'delete') {
            cells.push({ relation, spare: { op, actor, target } })
            continue
          }
          const probeTarget = { ...target }
          if (objParam) {
            const ws = t.accounts.flatMap((a) => a.workspaces).find((w) => w.id === target.workspaceId)
            const object = ws && objectIn(t, op, ws, actor)
            if (!object) continue
            probeTarget.object = object
          }
          const params = objParam && probeTarget.object ? { [objParam]: probeTarget.object.id } : {}
          cells.push({ relation, probe: { actor, op, target: probeTarget, params, body: bodyFor(ctx, op, probeTarget.object) } })
        }
      }
    }
    const pooled = cells.filter((c) => c.probe)
    const answers = new Map<Cell, ProbeResult>(zip(pooled, await ctx.probeAll(pooled.map((c) => c.probe!))))
    for (const cell of cells) {
      if (!cell.spare) continue
      const { op, actor, target } = cell.spare
      // Never delete seeded data: aim every delete at a disposable object in the same place.
      const spare = await throwaway(ctx, op.resource, target, actor)
      if (!spare) continue
      const probeTarget = { ...target }
      if (op.role === 'account') probeTarget.accountId = spare.id
      else if (op.role === 'workspace') probeTarget.workspaceId = spare.id
      else probeTarget.object = spare
      const objParam = objectParam(t, op)
      const params = objParam && probeTarget.object ? { [objParam]: probeTarget.object.id } : {}
      answers.set(cell, await ctx.probe({ actor, op, target: probeTarget, params, body: bodyFor(ctx, op, probeTarget.object) }))
    }
    const findings = new Map<string, FindingInput>()
    for (const cell of cells) {
      const r = answers.get(cell)
      if (!r || r.judgement.problems.length === 0) continue
      const f = findingFor(ctx, r, cell.relation)
      if (!findings.has(f.dedupKey)) findings.set(f.dedupKey, f)
    }
    return { findings: [...findings.values()] }
  },
})
