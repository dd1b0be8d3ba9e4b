import { defineCheck, type CheckOutcome } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { expectationProblems, mappedProblems, shapeProblems } from '../../harness/audit/event.js'
import { allowedWrites, foreignDenials, trackedFinding, type Tracked, collapse } from '../../harness/audit/scenarios.js'
import { AuditTrail } from '../../harness/audit/trail.js'

/**
 * The events of a few known requests (an allowed update and create by a user, one by a principal, a
 * denial) carry every field the profile's mapping names, with sane values: the request id, the time
 * within seconds of the request, the status of the response, the route template (not the raw URL),
 * the user agent the harness sent, the verified actor's real id, and target ids that exist
 * (research §2.5.2 schema; NIST AU-3: when, where, source, outcome, subject, object). For a profile
 * that keeps the reference shape, its OCSF extras too (class, activity, metadata, source address).
 */
export const eventFields = defineCheck<CheckContext>({
  id: 'audit/event-fields',
  suite: 'audit',
  title: 'Audit event lacks required fields or carries wrong values',
  severity: 'medium', cwe: 778, owasp: 'API8:2023',
  docs: 'tenancy-audit-ratelimit.md §2.5.2 (schema: time, status, route template, src ip), §2.1 (OCSF 6003 actor/api/src_endpoint), §2.4 (NIST AU-3, AU-8)',
  async run(ctx): Promise<CheckOutcome> {
    const trail = await AuditTrail.open(ctx)
    if (!(trail instanceof AuditTrail)) return trail
    const writes = await allowedWrites(ctx, trail)
    // One write per kind of caller and verb is enough to see every field.
    const picked = new Map<string, Tracked>()
    for (const w of writes) {
      const key = `${w.actor.kind}|${w.op.verb === 'create' ? 'create' : w.op.verb === 'delete' ? 'delete' : 'update'}`
      if (!picked.has(key)) picked.set(key, w)
    }
    const denials = ctx.topology.accounts.length >= 2 ? (await foreignDenials(ctx, trail, { limit: 2 })) : []
    const known = [...picked.values(), ...denials]
    if (known.length === 0) return { findings: [], skipped: 'no request of the contract could be made to produce an event' }
    const seen = await trail.await(known.map((k) => k.sent))
    if (seen.failure) return { findings: [trail.readFailure(seen.failure)] }
    const findings: FindingInput[] = []
    for (const k of known) {
      const [event] = seen.events.get(k.sent.requestId) ?? []
      if (!event) {
        findings.push(trackedFinding(k, `no audit event within ${trail.bound} ms (its fields cannot be checked)`, `${k.op.id}|missing`))
        continue
      }
      const x = { ...k.expect }
      // A principal's event may sit in the platform trail or the account's; a create names the new id or none.
      const created = k.op.verb === 'create'
      if (created && x.target) x.target = { ...x.target, uid: undefined }
      const m = trail.mapping
      const shape = m.referenceShape ? shapeProblems(event.raw) : mappedProblems(event, m)
      const problems = [...shape, ...expectationProblems(event, x, m)]
      if (created && m.carries('targetId') && event.targetId !== null && event.targetId !== undefined && event.targetId !== k.objectId) {
        problems.push(`${m.where('targetId')} ${JSON.stringify(event.targetId)} is not the id the create answered (${k.objectId})`)
      }
      // The reference's metadata.tenantUid repeats the trail: checked only in its shape.
      const meta = m.referenceShape ? (event.raw as { metadata?: { tenantUid?: unknown } }).metadata : undefined
      if (k.actor.kind === 'user' && meta && typeof meta === 'object' && meta.tenantUid !== k.actor.accountId) {
        problems.push(`metadata.tenantUid ${JSON.stringify(meta.tenantUid)} is not the caller's account`)
      }
      if (problems.length > 0) {
        const fields = problems.map((p) => p.split(' ')[0]).join(',')
        findings.push(trackedFinding(k, `its event is wrong: ${problems.join('; ')}`, `${k.actor.kind}|${k.op.verb}|${k.expect.outcome}|${fields}`))
      }
    }
    return { findings: collapse(findings) }
  },
})
