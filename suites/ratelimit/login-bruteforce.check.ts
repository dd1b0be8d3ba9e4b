import { randomBytes } from 'node:crypto'
import { defineCheck } from '../../harness/core/check.js'
import { ANONYMOUS } from '../../harness/core/topology.js'
import type { HttpResponse } from '../../harness/adapters/http.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { findingAt, retryAfter, sleep } from './quota.js'

/** The longest the check waits for a lockout to end, so the checks after it can log in again. */
const MAX_WAIT_SECONDS = 60

/**
 * Guesses released together (a burst: outside the concurrency bound). One after another, each guess
 * costs the target's password KDF (tens of ms) and a round trip; on a loaded machine 60 of them spread
 * over several windows of a short per-address limit (the embedded server's: 20 failures in 2 s)
 * without filling any, and a correct limiter was reported as missing (seen in CI). Waves of 10 through
 * the concurrency bound still did that on a deployment 1.2 s away: each wave a round trip apart, 10
 * failures in each 2-s window. A guessing tool does not wait for each answer either.
 */
const WAVE = 30

/**
 * Failed logins are throttled per client address: wrong passwords for ever new (unknown) usernames,
 * each with a new X-Forwarded-For, from this one address must meet a 429 within
 * `rateLimit.loginAttempts`, sent WAVE at a time. Rotating usernames keeps a per-username limit from
 * answering for the per-address one; the check then waits out Retry-After so later checks can log in.
 */
export const loginBruteforce = defineCheck<CheckContext>({
  id: 'ratelimit/login-bruteforce',
  suite: 'ratelimit',
  // Alone: it locks the harness's address out of logins until Retry-After, and counts the failed logins of one window.
  exclusive: true,
  title: 'Password guessing at the token endpoint is not throttled',
  severity: 'high', cwe: 307, owasp: 'API2:2023',
  docs: 'DESIGN "Rate limits" (failed logins limited per client address and per username); tenancy-audit-ratelimit.md §3.4 (Cognito/API Gateway throttling); OWASP API2:2023; fault ratelimit-token-endpoint-unlimited',
  async run(ctx) {
    const max = ctx.profile.rateLimit.loginAttempts
    const path = ctx.profile.auth.tokenEndpoint
    let last: HttpResponse | undefined
    let limited: HttpResponse | undefined
    let failures = 0
    const guess = (i: number): Promise<HttpResponse> => {
      const ip = `198.51.100.${(i % 250) + 1}`
      const form = new URLSearchParams({ grant_type: 'password', username: `ta-${ctx.topology.tag}-guess${i}-${randomBytes(3).toString('hex')}@tenant-audit.test`, password: randomBytes(12).toString('base64url') })
      // The 429 is what this probe looks for: the adapter must hand it back, not wait it out.
      return ctx.as(ANONYMOUS).send({ method: 'POST', path, body: form.toString(), throttle: 'report', burst: true,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip, 'x-real-ip': ip } })
    }
    for (let start = 0; start < max && !limited; start += WAVE) {
      // Judged in the order sent, whatever order the answers came in.
      for (const res of await Promise.all(Array.from({ length: Math.min(WAVE, max - start) }, (_, k) => guess(start + k)))) {
        if (res.status === 429) limited ??= res
        else if (res.status === 400 || res.status === 401) { failures++; last = res }
        else if (res.status >= 200 && res.status < 300) return { findings: [], skipped: `a login with an unknown username answered ${res.status}` }
        else last = res
      }
    }
    if (failures === 0 && !limited) return { findings: [], skipped: `the token endpoint answered ${last?.status}, not a login failure` }
    if (!limited) {
      return { findings: [findingAt(ctx, undefined, ANONYMOUS, last, 'no-login-throttle', 'high',
        `${failures} failed logins from one address (new usernames, rotating X-Forwarded-For), sent ${WAVE} at a time, were all answered without a 429: password guessing is not throttled`)] }
    }
    const wait = retryAfter(limited)
    await sleep((Math.min(wait ?? MAX_WAIT_SECONDS, MAX_WAIT_SECONDS) + 0.5) * 1000)
    return { findings: wait === undefined ? [findingAt(ctx, undefined, ANONYMOUS, limited, 'no-retry-after', 'low', 'the login 429 carries no valid Retry-After')] : [] }
  },
})
