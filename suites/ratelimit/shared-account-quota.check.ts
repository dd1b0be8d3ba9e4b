import { defineCheck } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { admissible, call, findingAt, flood, quotaTenants, restore, spendsProvisionedQuota, ownQuotaEarly } from './quota.js'

/** Users of one account taking turns. */
const USERS = 3

/**
 * The quota belongs to the account, not to each user: three users of one account taking turns are
 * limited after the account's quota in all, not three times it.
 */
export const sharedAccountQuota = defineCheck<CheckContext>({
  id: 'ratelimit/shared-account-quota',
  suite: 'ratelimit',
  // Alone when it spends provisioned accounts' quota; when its accounts are its own, begun with the first suite, beside everything.
  exclusive: spendsProvisionedQuota,
  early: ownQuotaEarly,
  title: "Each user of an account gets the account's whole quota",
  severity: 'medium', cwe: 770, owasp: 'API4:2023',
  docs: 'tenancy-audit-ratelimit.md §3.6 (3) "two users of the same tenant share the tenant-level quota"; DESIGN "Rate limits are per account"; fault ratelimit-keyed-per-user',
  async run(ctx) {
    const setup = await quotaTenants(ctx, 1, USERS)
    if (typeof setup === 'string') return { findings: [], skipped: setup }
    const tenant = setup.tenants[0]!
    const f = await flood((i) => call(ctx, tenant, tenant.users[i % USERS]!, { burst: true }), setup.quota.requests * (USERS + 1))
    try {
      if (f.admitted === 0 && !f.limited) return { findings: [], skipped: `the read answered ${f.other[0]?.status}, not 2xx` }
      if (!f.limited) return { findings: [], skipped: 'the account was never limited (ratelimit/quota-enforced reports that)' }
      if (f.admitted > admissible(setup.quota, f.elapsedMs)) {
        return { findings: [findingAt(ctx, tenant, tenant.users[0], f.limited, 'per-user', 'medium',
          `${USERS} users of ${tenant.label} sending together had ${f.admitted} requests admitted, against an account quota of ${setup.quota.requests} per ${setup.quota.windowSeconds} s: the quota is kept per user`, tenant.label)] }
      }
      return { findings: [] }
    } finally {
      await restore(setup, f.limited)
    }
  },
})
