import fc from 'fast-check'
import { defineCheck } from '../../harness/core/check.js'
import { expected } from '../../harness/core/oracle.js'
import type { Actor, SeededObject } from '../../harness/core/topology.js'
import { FindingCollector } from '../../harness/engine/collect.js'
import type { CheckContext, ProbeResult } from '../../harness/engine/context.js'
import { restsOnRefusal, worst, type Op, type Problem } from '../../harness/engine/judge.js'
import { objectParam, representatives, workspacesAround } from '../../harness/engine/targets.js'
import { probeUnrecorded } from '../../harness/engine/unrecorded.js'
import { marker, victimIn, writeBody } from '../../harness/engine/victims.js'
import { ID_MUTATIONS, shapeOf, type IdMutation } from '../../fixtures/arbitraries/id-mutations.js'

type Base = 'own' | 'sibling' | 'other-account' | 'unknown'
const BASES: Base[] = ['own', 'sibling', 'other-account', 'unknown']
const WHOSE: Record<Base, string> = { own: 'its own', sibling: "a sibling workspace's", 'other-account': "another account's", unknown: 'an unknown' }
const PLACEHOLDER = 'ta-id-placeholder'

/** Who calls an operation: the first representative the policy allows it to (principals for the Portal). */
function callerOf(ctx: CheckContext, op: Op): Actor | undefined {
  const pool = op.tenancy.scope === 'platform' ? ctx.topology.actors.filter((a) => a.kind === 'principal') : representatives(ctx.topology)
  return pool.find((a) => a.kind !== 'anonymous' && expected(op, a, { accountId: a.accountId, workspaceId: a.workspaceId }) === 'allow')
}

/**
 * Mangled object ids on every object operation (RESTler InvalidDynamicObject R6, Akto ID fuzzing
 * K3, EvoMaster E1), always through the caller's own workspace: its own id, a sibling workspace's,
 * another account's and an id that exists nowhere, each as is, uppercased, percent-encoded, with a
 * query, `/`, `/?/`, `??`, `/id`, encoded slashes, truncated, its neighbour, and `{}`, `1` and
 * other non-UUIDs. Foreign and unknown ids: never 2xx, 5xx or a foreign canary, and the same status
 * for existing and missing objects. Its own id: 2xx or 4xx as the server likes, never 5xx.
 */
export const idMutations = defineCheck<CheckContext>({
  id: 'access/id-mutations',
  suite: 'access',
  title: 'Mangled or foreign object ids are refused cleanly',
  severity: 'high', cwe: 639, owasp: 'API1:2023',
  requires: ['two-accounts'],
  docs: 'authz-tools.md §4 R6, K3, E1, S3',
  async run(ctx) {
    const t = ctx.topology
    const found = new FindingCollector()
    const unknownId = fc.sample(fc.uuid(), { seed: ctx.fc.seed, numRuns: 1 })[0]!
    // Every (operation, whose id) walk runs concurrently with the others; within one, the forms go in
    // order, since a form that wrongly went through may have changed the victim the next one names.
    const walks = ctx.contract.annotated.flatMap((op) => {
      const param = objectParam(t, op)
      const actor = param ? callerOf(ctx, op) : undefined
      if (!param || !actor) return []
      const around = op.tenancy.scope === 'platform' ? [{ relation: 'own', ws: t.accounts[0]!.workspaces[0]! }] : workspacesAround(t, actor)
      const own = around.find((w) => w.relation === 'own')!.ws
      return BASES.map((base) => ({ op, param, actor, own, base, home: base === 'own' || base === 'unknown' ? own : around.find((w) => w.relation === base)?.ws }))
    })
    const seen = new Map<string, ProbeResult>()
    await ctx.concurrently(walks, async ({ op, param, actor, own, base, home }) => {
      let victim: SeededObject | undefined
      for (const m of home ? ID_MUTATIONS.filter((x) => !x.idFree || base === 'unknown') : []) {
        // A delete of its own id may well succeed: a fresh throwaway for every form.
        if (base !== 'unknown' && (!victim || (base === 'own' && op.verb === 'delete'))) victim = await victimIn(ctx, op, home!, base === 'own' ? actor : undefined)
        if (base !== 'unknown' && !victim) break
        const id = victim?.id ?? unknownId
        const target = { accountId: own.accountId, workspaceId: own.id, object: victim }
        const rawPath = ctx.pathFor(op, target, { [param]: PLACEHOLDER }).replace(PLACEHOLDER, m.of(id))
        const r = await probeUnrecorded(ctx, { actor, op, target, params: { [param]: id }, rawPath, body: writeBody(ctx, op, marker(ctx)) })
        seen.set(`${op.id}|${base}|${m.name}`, r)
        const strict = base !== 'own' || !m.same
        const ok = r.response.status >= 200 && r.response.status < 300
        const problems = r.judgement.problems.filter((p) => p !== 'wrongly-denied' && (strict || p !== 'wrongly-allowed'))
        if (strict && ok && !problems.includes('wrongly-allowed')) problems.push('wrongly-allowed')
        if (problems.length) ctx.inOrder(() => found.add(findingOf(ctx, r, base, m, problems, strict), `${WHOSE[base]} id as \`${shapeOf(m)}\``))
      }
    })
    // E1: a foreign id must answer exactly like one that exists nowhere, or existence leaks.
    for (const { op, actor } of walks.filter((w) => w.base === 'unknown')) {
      for (const m of ID_MUTATIONS.filter((x) => !x.idFree)) {
        const missing = seen.get(`${op.id}|unknown|${m.name}`)
        for (const base of ['sibling', 'other-account'] as const) {
          const r = seen.get(`${op.id}|${base}|${m.name}`)
          if (!r || !missing || r.response.status === missing.response.status || r.response.status < 400 || missing.response.status < 400) continue
          found.add({ ...findingOf(ctx, r, base, m, [], true), severity: 'low', dedupKey: `${op.id}|existence`, restsOnRefusal: true,
            message: `${actor.label} ${op.method.toUpperCase()} ${op.path}: ${WHOSE[base]} id as \`${shapeOf(m)}\` answered ${r.response.status}, an id that exists nowhere ${missing.response.status}: existing objects can be told from missing ones` }, `${base} \`${shapeOf(m)}\``)
        }
      }
    }
    return { findings: found.list() }
  },
})

function findingOf(ctx: CheckContext, r: ProbeResult, base: Base, m: IdMutation, problems: Problem[], strict: boolean) {
  const leaked = r.judgement.leaks.map((l) => l.object.label).join(', ')
  return {
    message: `${r.probe.actor.label} ${r.probe.op.method.toUpperCase()} ${r.probe.op.path} with ${WHOSE[base]} id ${m.idFree ? 'replaced by' : 'as'} \`${shapeOf(m)}\`: ` +
      `${strict ? 'must be refused (404/403)' : 'may be 2xx or 4xx, never 5xx'}, target answered ${r.response.status}` +
      `${leaked ? ` carrying data of ${leaked}` : ''} (${problems.join(', ')})`,
    dedupKey: `${r.probe.op.id}|${problems.join('+')}`,
    severity: worst(problems),
    restsOnRefusal: restsOnRefusal(problems),
    ...ctx.evidenceOf(r),
    repro: { seed: ctx.settings.seed, curl: '' },
  }
}
