import { defineCheck, type CheckOutcome } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { allowedWrites, foreignDenials, trackedFinding, type Tracked, collapse } from '../../harness/audit/scenarios.js'
import { AuditTrail } from '../../harness/audit/trail.js'

/**
 * Events appear in the read API within the profile's bound (`audit.eventsWithinMs`): an allowed
 * create, an update and a denial are polled for by request id, for up to twice the bound so the
 * finding can say how late they were (research §2.5.7: a silent drop or a stalled sink must be
 * detected; OWASP Logging: detect when logging stops).
 */
export const timeliness = defineCheck<CheckContext>({
  id: 'audit/timeliness',
  suite: 'audit',
  // Alone: it measures how late events appear; other checks' requests queued beside its polls (and
  // the target's load from them) would be counted as the target's lateness.
  exclusive: true,
  title: 'Audit events appear late or never',
  severity: 'medium', cwe: 778, owasp: 'API8:2023',
  docs: 'tenancy-audit-ratelimit.md §2.5.7 (logging failure: detect a silent drop), §2.4 (OWASP Logging: detect when logging stops)',
  async run(ctx): Promise<CheckOutcome> {
    const trail = await AuditTrail.open(ctx)
    if (!(trail instanceof AuditTrail)) return trail
    const writes = await allowedWrites(ctx, trail)
    const pick = (f: (w: Tracked) => boolean) => writes.find(f)
    const sample = [
      pick((w) => w.op.verb === 'create' && w.actor.kind === 'user'),
      pick((w) => w.op.verb !== 'create' && w.op.verb !== 'delete' && w.actor.kind === 'user'),
      ...(ctx.topology.accounts.length >= 2 ? await foreignDenials(ctx, trail, { limit: 1 }) : []),
    ].filter((x): x is Tracked => x !== undefined)
    if (sample.length === 0) return { findings: [], skipped: 'no request of the contract could be made to produce an event' }
    const seen = await trail.await(sample.map((s) => s.sent), { patienceMs: 2 * trail.bound })
    if (seen.failure) return { findings: [trail.readFailure(seen.failure)] }
    const findings: FindingInput[] = []
    for (const s of sample) {
      const delay = seen.delay.get(s.sent.requestId)
      // Late only where a lookup begun after the bound still did not find it: the time the check took
      // to send its other requests, or a lookup's own round trip, is not the target's lateness.
      const missed = seen.missed.get(s.sent.requestId)
      const kind = s.expect.outcome === 'failure' ? 'denial' : s.op.verb
      if (delay === undefined) {
        findings.push(trackedFinding(s, `its event had not appeared after ${2 * trail.bound} ms (the profile's bound is ${trail.bound} ms): dropped or stalled`, `${kind}|never`, { severity: 'high' }))
      } else if (missed !== undefined && missed > trail.bound) {
        findings.push(trackedFinding(s, `its event was still missing ${missed} ms after the answer and appeared only after ${delay} ms, beyond the profile's bound of ${trail.bound} ms`, `${kind}|late`))
      }
    }
    return { findings: collapse(findings) }
  },
})
