import { defineCheck, type CheckOutcome } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { expectationProblems } from '../../harness/audit/event.js'
import { foreignDenials, trackedFinding, collapse } from '../../harness/audit/scenarios.js'
import { AuditTrail } from '../../harness/audit/trail.js'

/**
 * Every denied cross-tenant attempt leaves exactly one event, found by the request id the harness
 * sent, in the caller's trail, naming the verified actor, both tenants (the caller's and the one the
 * path named), the resource and the outcome (research §2.5.1 coverage, §2.5.3 tenant attribution).
 */
export const denialsRecorded = defineCheck<CheckContext>({
  id: 'audit/denials-recorded',
  suite: 'audit',
  title: 'Denied cross-tenant attempt missing from the audit trail',
  severity: 'high', cwe: 778, owasp: 'API8:2023',
  requires: ['two-accounts'],
  docs: 'tenancy-audit-ratelimit.md §2.5.1 (coverage, look-up by correlation_uid), §2.5.3 (tenant attribution), §2.4 (SOC 2 CC7.2, NIST AU-3)',
  async run(ctx): Promise<CheckOutcome> {
    const trail = await AuditTrail.open(ctx)
    if (!(trail instanceof AuditTrail)) return trail
    const attempts = await foreignDenials(ctx, trail)
    if (attempts.length === 0) return { findings: [], skipped: 'no cross-tenant attempt was refused (nothing to look for in the trail)' }
    const seen = await trail.await(attempts.map((a) => a.sent))
    if (seen.failure) return { findings: [trail.readFailure(seen.failure)] }
    const findings: FindingInput[] = []
    for (const a of attempts) {
      const events = seen.events.get(a.sent.requestId) ?? []
      if (events.length === 0) {
        findings.push(trackedFinding(a, `no audit event within ${trail.bound} ms: the denial is not recorded`, `${a.op.id}|missing`))
        continue
      }
      if (events.length > 1) findings.push(trackedFinding(a, `${events.length} audit events for one denial (exactly one expected)`, `${a.op.id}|duplicate`, { severity: 'low' }))
      const { window: _w, userAgent: _u, ...x } = a.expect
      const problems = expectationProblems(events[0]!, x, trail.mapping)
      if (problems.length > 0) findings.push(trackedFinding(a, `the event does not say what happened: ${problems.join('; ')}`, `${a.op.id}|wrong|${problems.map((p) => p.split(' ')[0]).join(',')}`))
    }
    return { findings: collapse(findings) }
  },
})
