import { defineCheck } from '../../harness/core/check.js'
import { expected, type OpTarget } from '../../harness/core/oracle.js'
import type { Actor, SeededObject, WorkspaceNode } from '../../harness/core/topology.js'
import { FindingCollector } from '../../harness/engine/collect.js'
import type { CheckContext, ProbeResult } from '../../harness/engine/context.js'
import type { Op } from '../../harness/engine/judge.js'
import { labelOf } from '../../harness/engine/labels.js'
import { grantCeiling } from '../../harness/engine/members.js'
import { representatives, workspacesAround } from '../../harness/engine/targets.js'
import { probeUnrecorded } from '../../harness/engine/unrecorded.js'
import { disposeLater, handlerOf, marker, readBack, victimIn, victimTarget, writeBody } from '../../harness/engine/victims.js'
import { extraFields, violations, type Expect, type ExtraSet, type Violation } from '../../fixtures/arbitraries/mass-assignment.js'

type Json = Record<string, unknown>

/** One call with extra fields, then what the object says: the create's answer and re-read, or the update victim's re-read. */
async function attempt(ctx: CheckContext, op: Op, actor: Actor, home: WorkspaceNode, extras: Record<string, string>): Promise<{ r: ProbeResult; found: Violation[] } | undefined> {
  const t = ctx.topology
  const victim = op.verb === 'update' ? await victimIn(ctx, op, home, actor) : undefined
  if (op.verb === 'update' && !victim) return undefined
  const { target, params }: { target: OpTarget; params: Record<string, string> } = victim ? victimTarget(ctx, op, victim) : { target: { accountId: home.accountId, workspaceId: home.id }, params: {} }
  const reader = victim && handlerOf(ctx, victim, 'read')
  const before = reader && (await readBack(ctx, reader, `${victim!.label} before the write`))
  // Off the matrix: a refusal of a poisoned body is right, though the oracle allows the plain call.
  const r = await probeUnrecorded(ctx, { actor, op, target, params, body: { ...(writeBody(ctx, op, marker(ctx)) as object), ...extras } })
  const ok = r.response.status >= 200 && r.response.status < 300
  const declared = new Set(Object.keys((ctx.contract.resolve(op.requestSchema ?? {}).properties ?? {}) as object))
  const ex: Expect = {
    accountId: victim?.accountId ?? home.accountId, ceiling: grantCeiling(op, actor, target), ownerId: actor.kind === 'user' ? actor.id : undefined,
    workspaceId: victim ? victim.workspaceId || undefined : op.role === 'workspace' ? undefined : home.id,
  }
  const found: Violation[] = r.response.status >= 500 ? [{ kind: 'server-error', text: `the body made it answer ${r.response.status}` }] : []
  const answer = ok ? (r.response.json as Json | undefined) : undefined
  if (answer) found.push(...violations(t, answer, ex, extras, declared, victim && (before?.json as Json | undefined)))
  let subject: SeededObject | undefined = victim
  if (!victim && typeof answer?.id === 'string') {
    const id = answer.id
    subject = { label: `created.${op.resource}`, resource: op.resource, id, ownerLabel: actor.label, private: op.tenancy.owner, canary: '',
      accountId: op.role === 'account' ? id : home.accountId, workspaceId: op.role === 'workspace' ? id : op.role === 'account' ? '' : home.id }
    disposeLater(ctx, subject)
  }
  const rereader = reader ?? (subject && handlerOf(ctx, subject, 'read'))
  const after = rereader && (ok || before?.state) ? await readBack(ctx, rereader, `${subject!.label} after ${actor.label}'s call`) : undefined
  if (after?.gone) found.push({ kind: 'gone', text: `${rereader!.actor.label}'s re-read where it belongs answered ${after.status}: it is not there` })
  if (after?.json) found.push(...violations(t, after.json as Json, ex, extras, declared, victim && (before?.json as Json | undefined)))
  return { r, found }
}

/**
 * Mass assignment of tenancy and privilege (EvoMaster E7, Akto K7, StackHawk H1, API3): every
 * create and update, by a representative of every role allowed to call it (principals on the
 * Portal), with extra body fields naming a sibling workspace, another account and another owner,
 * or higher roles and status. Afterwards the object (the create's answer and re-read; the update's
 * throwaway victim re-read by its owner) must still be in the caller's workspace and account, owned
 * by the caller, hold no role above what the caller may grant, and keep its protected fields.
 */
export const massAssignment = defineCheck<CheckContext>({
  id: 'access/mass-assignment',
  suite: 'access',
  title: 'Body fields move objects between tenants or raise roles',
  severity: 'critical', cwe: 915, owasp: 'API3:2023',
  requires: ['two-accounts'],
  docs: 'authz-tools.md §4 E7, K7, H1; DESIGN §1 "no body field moves an object to another workspace or account"',
  async run(ctx) {
    const t = ctx.topology
    const found = new FindingCollector()
    const cases: [ExtraSet, 'sibling' | 'other-account'][] = [['tenancy', 'sibling'], ['tenancy', 'other-account'], ['privilege', 'sibling']]
    const narrowed = new Set<string>()
    // One walk per (operation, set of extras, relation), concurrently: each writes its own throwaways; within
    // one, the callers go in turn (the first strict refusal narrows the set to one field at a time).
    const walks = ctx.contract.annotated.filter((o) => (o.verb === 'create' || o.verb === 'update') && o.method !== 'get' && o.method !== 'delete')
      .flatMap((op) => cases.map(([set, relation]) => ({ op, set, relation })))
    await ctx.concurrently(walks, async ({ op, set, relation }) => {
      const callers = op.tenancy.scope === 'platform' ? t.actors.filter((a) => a.kind === 'principal') : representatives(t).filter((a) => a.kind === 'user')
      // A principal may grant every role: only tenancy applies to it.
      for (const actor of callers.filter((a) => set === 'tenancy' || a.kind === 'user')) {
        const around = workspacesAround(t, actor)
        const home = around.find((w) => w.relation === 'own')?.ws
        const where = op.verb === 'update' && op.role === 'workspace' ? 'a-new-workspace' : home?.id
        if (!home || expected(op, actor, { accountId: home.accountId, workspaceId: where }) !== 'allow') continue
        const foreign = around.find((w) => w.relation === relation)?.ws
        if (!foreign) continue
        let extras = extraFields(t, set, foreign, t.actors.find((a) => a.workspaceId === foreign.id)?.id ?? foreign.id)
        let a = await attempt(ctx, op, actor, home, extras)
        // A strict schema refuses the whole set for its unknown fields; a bug honours one field. Offer
        // each alone (once per operation and relation: one representative caller is enough).
        const strict = a && !a.found.length && (a.r.response.status === 400 || a.r.response.status === 422)
        if (set === 'tenancy' && strict && !narrowed.has(`${op.id}|${relation}`)) {
          narrowed.add(`${op.id}|${relation}`)
          for (const [k, v] of Object.entries(extras)) {
            const one = await attempt(ctx, op, actor, home, { [k]: v })
            if (one?.found.length) {
              a = one
              extras = { [k]: v }
              break
            }
          }
        }
        if (!a?.found.length) continue
        const kinds = [...new Set(a.found.map((v) => v.kind))].sort()
        const shown = a
        const fields = extras
        ctx.inOrder(() => found.add({
          message: `${actor.label} ${op.method.toUpperCase()} ${op.path} with ${set === 'privilege' ? 'higher roles' : `the ids of ${relation === 'sibling' ? 'a sibling workspace' : 'another account'}`} ` +
            `in the body (${Object.entries(fields).map(([k, v]) => `${k}=${labelOf(t, v)}`).join(', ')}): target answered ${shown.r.response.status}; ${[...new Set(shown.found.map((v) => v.text))].join('; ')}`,
          dedupKey: `${op.id}|${kinds.join('+')}`,
          // "Gone" is a 404 to the re-reader: it means something only while the target serves genuine calls.
          restsOnRefusal: kinds.every((k) => k === 'gone'),
          severity: kinds.some((k) => k === 'tenant' || k === 'role' || k === 'gone') ? 'critical' : kinds.length === 1 && kinds[0] === 'server-error' ? 'medium' : 'high',
          ...ctx.evidenceOf(shown.r),
          repro: { seed: ctx.settings.seed, curl: '' },
        }, `${actor.label} (${set}, ${relation})`))
      }
    })
    return { findings: found.list() }
  },
})
