import { defineCheck } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { call, findingAt, flood, quotaTenants, remaining, restore, retryAfter, sleep, spendsProvisionedQuota, ownQuotaEarly } from './quota.js'

/** Probes tried where B's window turned over in the middle of one. */
const ROUNDS = 3

/**
 * Exhausting one account's quota leaves another's alone: with the same small quota on A and B, B
 * calls once, A floods until 429, and B's next call is admitted with its remaining quota down by
 * exactly its own one call (never A's). A probe in which B's window visibly turned over (its remaining
 * went up) proves nothing and is tried again.
 */
export const tenantIsolation = defineCheck<CheckContext>({
  id: 'ratelimit/tenant-isolation',
  suite: 'ratelimit',
  // Alone when it spends provisioned accounts' quota; when its accounts are its own, begun with the first suite, beside everything.
  exclusive: spendsProvisionedQuota,
  early: ownQuotaEarly,
  title: "One account's traffic spends another account's quota",
  severity: 'high', cwe: 770, owasp: 'API4:2023',
  docs: 'tenancy-audit-ratelimit.md §3.6 (3) per-tenant isolation, (4) noisy neighbour; fault ratelimit-global-bucket',
  async run(ctx) {
    const setup = await quotaTenants(ctx, 2, 1)
    if (typeof setup === 'string') return { findings: [], skipped: setup }
    const [a, b] = setup.tenants as [typeof setup.tenants[0], typeof setup.tenants[0]]
    const ua = a.users[0]!
    const ub = b.users[0]!
    let limited
    try {
      // A probe says nothing when B's own window was renewed between its two calls (r went up): on a
      // loaded machine a fixed 1-s window can turn over between A's 429 and B's next call, and then even
      // a shared bucket admits B. Such a round is tried again once A's window has passed (ROUNDS at most).
      for (let round = 1; ; round++) {
        const before = await call(ctx, b, ub, { burst: true })
        if (before.status < 200 || before.status > 299) return { findings: [], skipped: `${b.label}'s first call answered ${before.status}` }
        const f = await flood(() => call(ctx, a, ua, { burst: true }), setup.quota.requests * 4)
        limited = f.limited
        if (!f.limited) return { findings: [], skipped: `${a.label} was never limited (ratelimit/quota-enforced reports that)` }
        const after = await call(ctx, b, ub, { burst: true })
        const findings: FindingInput[] = []
        // "Not throttled" shows something only when the real token was served (a 401 is no answer about quotas).
        if (after.status !== 429 && !ctx.expectServed(after, `${b.label}'s real-token call after the flood`)) return { findings }
        if (after.status === 429) {
          findings.push(findingAt(ctx, b, ub, after, 'neighbour-throttled', 'high',
            `${a.label} spent its quota and ${b.label}'s next call was throttled (429): the accounts share a bucket`, a.label))
          return { findings }
        }
        const [r0, r1] = [remaining(before), remaining(after)]
        // One call of B's own in between; a new window can only raise r.
        if (r0 !== undefined && r1 !== undefined && r1 < r0 - 1) {
          findings.push(findingAt(ctx, b, ub, after, 'neighbour-spent', 'high',
            `${b.label}'s remaining quota fell from ${r0} to ${r1} over one call of its own while ${a.label} flooded: the accounts share a bucket`, a.label))
        }
        if (findings.length > 0 || r0 === undefined || r1 === undefined || r1 < r0) return { findings }
        if (round >= ROUNDS) return { findings, notes: [`${b.label}'s window was renewed during each of ${ROUNDS} probes (remaining ${r0} before, ${r1} after): no evidence either way`] }
        await sleep(1000 * (retryAfter(f.limited) ?? setup.quota.windowSeconds))
      }
    } finally {
      await restore(setup, limited)
    }
  },
})
