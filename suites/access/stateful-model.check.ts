import fc from 'fast-check'
import { defineCheck } from '../../harness/core/check.js'
import { expected } from '../../harness/core/oracle.js'
import type { Actor } from '../../harness/core/topology.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { initialModel, modelCommands, modelResources } from '../../fixtures/arbitraries/model/commands.js'
import { ModelMismatch, type Model, type Real, type World } from '../../fixtures/arbitraries/model/model.js'

/** Deletes what a run created (by its creator, or anyone the policy lets), so every run starts from the seeded topology. */
async function cleanupRun(world: World, m: Model, r: Real): Promise<void> {
  const { ctx } = world
  const members = Object.values(m.members).filter((x) => !x.removed).map((x) => x.actor)
  for (const mo of m.created.filter((x) => !x.deleted)) {
    const del = world.resources.get(mo.object.resource)?.delete
    if (!del) continue
    const target = { accountId: mo.object.accountId, workspaceId: mo.object.workspaceId, object: mo.object }
    const candidates = [...members, ...ctx.topology.actors].filter((a) => a.workspaceId === mo.object.workspaceId)
    const deleter = candidates.find((a) => a.label === mo.object.ownerLabel && expected(del, a, target) === 'allow') ?? candidates.find((a) => expected(del, a, target) === 'allow')
    if (deleter) await ctx.as(deleter).send({ method: del.method, path: ctx.pathFor(del, target) })
  }
  for (const stray of r.strays.splice(0)) {
    const creator: Actor = { label: 'stray-creator', kind: 'user', actorKind: 'viewer', token: stray.token }
    await ctx.as(creator).delete(stray.path)
  }
}

/**
 * The stateful model (fast-check `fc.commands`, one command class per file under
 * fixtures/arbitraries/model/): creates, reads, updates, deletes and lists interleaved across
 * tenants, with throwaway members joining, changing role and leaving. The model tracks what exists
 * where and, through the x-tenancy oracle, who may see and change it; every answer is compared with
 * it and scanned for canaries. A difference fails the run and shrinks to the shortest sequence that
 * shows it (authz-tools §3 (2): generated scenarios against a declared policy).
 */
export const statefulModel = defineCheck<CheckContext>({
  id: 'access/stateful-model',
  suite: 'access',
  title: 'A sequence of calls across tenants diverges from the policy model',
  severity: 'critical', cwe: 639, owasp: 'API1:2023',
  requires: ['two-accounts'],
  docs: 'authz-tools.md §3 (2), §4 R1, R3, R4, S5, S6, M3, X2, T3; faults document-read-ignores-workspace, document-write-ignores-workspace, document-read-bypasses-rls',
  async run(ctx) {
    const world: World = { ctx, resources: modelResources(ctx) }
    if (world.resources.size === 0) return { findings: [], skipped: 'the contract has no workspace-scoped data resource to model' }
    // A replayable path is `<fast-check path>|<commands replayPath>`: commands shrink by what ran, so both are needed.
    const [path, replayPath] = (ctx.fc.path ?? '').split('|')
    const property = fc.asyncProperty(modelCommands(world, replayPath || undefined), async (cmds) => {
      const model = initialModel(world)
      const real: Real = { trace: [], strays: [] }
      try {
        await fc.asyncModelRun(() => ({ model, real }), cmds)
      } finally {
        await cleanupRun(world, model, real)
      }
    })
    const result = await fc.check(property, { ...ctx.fc, path: path || undefined, numRuns: Math.min(ctx.fc.numRuns, 30) })
    const err = result.errorInstance
    const steps = err instanceof ModelMismatch ? err.steps : []
    const replay = /replayPath="([^"]*)"/.exec(String(result.counterexample?.[0] ?? ''))?.[1]
    const findings = await ctx.findingsFrom(result, async () => {
      if (!(err instanceof ModelMismatch)) throw err instanceof Error ? err : new Error(String(err))
      return { ...err.finding, message: `${err.message}. Shrunk sequence: ${steps.map((s, i) => `${i + 1}. ${s}`).join('; ')}` }
    })
    // The counterexample is the shrunk command list, one replayable step per entry.
    return { findings: findings.map((f) => ({ ...f, repro: f.repro && { ...f.repro, path: f.repro.path && replay ? `${f.repro.path}|${replay}` : f.repro.path, counterexample: steps } })) }
  },
})
