import { randomBytes } from 'node:crypto'
import { defineCheck } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { ANONYMOUS, type Actor } from '../../harness/core/topology.js'
import type { HttpResponse } from '../../harness/adapters/http.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { objectParam } from '../../harness/engine/targets.js'
import { admissible, call, findingAt, flood, quotaTenants, retryAfter, sleep, type QuotaTenant, spendsProvisionedQuota, ownQuotaEarly } from './quota.js'

/**
 * What refused requests cost (issue 13 defects 4 and 5; the "cost to others" family):
 * 1. Refused, but with a verified identity — an id that names nothing, a method the path does not
 *    take, where the same request without a token is a 401 — a request reached the service as its
 *    account, and spends the account's quota: after a quota's worth of them, the account's genuine
 *    reads may have only what is left.
 * 2. A revoked token is no identity: a quota's worth of requests with one must not spend the
 *    account's quota — its other members keep being served.
 * On an account of its own with a small quota (Portal), so nobody else is throttled.
 */
export const refusalsCharged = defineCheck<CheckContext>({
  id: 'ratelimit/refusals-charged',
  suite: 'ratelimit',
  title: "Refused requests escape the account's quota, or a revoked token spends it",
  severity: 'medium', cwe: 770, owasp: 'API4:2023',
  // Alone when it spends provisioned accounts' quota; when its accounts are its own, begun with the first suite, beside everything.
  exclusive: spendsProvisionedQuota,
  early: ownQuotaEarly,
  docs: 'issue 13 defects 4 (404/405 answered before the limiter) and 5 (a revoked token drains its account quota); tenancy-audit-ratelimit.md §3.6; faults ratelimit-refusals-uncharged, ratelimit-revoked-token-charged',
  async run(ctx) {
    const setup = await quotaTenants(ctx, 1, 2)
    if (typeof setup === 'string') return { findings: [], skipped: setup }
    if (!setup.quota.own) return { findings: [], skipped: 'no quota could be set on an account of the check\'s own (the Portal takes none): spending a provisioned account\'s quota with refusals would throttle the other checks' }
    const tenant = setup.tenants[0]!
    const [spender, member] = tenant.users as [Actor, Actor]
    const q = setup.quota
    const findings: FindingInput[] = []
    const notes: string[] = []

    // 1. Refusals with a verified identity are charged.
    const refusals = await refusedRequests(ctx, tenant, spender, notes)
    if (refusals.length === 0) notes.push('refusals: no request refused after authentication to send (no object id to malform, no method a path does not take, or all refused before authentication)')
    else {
      const start = Date.now()
      // Each batch sent together, so the limiter meets them within the quota's window whatever the target's latency.
      const refused = await Promise.all(Array.from({ length: q.requests }, (_, i) => refusals[i % refusals.length]!()))
      const served = await flood(() => call(ctx, tenant, member, { burst: true }), q.requests * 2)
      const charged = refused.filter((r) => r.status !== 429).length
      const elapsed = Date.now() - start
      // Only more than a correct limiter could admit in that time is a finding: a member never limited by reads slower
      // than the refill (a deployment far away, or answering slowly) shows nothing either way.
      if (charged + served.admitted > admissible(q, elapsed)) {
        findings.push(findingAt(ctx, tenant, member, served.last, 'refusals-uncharged', 'medium',
          `${charged} refused requests (${[...new Set(refused.map((r) => r.status))].join('/')}) sent with ${spender.label}'s valid token spent nothing: ${member.label} of the same account was then served ${served.admitted} reads under a quota of ${q.requests} per ${q.windowSeconds} s; a flood of refused requests is free`))
      } else if (served.limited === undefined) {
        notes.push(`refusals: not judged: ${charged} refusals and ${served.admitted} reads in ${(elapsed / 1000).toFixed(1)} s never outran a quota of ${q.requests} per ${q.windowSeconds} s (the target answered too slowly to spend it)`)
      }
      await waitOut(served.limited ?? refused.find((r) => r.status === 429), q.windowSeconds)
    }

    // 2. A revoked token spends nothing.
    const revoke = ctx.contract.byRole('token-revocation')[0]
    if (!revoke) notes.push('revoked tokens: the contract has no token-revocation operation')
    else {
      const token = spender.token!
      const res = await ctx.as(ANONYMOUS).send({ method: revoke.method.toUpperCase(), path: revoke.path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString() })
      if (res.status >= 300) notes.push(`revoked tokens: revoking the member's own token answered ${res.status}`)
      else {
        ctx.retire(token)
        const rejected = await Promise.all(Array.from({ length: q.requests }, () => ctx.as(spender).send({ ...readOf(tenant, spender), throttle: 'report', renew: false, burst: true })))
        if (rejected.some((r) => r.status >= 200 && r.status < 300)) notes.push('revoked tokens: the revoked token was still served (forgery/lifecycle-replay judges that)')
        else {
          const after = await call(ctx, tenant, member, { burst: true })
          if (after.status === 429) {
            findings.push(findingAt(ctx, tenant, member, after, 'revoked-token-charged', 'medium',
              `${q.requests} requests with ${spender.label}'s revoked token (answered ${[...new Set(rejected.map((r) => r.status))].join('/')}) spent the account's quota: ${member.label} was then refused with 429; anyone holding a revoked token can throttle its former account`))
            await waitOut(after, q.windowSeconds)
          }
        }
      }
    }
    return { findings, notes }
  },
})

function readOf(tenant: QuotaTenant, user: Actor): { method: string; path: string } {
  const { op, path } = tenant.read(user)
  return { method: op.method.toUpperCase(), path }
}

/**
 * Requests `user` may send that the target refuses after it knows who sent them: a malformed id, an
 * unsupported method. "After it knows": the same request without a token is refused with 401. A
 * refusal the target gives before authentication (404/405 with no token too) identifies nobody, and
 * charging nobody for it is no defect: that kind is left out, with a note.
 */
async function refusedRequests(ctx: CheckContext, tenant: QuotaTenant, user: Actor, notes: string[]): Promise<(() => Promise<HttpResponse>)[]> {
  const kinds: { name: string; method: string; path: string; body?: unknown }[] = []
  const scope = { accountId: user.accountId, workspaceId: user.workspaceId }
  const withId = ctx.contract.annotated.find((op) => op.method === 'get' && op.tenancy.scope === 'workspace' && objectParam(ctx.topology, op) !== undefined)
  if (withId) kinds.push({ name: 'an id that names nothing', method: 'GET', path: ctx.pathFor(withId, scope, { [objectParam(ctx.topology, withId)!]: `ta-no-such-id-${randomBytes(3).toString('hex')}` }) })
  const { op, path } = tenant.read(user)
  const taken = new Set(ctx.contract.annotated.filter((o) => o.path === op.path).map((o) => o.method.toUpperCase()))
  const other = ['PUT', 'PATCH', 'DELETE'].find((m) => !taken.has(m))
  if (other) kinds.push({ name: `${other} on a path that does not take it`, method: other, path, body: {} })
  const out: (() => Promise<HttpResponse>)[] = []
  for (const k of kinds) {
    const anonymous = await ctx.as(ANONYMOUS).send({ method: k.method, path: k.path, body: k.body, throttle: 'report' })
    if (anonymous.status !== 401) {
      notes.push(`${k.name}: answered ${anonymous.status} without a token too (refused before authentication, so charged to nobody)`)
      continue
    }
    out.push(() => ctx.as(user).send({ method: k.method, path: k.path, body: k.body, throttle: 'report', renew: false, burst: true }))
  }
  return out
}

async function waitOut(limited: HttpResponse | undefined, windowSeconds: number): Promise<void> {
  const wait = limited ? retryAfter(limited) ?? windowSeconds : windowSeconds
  await sleep((Math.min(wait, windowSeconds * 2) + 0.5) * 1000)
}

