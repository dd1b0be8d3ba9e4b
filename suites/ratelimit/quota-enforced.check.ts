import { defineCheck } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { admissible, call, findingAt, flood, quotaTenants, restore, retryAfter, sleep, spendsProvisionedQuota, ownQuotaEarly } from './quota.js'

/**
 * An account's quota is enforced: one user spending it gets 429 with Retry-After after at most the
 * quota (plus what a window or refill could add while the flood ran), and waiting Retry-After
 * restores service. Counts only; the one wait is the target's own Retry-After (capped).
 */
export const quotaEnforced = defineCheck<CheckContext>({
  id: 'ratelimit/quota-enforced',
  suite: 'ratelimit',
  // Alone when it spends provisioned accounts' quota; when its accounts are its own, begun with the first suite, beside everything.
  exclusive: spendsProvisionedQuota,
  early: ownQuotaEarly,
  title: "An account's rate-limit quota is not enforced",
  severity: 'high', cwe: 770, owasp: 'API4:2023',
  docs: 'tenancy-audit-ratelimit.md §3.6 (2) throttle semantics, §3.1 (Retry-After precedence); RFC 6585 §4; DESIGN "Rate limits"',
  async run(ctx) {
    const setup = await quotaTenants(ctx, 1, 1)
    if (typeof setup === 'string') return { findings: [], skipped: setup }
    const tenant = setup.tenants[0]!
    const user = tenant.users[0]!
    const q = setup.quota
    const f = await flood(() => call(ctx, tenant, user, { burst: true }), q.requests * 4)
    try {
      if (f.admitted === 0 && !f.limited) return { findings: [], skipped: `the read answered ${f.other[0]?.status}, not 2xx` }
      const at = (res: typeof f.last, key: string, severity: FindingInput['severity'], message: string) => findingAt(ctx, tenant, user, res, key, severity, message)
      if (!f.limited) {
        // A flood slower than the refill never spends the quota: only more than a correct limiter could admit in that time is a finding.
        if (f.admitted <= admissible(q, f.elapsedMs)) {
          return { findings: [], skipped: `${f.admitted} requests in ${(f.elapsedMs / 1000).toFixed(1)} s never outran a quota of ${q.requests} per ${q.windowSeconds} s (the target answered too slowly to spend it)` }
        }
        return { findings: [at(f.last, 'no-429', 'high', `${f.admitted} requests in ${(f.elapsedMs / 1000).toFixed(1)} s against a quota of ${q.requests} per ${q.windowSeconds} s were all admitted: no 429`)] }
      }
      const findings: FindingInput[] = []
      if (f.admitted > admissible(q, f.elapsedMs)) {
        findings.push(at(f.limited, 'over-quota', 'high', `${f.admitted} of ${f.sent} requests sent in bursts were admitted, more than a quota of ${q.requests} per ${q.windowSeconds} s allows`))
      }
      const wait = retryAfter(f.limited)
      if (wait === undefined) findings.push(at(f.limited, 'no-retry-after', 'low', 'the 429 carries no valid Retry-After'))
      // Service comes back once Retry-After has passed (capped at two windows of the quota).
      await sleep((Math.min(wait ?? q.windowSeconds, q.windowSeconds * 2) + 0.5) * 1000)
      const after = await call(ctx, tenant, user)
      if (after.status < 200 || after.status > 299) {
        findings.push(at(after, 'not-restored', 'medium', `after waiting Retry-After (${wait ?? 'absent'} s) the same call answered ${after.status}: service is not restored`))
      }
      return { findings }
    } finally {
      await restore(setup, f.limited)
    }
  },
})
