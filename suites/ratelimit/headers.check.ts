import { defineCheck } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import type { HttpResponse } from '../../harness/adapters/http.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { call, findingAt, flood, quotaTenants, rateField, restore, retryAfter, type QuotaTenant, type RateItem, spendsProvisionedQuota, ownQuotaEarly } from './quota.js'

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v)

/** Spellings of a uuid an encoder might put in a partition key. */
function spellings(id: string): string[] {
  const hex = id.replaceAll('-', '').toLowerCase()
  return [id.toLowerCase(), hex]
}

/** What is wrong with one response's draft-11 fields (empty: nothing). */
function problems(res: HttpResponse, secrets: string[]): string[] {
  const out: string[] = []
  const policy = rateField(res, 'ratelimit-policy')
  const state = rateField(res, 'ratelimit')
  if (policy instanceof Error) out.push(`RateLimit-Policy is not a Structured-Fields list (${policy.message})`)
  if (state instanceof Error) out.push(`RateLimit is not a Structured-Fields list (${state.message})`)
  if (policy instanceof Error || state instanceof Error) return out
  if (!policy || !state) return [`${!policy ? 'RateLimit-Policy' : 'RateLimit'} is missing`]
  const policies = new Map<string, RateItem>(policy.map((p) => [p.name, p]))
  const check = (item: RateItem, field: string) => {
    for (const [k, v] of item.params) {
      if (['q', 'w', 'r', 't'].includes(k) && (!isInt(v) || v < 0)) out.push(`${field} "${item.name}": ${k}=${String(v)} is not a non-negative integer`)
    }
    const pk = item.params.get('pk')
    if (pk !== undefined) {
      if (!(pk instanceof ArrayBuffer)) out.push(`${field} "${item.name}": pk is not a byte sequence`)
      else {
        const bytes = Buffer.from(pk)
        const texts = [bytes.toString('utf8').toLowerCase(), bytes.toString('hex')]
        const leaked = secrets.filter((s) => spellings(s).some((sp) => texts.some((t) => t.includes(sp))))
        if (leaked.length) out.push(`${field} "${item.name}": pk carries a raw tenant or user identifier`)
      }
    }
  }
  for (const p of policy) {
    check(p, 'RateLimit-Policy')
    if (!isInt(p.params.get('q'))) out.push(`RateLimit-Policy "${p.name}" has no q`)
    const w = p.params.get('w')
    if (w !== undefined && (!isInt(w) || w <= 0)) out.push(`RateLimit-Policy "${p.name}": w=${String(w)} is not > 0`)
  }
  for (const s of state) {
    check(s, 'RateLimit')
    const p = policies.get(s.name)
    if (!p) { out.push(`RateLimit "${s.name}" names no policy of RateLimit-Policy`); continue }
    const [r, q] = [s.params.get('r'), p.params.get('q')]
    if (!isInt(r)) out.push(`RateLimit "${s.name}" has no r`)
    else if (isInt(q) && r > q) out.push(`RateLimit "${s.name}": r=${r} exceeds the policy's q=${q}`)
  }
  const raw = `${res.headers['ratelimit-policy']} ${res.headers['ratelimit']}`.toLowerCase()
  if (secrets.some((s) => raw.includes(s.toLowerCase()))) out.push('the RateLimit fields carry a raw tenant or user identifier')
  return [...new Set(out)]
}

/** What is wrong with the 429 itself: Retry-After against `t`, and the RFC 9457 body. */
function problemsOf429(res: HttpResponse): string[] {
  const out: string[] = []
  const wait = retryAfter(res)
  const state = rateField(res, 'ratelimit')
  const ts = Array.isArray(state) ? state.map((s) => s.params.get('t')).filter(isInt) : []
  if (wait === undefined) out.push('no valid Retry-After')
  else if (ts.length && wait < Math.min(...ts)) out.push(`Retry-After ${wait} is earlier than the end of the window (t=${Math.min(...ts)})`)
  const type = (res.json as { type?: unknown } | undefined)?.type
  if (!/problem\+json/.test(res.headers['content-type'] ?? '') || typeof type !== 'string' || !/quota-exceeded$/.test(type)) {
    out.push('the body is not an RFC 9457 problem of type quota-exceeded')
  }
  return out
}

/**
 * The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-11) are well formed on an admitted
 * call and on the 429: Structured-Field lists (parsed with structured-headers), integers, w > 0,
 * r ≤ q for the named policy, a partition key that is not the raw tenant id; the 429 has
 * Retry-After no earlier than the window's end and a quota-exceeded problem body.
 */
export const headers = defineCheck<CheckContext>({
  id: 'ratelimit/headers',
  suite: 'ratelimit',
  // Alone when it spends provisioned accounts' quota; when its accounts are its own, begun with the first suite, beside everything.
  exclusive: spendsProvisionedQuota,
  early: ownQuotaEarly,
  title: 'RateLimit fields are missing, malformed or disclose the tenant',
  severity: 'low', cwe: 200, owasp: 'API4:2023',
  docs: 'tenancy-audit-ratelimit.md §0 (4), §3.1 draft-11 syntax and semantics, §3.6 (1) header conformance and (2) problem type; RFC 9457; RFC 9651',
  async run(ctx) {
    const setup = await quotaTenants(ctx, 1, 1)
    if (typeof setup === 'string') return { findings: [], skipped: setup }
    const tenant: QuotaTenant = setup.tenants[0]!
    const user = tenant.users[0]!
    const secrets = [tenant.accountId, user.workspaceId, user.id, user.username].filter((s): s is string => typeof s === 'string' && s.length > 0)
    const f = await flood(() => call(ctx, tenant, user, { burst: true }), setup.quota.requests * 4)
    try {
      if (f.admitted === 0 && !f.limited) return { findings: [], skipped: `the read answered ${f.other[0]?.status}, not 2xx` }
      const findings: FindingInput[] = []
      const report = (res: HttpResponse, when: string, list: string[]) => {
        if (list.length === 0) return
        const disclosing = list.some((p) => /identifier/.test(p))
        findings.push(findingAt(ctx, tenant, user, res, `${when}|${disclosing ? 'disclosing' : 'malformed'}`, disclosing ? 'medium' : 'low',
          `${when}: ${list.join('; ')}`))
      }
      if (f.last) report(f.last, 'on an admitted call', problems(f.last, secrets))
      if (f.limited) {
        report(f.limited, 'on the 429', [...problems(f.limited, secrets), ...problemsOf429(f.limited)])
      }
      return { findings }
    } finally {
      await restore(setup, f.limited)
    }
  },
})
