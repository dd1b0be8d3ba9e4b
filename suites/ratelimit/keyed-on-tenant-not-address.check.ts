import { defineCheck } from '../../harness/core/check.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { admissible, call, findingAt, flood, quotaTenants, restore, spendsProvisionedQuota, ownQuotaEarly } from './quota.js'

/**
 * The quota follows the verified account, not the client address: a flood that gives every request
 * a new X-Forwarded-For (and X-Real-IP, Forwarded) is limited after the same quota.
 */
export const keyedOnTenantNotAddress = defineCheck<CheckContext>({
  id: 'ratelimit/keyed-on-tenant-not-address',
  suite: 'ratelimit',
  // Alone when it spends provisioned accounts' quota; when its accounts are its own, begun with the first suite, beside everything.
  exclusive: spendsProvisionedQuota,
  early: ownQuotaEarly,
  title: 'The account quota is keyed on a spoofable client address',
  severity: 'high', cwe: 348, owasp: 'API4:2023',
  docs: 'tenancy-audit-ratelimit.md §3.2 (tenant keying: from the verified claim, never a client header), §3.6 (3) spoofed headers; fault ratelimit-keyed-by-address',
  async run(ctx) {
    const setup = await quotaTenants(ctx, 1, 1)
    if (typeof setup === 'string') return { findings: [], skipped: setup }
    const tenant = setup.tenants[0]!
    const user = tenant.users[0]!
    const spoof = (i: number) => {
      const ip = `203.0.113.${(i % 250) + 1}`
      return { 'x-forwarded-for': ip, 'x-real-ip': ip, forwarded: `for=${ip}` }
    }
    const f = await flood((i) => call(ctx, tenant, user, { headers: spoof(i), burst: true }), setup.quota.requests * 4)
    try {
      if (f.admitted === 0 && !f.limited) return { findings: [], skipped: `the read answered ${f.other[0]?.status}, not 2xx` }
      // A flood slower than the refill never spends the quota, whatever the key: only more than a correct limiter could
      // admit in that time is a finding (a deployment far away, or answering slowly, admits every request of a slow flood).
      if (f.admitted > admissible(setup.quota, f.elapsedMs)) {
        return { findings: [findingAt(ctx, tenant, user, f.limited ?? f.last, 'address-keyed', 'high',
          `with a new X-Forwarded-For on every request, ${f.admitted} requests of a flood were admitted${f.limited ? '' : ' and none was limited'} against a quota of ${setup.quota.requests} per ${setup.quota.windowSeconds} s: the bucket follows a client-supplied address`)] }
      }
      if (!f.limited) {
        return { findings: [], skipped: `${f.admitted} requests in ${(f.elapsedMs / 1000).toFixed(1)} s never outran a quota of ${setup.quota.requests} per ${setup.quota.windowSeconds} s (the target answered too slowly to spend it)` }
      }
      return { findings: [] }
    } finally {
      await restore(setup, f.limited)
    }
  },
})
