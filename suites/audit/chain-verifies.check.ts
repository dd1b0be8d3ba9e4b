import { defineCheck, type CheckOutcome } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { verifyChain, type ChainProblem } from '../../harness/audit/chain.js'
import { trailLabel } from '../../harness/audit/labels.js'
import { AuditTrail, type Reader } from '../../harness/audit/trail.js'
import { collapse } from '../../harness/audit/scenarios.js'

/**
 * The hash chain verifies end to end from what the read API exports (research §2.3, §2.5.6): per
 * trail, seq from 1 without gaps, prevHash(n) = hash(n-1), hash(n) = the profile's recipe over the
 * event (the reference's: SHA-256 of the RFC 8785 canonical JSON of the event without its hash). Both the Portal export (every trail) and each
 * account's own export are verified; the first broken row of each trail is reported.
 */
export const chainVerifies = defineCheck<CheckContext>({
  id: 'audit/chain-verifies',
  suite: 'audit',
  // Alone: it reads whole trails page by page, which must not grow under it.
  exclusive: true,
  title: 'Audit trail hash chain does not verify',
  severity: 'high', cwe: 353, owasp: 'API8:2023',
  docs: 'tenancy-audit-ratelimit.md §2.3 (per-tenant hash chain, RFC 8785), §2.5.6 (integrity: prev_hash links, no gaps); OWASP Logging Cheat Sheet (tamper detection)',
  async run(ctx): Promise<CheckOutcome> {
    const trail = await AuditTrail.open(ctx)
    if (!(trail instanceof AuditTrail)) return trail
    const spec = trail.mapping.chain
    if (!spec) return { findings: [], skipped: trail.chainSkipped! }
    const findings: FindingInput[] = []
    const exports: { via: string; reader?: Reader | undefined; run: () => ReturnType<AuditTrail['export']> }[] = [
      { via: 'the full export', run: () => trail.export() },
    ]
    for (const account of ctx.topology.accounts) {
      const actor = trail.accountReader(account.id)
      const op = trail.ops.account
      if (actor && op) {
        const reader: Reader = { actor, op, target: { accountId: account.id } }
        exports.push({ via: `${account.label}'s own export (${actor.label})`, reader, run: () => trail.exportVia(reader) })
      }
    }
    for (const x of exports) {
      const r = await x.run()
      if (r.failure) {
        findings.push(trail.readFailure(r.failure))
        continue
      }
      if (r.events.length === 0) {
        findings.push({ message: `${x.via} is empty, though provisioning alone made dozens of recorded changes`, dedupKey: `empty|${x.reader ? 'account' : 'all'}`, severity: 'medium' })
        continue
      }
      const report = verifyChain(r.events, { complete: !r.truncated, spec })
      const first = new Map<string, ChainProblem>()
      for (const p of report.problems) {
        const key = `${trailLabel(ctx.topology, p.trail)}|${p.kind}`
        if (!first.has(key)) first.set(key, p)
      }
      for (const [key, p] of first) {
        const count = report.problems.filter((q) => `${trailLabel(ctx.topology, q.trail)}|${q.kind}` === key).length
        findings.push({
          message: `${x.via}, trail ${trailLabel(ctx.topology, p.trail)}: ${p.message}${p.eventId ? ` (event ${p.eventId})` : ''}` +
            (count > 1 ? `; ${count - 1} more row(s) of this trail break the same way` : ''),
          dedupKey: `${x.reader ? 'account-export' : 'full-export'}|${key}`,
          actor: x.reader?.actor.label,
          victim: trailLabel(ctx.topology, p.trail),
        })
      }
    }
    return { findings: collapse(findings) }
  },
})
