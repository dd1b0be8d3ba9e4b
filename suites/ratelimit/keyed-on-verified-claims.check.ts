import { defineCheck } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { call, findingAt, flood, forgedSignature, quotaTenants, remaining, restore, spendsProvisionedQuota, ownQuotaEarly } from './quota.js'

/** Forged copies of a token: its own header and claims with a random signature, and `alg: none`. */
function forgeries(token: string): string[] {
  const [header, payload] = token.split('.')
  if (!header || !payload) return []
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')
  return [`${header}.${payload}.${forgedSignature()}`, `${none}.${payload}.`]
}

/**
 * The quota is spent only by requests whose token verified: a flood of forged tokens that name B's
 * account (B's own claims, a bad signature or none) is refused and must not drain B. B then calls
 * with its real token: admitted, its remaining quota down by that one call only.
 */
export const keyedOnVerifiedClaims = defineCheck<CheckContext>({
  id: 'ratelimit/keyed-on-verified-claims',
  suite: 'ratelimit',
  // Alone when it spends provisioned accounts' quota; when its accounts are its own, begun with the first suite, beside everything.
  exclusive: spendsProvisionedQuota,
  early: ownQuotaEarly,
  title: "Forged tokens naming an account spend that account's quota",
  severity: 'high', cwe: 345, owasp: 'API4:2023',
  docs: 'tenancy-audit-ratelimit.md §3.2 (key from the verified claim), §3.1 draft-11 §8.2 (refused requests counted against a quota let one client probe or drain another); fault ratelimit-unverified-claim',
  async run(ctx) {
    const setup = await quotaTenants(ctx, 1, 1)
    if (typeof setup === 'string') return { findings: [], skipped: setup }
    const victim = setup.tenants[0]!
    const user = victim.users[0]!
    let limited
    try {
      const before = await call(ctx, victim, user, { burst: true })
      if (before.status < 200 || before.status > 299) return { findings: [], skipped: `${victim.label}'s first call answered ${before.status}` }
      const forged = forgeries(user.token ?? '')
      if (forged.length === 0) return { findings: [], skipped: 'the access tokens are not JWTs: no claims to forge' }
      const findings: FindingInput[] = []
      // Sent together, so they reach the limiter within the quota's window whatever the target's latency.
      const f = await flood((i) => call(ctx, victim, user, { token: forged[i % forged.length], burst: true }), setup.quota.requests * 2)
      // A forged token accepted is the forgery suite's finding; here it only spoils the count.
      if (f.last) return { findings: [], skipped: `a forged token was accepted (${f.last.status}): see the forgery suite` }
      const after = await call(ctx, victim, user, { burst: true })
      // "Not throttled" shows something only when the real token was served (a 401 is no answer about quotas).
      if (after.status !== 429 && !ctx.expectServed(after, `${victim.label}'s real-token call after the flood`)) return { findings }
      if (after.status === 429) {
        limited = after
        findings.push(findingAt(ctx, victim, user, after, 'forged-drains', 'high',
          `after ${f.sent} refused requests with forged tokens naming ${victim.label}, its real token was throttled (429): unverified claims spend the quota`, victim.label))
      } else {
        const [r0, r1] = [remaining(before), remaining(after)]
        if (r0 !== undefined && r1 !== undefined && r1 < r0 - 1) {
          findings.push(findingAt(ctx, victim, user, after, 'forged-counted', 'high',
            `${victim.label}'s remaining quota fell from ${r0} to ${r1} over one real call and ${f.sent} forged ones: forged tokens are counted against it`, victim.label))
        }
      }
      return { findings }
    } finally {
      await restore(setup, limited)
    }
  },
})
