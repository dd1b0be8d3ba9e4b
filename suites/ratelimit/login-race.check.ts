import { randomBytes } from 'node:crypto'
import { defineCheck } from '../../harness/core/check.js'
import { ANONYMOUS } from '../../harness/core/topology.js'
import { wrongLogin } from '../../harness/engine/members.js'
import type { HttpResponse } from '../../harness/adapters/http.js'
import type { CheckContext } from '../../harness/engine/context.js'
import { findingAt, retryAfter, sleep } from './quota.js'

/** The longest the check waits for a lockout of the harness address to end, so the checks after it can log in again. */
const MAX_WAIT_SECONDS = 60
/** The most attempts released together (each one pays the target's password KDF). */
const MAX_WIDTH = 48

/**
 * The failed-login limit holds under concurrency (issue 13 defect 2; CWE-362 on CWE-307's control).
 * First, in a row: wrong passwords for one fresh username until a 429 — the limit T as the target
 * enforces it. Then, at once: 3T wrong passwords for another fresh username released together. A
 * limiter that spends before it checks the password admits at most T of them; one that reads its
 * counters first and spends after a failure admits every one read before the first failures were
 * spent. A finding past 2T, which no fixed window split by a boundary mid-burst can reach. A race is
 * not shown every time (how many are read before the first spends depends on how the burst arrives):
 * a burst that admits more than T but not 2T is sent again, once, with another fresh username (after
 * any lockout of the address has ended), and two bursts in a row over the limit are a finding too (a
 * window boundary inside both is far less likely than a race). After each burst, waits out a lockout of this address (not of
 * the fresh usernames: nothing logs in as them again), so later logins from it are not refused.
 */
export const loginRace = defineCheck<CheckContext>({
  id: 'ratelimit/login-race',
  suite: 'ratelimit',
  title: 'Wrong passwords sent at once get past the failed-login limit',
  severity: 'high', cwe: 307, owasp: 'API2:2023',
  // Alone: it spends the harness address's login windows (other checks' logins would meet its lockouts).
  exclusive: true,
  docs: 'issue 13 defect 2 (check-then-spend login limiter); OWASP Authentication Cheat Sheet (account lockout); tenancy-audit-ratelimit.md §3.4; fault ratelimit-login-check-then-spend',
  async run(ctx) {
    const max = ctx.profile.rateLimit.loginAttempts
    const username = () => `ta-${ctx.topology.tag}-race-${randomBytes(4).toString('hex')}@tenant-audit.test`
    const guess = (user: string, burst = false): Promise<HttpResponse> => wrongLogin(ctx, user, { burst })
    const failure = (r: HttpResponse) => r.status === 400 || r.status === 401

    const first = username()
    let inRow = 0
    let limited: HttpResponse | undefined
    const started = Date.now()
    for (let i = 0; i < max && !limited; i++) {
      let res = await guess(first)
      // Refused before any failure of this username: a lockout of the address left by the checks before (a window
      // filled by their last failure, which they could not see). Waited out once (its Retry-After, capped).
      const leftover = i === 0 && res.status === 429 ? retryAfter(res) : undefined
      if (leftover !== undefined && leftover <= MAX_WAIT_SECONDS) {
        await sleep((leftover + 0.5) * 1000)
        res = await guess(first)
      }
      if (res.status === 429) limited = res
      else if (failure(res)) inRow++
      else return { findings: [], skipped: `a wrong password for an unknown username answered ${res.status}, not a login failure` }
    }
    if (!limited) {
      return { findings: [], skipped: `no 429 within ${max} wrong passwords in a row for one username, one at a time over ${((Date.now() - started) / 1000).toFixed(0)} s: no limit to race (a per-username window that refills faster than the target answers is never filled so; ratelimit/login-bruteforce judges a missing limit)` }
    }
    if (inRow === 0) return { findings: [], skipped: 'the first wrong password was already refused with 429 (a lockout from earlier traffic): no limit to measure' }
    const width = 3 * inRow
    if (width > MAX_WIDTH) return { findings: [], skipped: `the limit (${inRow} failures in a row) is too high to race with at most ${MAX_WIDTH} attempts at once` }

    /**
     * The bursts lock their own fresh usernames out, which no later login uses; only a lockout of this
     * address would meet later checks' logins. One more wrong password, for yet another fresh username,
     * tells which: a 429 is waited out (its Retry-After, capped), a login failure is not waited for at all
     * (the blind target's per-username lockout is a minute; its per-address limit was never reached).
     */
    const waitIfAddressLocked = async (): Promise<void> => {
      const probe = await guess(username())
      if (probe.status !== 429) return
      await sleep((Math.min(retryAfter(probe) ?? MAX_WAIT_SECONDS, MAX_WAIT_SECONDS) + 0.5) * 1000)
    }
    const burst = async (): Promise<HttpResponse[]> => {
      const user = username()
      const answers = await Promise.all(Array.from({ length: width }, () => guess(user, true)))
      await waitIfAddressLocked()
      return answers.filter(failure)
    }
    const admitted = [await burst()]
    if (admitted[0]!.length > inRow && admitted[0]!.length <= 2 * inRow) admitted.push(await burst())
    const counts = admitted.map((a) => a.length)
    const said = `${inRow} wrong passwords in a row met a 429; of ${width} sent at once, ${counts.join(', then ')} were judged`
    // A second burst is sent only after a first over T: it decides, whether past 2T or over T again.
    if (counts.at(-1)! <= (counts.length === 2 ? inRow : 2 * inRow)) return { findings: [], notes: [said] }
    const decided = admitted.at(-1)!
    return {
      findings: [findingAt(ctx, undefined, ANONYMOUS, decided[decided.length - 1], 'login-limit-race', 'high',
        `${said} (${counts.length === 2 ? 'two bursts in a row over the limit' : `more than twice the limit`}): the failed-login limit is read before the password check and spent after it, so concurrent guesses pass it`)],
    }
  },
})
