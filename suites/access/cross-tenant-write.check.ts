import { randomUUID } from 'node:crypto'
import { defineCheck } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { CheckContext, ProbeResult } from '../../harness/engine/context.js'
import { victimLabel } from '../../harness/engine/labels.js'
import { objectParam } from '../../harness/engine/targets.js'
import { differs, handlerOf, readBack, victimIn, victimTarget, writeBody, type Snapshot } from '../../harness/engine/victims.js'
import { foreignWrites, objectWrites, placesFor, type ForeignWrite } from '../../fixtures/arbitraries/foreign-writes.js'
import { findingFor } from './policy-matrix.check.js'

interface Attempt { r: ProbeResult; victim: string; reader?: string | undefined; before?: Snapshot | undefined; after?: (Snapshot & { gone?: boolean }) | undefined; unknownStatus?: number | undefined; problems: string[] }

/** One write on a fresh victim: snapshot as its owner, write as the intruder, snapshot again. */
async function attempt(ctx: CheckContext, w: ForeignWrite): Promise<Attempt | undefined> {
  const places = placesFor(ctx.topology, w.actor, w.placement)
  const home = places[w.pick % places.length]!
  const victim = await victimIn(ctx, w.op, home)
  if (!victim) return undefined
  const reader = handlerOf(ctx, victim, 'read')
  const before = reader && (await readBack(ctx, reader, `${victim.label} before the write`))
  const { target, params } = victimTarget(ctx, w.op, victim)
  const via = w.viaOwn ? { ...target, accountId: w.actor.accountId, workspaceId: w.actor.workspaceId } : target
  const body = writeBody(ctx, w.op, victim.canary)
  const r = await ctx.probe({ actor: w.actor, op: w.op, target: via, params, body })
  const after = reader && before?.state !== undefined ? await readBack(ctx, reader, `${victim.label} after ${w.actor.label}'s write`) : undefined
  const status = r.response.status
  const denied = r.judgement.expected !== 'allow'
  const refused = status < 200 || status > 299
  const problems: string[] = [...r.judgement.problems]
  // Only a served read-back (or a 404: gone) shows a change; a 401 to the owner shows nothing.
  if (before && after && (after.state !== undefined || after.gone) && differs(before, after) && (denied || refused)) problems.push('changed')
  if (denied && refused && status < 500 && status !== 429 && status !== 403 && status !== 404) problems.push('not-a-denial')
  // RPL-01: a refused foreign id answers exactly like an id that exists nowhere.
  const param = objectParam(ctx.topology, w.op)
  let unknownStatus: number | undefined
  if (param && denied && refused && status < 500) {
    const path = ctx.pathFor(w.op, via, { [param]: randomUUID() })
    unknownStatus = (await ctx.as(w.actor).send({ method: w.op.method, path, body })).status
    if (unknownStatus !== status) problems.push('existence-oracle')
  }
  return { r, victim: victimLabel(ctx.topology, victim), reader: reader?.actor.label, before, after, unknownStatus, problems }
}

function describe(ctx: CheckContext, w: ForeignWrite, a: Attempt): FindingInput {
  const where = `${a.victim} (${w.placement})${w.viaOwn ? ', named through the actor\'s own workspace' : ''}`
  const base = findingFor(ctx, a.r, where)
  const notes: string[] = []
  if (a.problems.includes('changed')) {
    notes.push(a.after && a.after.status >= 200 && a.after.status < 300
      ? `${a.reader}'s re-read shows the victim CHANGED`
      : `${a.reader}'s re-read answered ${a.after?.status}: the victim is GONE (it answered ${a.before?.status} before)`)
  }
  if (a.problems.includes('not-a-denial')) notes.push(`a refused foreign write should answer 403 or 404, not ${a.r.response.status}`)
  if (a.problems.includes('existence-oracle')) notes.push(`an id that exists nowhere answered ${a.unknownStatus}: existing and missing ids are told apart`)
  const severe = a.problems.includes('changed') ? 'critical' : a.problems.every((p) => p === 'not-a-denial' || p === 'existence-oracle') ? 'low' : base.severity
  // Refusal-shaped problems (and "gone", a 404 to the owner) need a target that still serves genuine calls.
  const refusalOnly = a.problems.every((p) => ['wrongly-denied', 'disclosing-status', 'not-a-denial', 'existence-oracle'].includes(p) || (p === 'changed' && a.after?.gone === true))
  return { ...base, severity: severe, restsOnRefusal: refusalOnly, message: [base.message, ...notes].join('; '), dedupKey: `${w.op.id}|${w.actor.actorKind}|${w.placement}|${w.viaOwn ? 'own-parent' : 'their-parent'}|${a.problems.join('+')}` }
}

/**
 * Another tenant's object updated or deleted with this tenant's token (RESTler NamespaceRule R1,
 * both variants; trigger_objects R2; token swap K1/C1; cross-tenant replay RPL-01): every non-read
 * verb on one object, by every user, on a throwaway victim in a sibling workspace or another
 * account, named through the victim's workspace or the actor's own. A refusal must be 403/404 (and
 * look like a missing id), and the owner's re-read must show the victim untouched: a "refused"
 * write that still landed is caught too.
 */
export const crossTenantWrite = defineCheck<CheckContext>({
  id: 'access/cross-tenant-write',
  suite: 'access',
  title: "Object changed or deleted with another tenant's token",
  severity: 'critical', cwe: 639, owasp: 'API1:2023',
  requires: ['two-accounts'],
  docs: 'authz-tools.md §4 R1 (both variants), R2, K1, C1; forgery.md RPL-01',
  async run(ctx) {
    const ops = objectWrites(ctx)
    if (ops.length === 0 || !ctx.topology.actors.some((a) => a.kind === 'user')) return { findings: [], skipped: 'the contract has no write operation on one object' }
    const result = await ctx.property(foreignWrites(ctx, ops), (w) => attempt(ctx, w), (a) => (a?.problems.length ?? 0) === 0)
    return {
      findings: await ctx.findingsFrom(result, async (w) => {
        const a = await attempt(ctx, w)
        return a?.problems.length ? describe(ctx, w, a) : undefined
      }),
    }
  },
})
