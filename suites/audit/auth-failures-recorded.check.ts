import { randomBytes } from 'node:crypto'
import { defineCheck, type CheckOutcome } from '../../harness/core/check.js'
import type { FindingInput } from '../../harness/core/finding.js'
import { expected } from '../../harness/core/oracle.js'
import { isThrottled, throttleWaitMs } from '../../harness/adapters/rate-headers.js'
import type { Actor } from '../../harness/core/topology.js'
import type { CheckContext } from '../../harness/engine/context.js'
import type { MappedEvent } from '../../harness/audit/mapping.js'
import { AuditTrail, type Sent } from '../../harness/audit/trail.js'
import { collapse } from '../../harness/audit/scenarios.js'

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const parts = (token: string) => {
  const [h = '', p = '', s = ''] = token.split('.')
  const decode = (x: string) => {
    try {
      return JSON.parse(Buffer.from(x, 'base64url').toString('utf8')) as Record<string, unknown>
    } catch {
      return undefined
    }
  }
  return { header: decode(h), payload: decode(p), rawHeader: h, signature: s }
}

interface Failure {
  what: string; sent: Sent; victim: Actor; about?: string
  /** Other requests of the same failure (the 429s that confirmed a lockout): an event of any counts. */
  also?: Sent[] | undefined
}

/**
 * Every authentication failure leaves one event, and never in the name of the subject the failed
 * credential claims (audit-contract: an unverified caller is `{kind: "anonymous"}`, in the platform
 * trail; research §2.5.1 coverage of 3002 logon failures, §2.5.3 attribution): a failed login for a
 * real user, a login the token endpoint throttled (429 after repeated wrong passwords for one unknown
 * username; issue 13 defect 9), a valid token whose payload was rewritten to name a victim (signature
 * kept), an `alg: none` token naming the victim, and a token that is not a JWT at all. Floods may be
 * aggregated (`count` > 1): an aggregate of the same route within the bound counts as recorded (for
 * the 429, an aggregate of 429s where the events carry a status).
 */
export const authFailuresRecorded = defineCheck<CheckContext>({
  id: 'audit/auth-failures-recorded',
  suite: 'audit',
  title: 'Authentication failure missing from the trail or attributed to the claimed user',
  severity: 'high', cwe: 778, owasp: 'API2:2023',
  requires: ['two-accounts'],
  docs: 'tenancy-audit-ratelimit.md §2.5.1 (coverage: login failures, throttled logins, every 401), §2.5.3 (tenant attribution), §2.1 (OCSF 3002 Authentication); audit-contract.md (anonymous actor, platform trail)',
  async run(ctx): Promise<CheckOutcome> {
    const trail = await AuditTrail.open(ctx)
    if (!(trail instanceof AuditTrail)) return trail
    const t = ctx.topology
    const { profile } = ctx
    const [home, away] = t.accounts
    const attacker = t.actors.find((a) => a.kind === 'user' && a.accountId === home?.id && a.token)
    const victim = t.actors.find((a) => a.kind === 'user' && a.accountId === away?.id && a.token && a.username && a.id)
    if (!attacker || !victim) return { findings: [], skipped: 'the topology lacks a user in each of two accounts' }
    const target = { accountId: victim.accountId, workspaceId: victim.workspaceId }
    /** A workspace read (no object id) `a` may make in its own workspace. */
    const readOf = (a: Actor) => ctx.contract.annotated.find((o) => o.tenancy.scope === 'workspace' && o.method === 'get' && o.pathParams.length === 1 && expected(o, a, { accountId: a.accountId, workspaceId: a.workspaceId }) === 'allow')
    const read = readOf(victim)
    const failures: Failure[] = []
    const answered: { what: string; sent: Sent }[] = []

    // 1. A failed login for the victim.
    const form = new URLSearchParams({ grant_type: 'password', username: victim.username!, password: `Ta-wrong-${randomBytes(9).toString('base64url')}` })
    if (profile.auth.workspaceParam && victim.workspaceId) form.set(profile.auth.workspaceParam, victim.workspaceId)
    const login = await trail.send(undefined, { method: 'POST', path: profile.auth.tokenEndpoint, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() })
    answered.push({ what: 'a failed login', sent: login })

    if (read) {
      const path = ctx.pathFor(read, target)
      const mine = parts(attacker.token!)
      const theirs = parts(victim.token!).payload
      const claims = profile.claims
      const forged: { what: string; token: string }[] = []
      if (mine.header && mine.payload && theirs) {
        const renamed = { ...mine.payload, sub: theirs.sub, [claims.accountId]: theirs[claims.accountId], [claims.workspaceId]: theirs[claims.workspaceId], [claims.roles]: theirs[claims.roles] }
        forged.push({ what: "a valid token whose payload was rewritten to name the victim (signature kept)", token: `${mine.rawHeader}.${b64(renamed)}.${mine.signature}` })
        const { kid: _k, ...header } = mine.header
        forged.push({ what: "an alg:none token naming the victim", token: `${b64({ ...header, alg: 'none' })}.${b64(theirs)}.` })
      }
      forged.push({ what: 'a token that is not a JWT', token: `ta-not-a-token-${randomBytes(12).toString('hex')}` })
      for (const f of forged) {
        const sent = await trail.send(undefined, { method: 'GET', path, headers: { authorization: `Bearer ${f.token}` } })
        answered.push({ what: f.what, sent })
      }
    }
    // 2. A throttled login: wrong passwords for a username nobody has (so no real user is locked out) until the
    // token endpoint answers 429. A refusal before any password is checked is still a failed logon attempt.
    const notes: string[] = []
    // The control: a read the attacker may make, sent as the lockout is confirmed (a 429 to it too means the target throttles more than logins).
    const own = readOf(attacker)
    const control = own && (() => trail.send(attacker, { method: 'GET', path: ctx.pathFor(own, { accountId: attacker.accountId, workspaceId: attacker.workspaceId }), throttle: 'report' }))
    const throttled = await throttledLogin(ctx, trail, control)
    if ('sent' in throttled) failures.push({ what: 'a throttled login (429)', sent: throttled.sent, also: throttled.confirmed, victim, about: 'an unknown username' })
    else notes.push(`${throttled.unchecked}: the throttled-login event was not checked`)

    const findings: FindingInput[] = []
    for (const a of answered) {
      if (a.sent.response.status >= 200 && a.sent.response.status < 300) {
        findings.push({ message: `${a.what} for ${victim.label} was ACCEPTED (${a.sent.response.status}) at ${a.sent.method} ${a.sent.path}: not an authentication failure at all`, dedupKey: `${a.what}|accepted`, severity: 'critical', evidence: a.sent.response.evidence, victim: victim.label })
      } else failures.push({ ...a, victim })
    }
    const seen = await trail.await(failures.flatMap((f) => [f.sent, ...(f.also ?? [])]))
    if (seen.failure) return { findings: [trail.readFailure(seen.failure)] }
    // Aggregated floods (the contract keys them by source and reason): one failure event with count > 1 for the window.
    let aggregates: MappedEvent[] | undefined
    const aggregated = async (f: Failure) => {
      if (!aggregates) {
        const since = new Date(Math.min(...failures.map((x) => x.sent.from)) - 2_000).toISOString()
        const r = await trail.export({ outcome: 'failure', since })
        aggregates = r.events.filter((e) => typeof e.count === 'number' && e.count > 1)
      }
      const list = aggregates
      // The aggregate carries the window's last request (its id, route and time), so any flood event at or after this request counts.
      // A 429 is covered only by an aggregate of 429s where the deployment's events carry a status (not by the login failures before it).
      const status = f.sent.response.status
      return list.some((e) => e.outcome === 'failure' && e.time !== undefined && e.time >= f.sent.from - 2_000 && (e.accountId === null || e.accountId !== victim.accountId)
        && (status !== 429 || e.status === undefined || e.status === 429))
    }
    for (const f of failures) {
      const perRequest = [f.sent, ...(f.also ?? [])].map((x) => seen.events.get(x.requestId) ?? [])
      const events = perRequest.flat()
      const at = `${f.what} for ${f.about ?? victim.label} (${f.sent.method} ${f.sent.path.replace(/\/[0-9a-f-]{36}/g, '/…')}, request ${f.sent.requestId}, answered ${f.sent.response.status})`
      if (events.length === 0) {
        if (!(await aggregated(f))) findings.push({ message: `${at}: no audit event within ${trail.bound} ms`, dedupKey: `${f.what}|missing`, evidence: f.sent.response.evidence, victim: victim.label })
        continue
      }
      const blamed = events.filter((e) => e.actor.id === victim.id || (e.accountId === victim.accountId && e.actor.kind !== 'anonymous'))
      if (blamed.length > 0) {
        findings.push({
          message: `${at}: the event attributes the failure to the unverified subject (actor ${JSON.stringify(blamed[0]!.actor.kind)} ${blamed[0]!.actor.id === victim.id ? `uid = ${victim.label}` : ''}, trail ${blamed[0]!.accountId === victim.accountId ? `of ${victim.label}'s account` : String(blamed[0]!.accountId)}): anyone can write into another tenant's trail in its name`,
          dedupKey: `${f.what}|attributed`, severity: 'critical', evidence: f.sent.response.evidence, victim: victim.label,
        })
      }
      if (events.some((e) => e.outcome === 'success')) findings.push({ message: `${at}: its event says outcome success`, dedupKey: `${f.what}|outcome`, evidence: f.sent.response.evidence })
      const most = Math.max(...perRequest.map((l) => l.length))
      if (most > 1) findings.push({ message: `${at}: ${most} events for one failure (one expected)`, dedupKey: `${f.what}|duplicate`, severity: 'low' })
    }
    return { findings: collapse(findings), notes }
  },
})

/** Failed logins sent after a first 429 to call it the token endpoint's lockout. */
const CONFIRMATIONS = 3
/** Times a lockout is confirmed again after the target throttled the control request too. */
const ROUNDS = 3

/**
 * Fails logins for a fresh unknown username until a 429 (after at most `rateLimit.loginAttempts` failed
 * logins the target answered), then tells the token endpoint's own throttle from a throttle in front of
 * the whole target (a gateway, a proxy: the deployment never saw those requests, so it owes no event).
 * A login throttle is a lockout: `CONFIRMATIONS` more failed logins are all answered 429, where a passing
 * 429 (one request in N, whatever the route) is not repeated. And it throttles logins, not everything: a
 * read the attacker may make (`control`), sent in the middle of those, is not throttled; a throttle in
 * bursts long enough to cover the logins covers it too. When it is throttled the round proves nothing and
 * is tried again after its Retry-After (at most `ROUNDS` times). Every 429 of the confirmed run is
 * returned: an event for any of them counts.
 */
async function throttledLogin(ctx: CheckContext, trail: AuditTrail, control: (() => Promise<Sent>) | undefined): Promise<{ sent: Sent; confirmed: Sent[] } | { unchecked: string }> {
  const { profile } = ctx
  const username = `ta-${ctx.topology.tag}-throttled-${randomBytes(4).toString('hex')}@tenant-audit.test`
  const attempt = () => {
    const form = new URLSearchParams({ grant_type: 'password', username, password: `Ta-wrong-${randomBytes(9).toString('base64url')}` })
    // The 429 is what this probe looks for: handed back, not waited out.
    return trail.send(undefined, { method: 'POST', path: profile.auth.tokenEndpoint, throttle: 'report', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() })
  }
  const { loginAttempts } = profile.rateLimit
  let failed = 0
  let rounds = 0
  // Bounded whatever the target answers: passing 429s do not count as failures the target saw.
  for (let budget = 3 * loginAttempts + ROUNDS * (CONFIRMATIONS + 1); failed < loginAttempts && budget > 0; budget--) {
    const sent = await attempt()
    const status = sent.response.status
    if (status < 400 || status >= 500) return { unchecked: `a failed login was answered ${status}` }
    if (status !== 429) {
      failed++
      continue
    }
    const run: Sent[] = []
    let throttledControl: Sent | undefined
    for (let i = 0; i < CONFIRMATIONS; i++) {
      if (i === 1 && control) {
        const c = await control()
        if (isThrottled(c.response.status, c.response.headers)) throttledControl = c
      }
      const next = await attempt()
      budget--
      if (next.response.status !== 429) {
        if (next.response.status < 500) failed++
        break
      }
      run.push(next)
    }
    if (run.length < CONFIRMATIONS) continue
    if (!throttledControl) return { sent, confirmed: run }
    if (++rounds >= ROUNDS) return { unchecked: `a read sent between the token endpoint's 429s was throttled too in ${ROUNDS} rounds, so the login throttle could not be told from one in front of the whole target` }
    await new Promise((r) => setTimeout(r, throttleWaitMs(throttledControl.response.headers, rounds)))
  }
  return { unchecked: `no 429 from the token endpoint within ${loginAttempts} failed logins for one username` }
}
