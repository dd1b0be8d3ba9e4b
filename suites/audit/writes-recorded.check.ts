import { defineCheck, type CheckOutcome } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { allowedWrites, trackedFinding, collapse } from '../../harness/audit/scenarios.js'
import { AuditTrail } from '../../harness/audit/trail.js'

/**
 * Every allowed write — each create, update (PATCH/PUT) and delete the contract has, per resource —
 * leaves exactly one event with outcome success and the operation's action (research §2.5.1:
 * exactly one event per mutating call; ISO 27002 8.15 events).
 */
export const writesRecorded = defineCheck<CheckContext>({
  id: 'audit/writes-recorded',
  suite: 'audit',
  title: 'Allowed write missing from the audit trail',
  severity: 'high', cwe: 778, owasp: 'API8:2023',
  docs: 'tenancy-audit-ratelimit.md §2.5.1 (coverage: exactly one event per mutating call), §2.4 (ISO 27002 8.15, NIST AU-3)',
  async run(ctx): Promise<CheckOutcome> {
    const trail = await AuditTrail.open(ctx)
    if (!(trail instanceof AuditTrail)) return trail
    const writes = await allowedWrites(ctx, trail)
    if (writes.length === 0) return { findings: [], skipped: 'no write operation of the contract could be called successfully' }
    const seen = await trail.await(writes.map((w) => w.sent))
    if (seen.failure) return { findings: [trail.readFailure(seen.failure)] }
    const findings: FindingInput[] = []
    for (const w of writes) {
      const events = seen.events.get(w.sent.requestId) ?? []
      const success = events.filter((e) => e.outcome === 'success')
      if (events.length === 0) findings.push(trackedFinding(w, `no audit event within ${trail.bound} ms: the write is not recorded`, `${w.op.id}|missing`))
      else if (success.length === 0) findings.push(trackedFinding(w, `its event says outcome ${JSON.stringify(events[0]!.outcome)}, not success`, `${w.op.id}|outcome`))
      else if (events.length > 1) findings.push(trackedFinding(w, `${events.length} audit events for one write (exactly one expected)`, `${w.op.id}|duplicate`, { severity: 'medium' }))
      else if (success[0]!.action !== w.op.tenancy.action) findings.push(trackedFinding(w, `its event names action ${JSON.stringify(success[0]!.action)}, not ${w.op.tenancy.action}`, `${w.op.id}|action`, { severity: 'medium' }))
    }
    return { findings: collapse(findings) }
  },
})
