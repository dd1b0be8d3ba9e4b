import { describe, expect, it } from 'vitest'
import type { HttpRequest, HttpResponse } from '../../harness/adapters/http.js'
import { answer, scriptedContext } from './scripted-endpoint.test-helper.js'
import { loginBruteforce } from './login-bruteforce.check.js'


/**
 * A token endpoint on a clock of its own: a guess that arrives while none is in flight takes `msPerGuess`
 * (its KDF and the round trip on a loaded machine); guesses that arrive together share that time. With
 * `limit`, failures per address are counted in fixed windows of `windowMs` and the one past the limit is
 * refused with 429; without it, nothing is refused.
 */
function target(opts: { limit?: number; windowMs: number; msPerGuess: number }) {
  let clock = 0
  let inFlight = 0
  const windows = new Map<number, number>()
  const http = {
    sent: 0,
    async send(_req: HttpRequest): Promise<HttpResponse> {
      http.sent++
      if (inFlight++ === 0) clock += opts.msPerGuess
      await new Promise((r) => setImmediate(r))
      inFlight--
      const w = Math.floor(clock / opts.windowMs)
      const n = (windows.get(w) ?? 0) + 1
      windows.set(w, n)
      return answer(opts.limit !== undefined && n > opts.limit ? 429 : 401)
    },
  }
  const ctx = scriptedContext(loginBruteforce, http)
  return { ctx, http }
}

describe('ratelimit/login-bruteforce', () => {
  it('a short per-address window on a slow target is met: the guesses are not sent one at a time', async () => {
    // 20 failures in 3 s, 200 ms a guess: one at a time, 15 land in each window and no 429 ever comes.
    const { ctx, http } = target({ limit: 20, windowMs: 3000, msPerGuess: 200 })
    const out = await loginBruteforce.run(ctx)
    expect(out.findings).toEqual([])
    expect(http.sent).toBeLessThan(ctx.profile.rateLimit.loginAttempts)
  })

  it('no limit at all is a finding, after loginAttempts guesses', async () => {
    const { ctx, http } = target({ windowMs: 3000, msPerGuess: 200 })
    const out = await loginBruteforce.run(ctx)
    expect(http.sent).toBe(ctx.profile.rateLimit.loginAttempts)
    expect(out.findings.map((f) => f.message)).toEqual([expect.stringMatching(new RegExp(`^${ctx.profile.rateLimit.loginAttempts} failed logins from one address .* without a 429`))])
  })
})
