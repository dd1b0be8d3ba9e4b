import { afterEach, describe, expect, it, vi } from 'vitest'
import type { HttpRequest, HttpResponse } from '../../harness/adapters/http.js'
import { answer, scriptedContext } from './scripted-endpoint.test-helper.js'
import { loginRace } from './login-race.check.js'

const LIMIT = 4

/**
 * A token endpoint with a failed-login limit of LIMIT per username, where the check's k-th burst (a
 * new username each) has `admitted[k]` wrong passwords judged (401) and the rest refused (429): what a
 * limiter that reads before it spends lets through depends on how the burst arrives.
 */
function target(admitted: number[], opts: { addressLockedAfter?: number; lockedAtStart?: boolean } = {}) {
  const seen = new Map<string, number>()
  const bursts: string[] = []
  let failures = 0
  // A 429 of the per-username limit says an hour: the check must never wait for one.
  const limited = (user: boolean): HttpResponse => ({ ...answer(429), headers: { 'retry-after': user ? '3600' : '1' } })
  const judged = (ok: boolean): HttpResponse => {
    if (!ok) return limited(true)
    if (opts.addressLockedAfter !== undefined && failures >= opts.addressLockedAfter) return limited(false)
    failures++
    return answer(401)
  }
  const http = {
    sent: 0,
    async send(req: HttpRequest): Promise<HttpResponse> {
      if (http.sent++ === 0 && opts.lockedAtStart) return limited(false)
      const user = new URLSearchParams(req.body as string).get('username')!
      const n = (seen.get(user) ?? 0) + 1
      seen.set(user, n)
      if (!req.burst) return judged(n <= LIMIT)
      if (n === 1) bursts.push(user)
      return judged(n <= admitted[bursts.indexOf(user)]!)
    },
  }
  const ctx = scriptedContext(loginRace, http)
  return { ctx, bursts }
}

/** The delays the check slept for (setTimeout calls of a second or more), in ms. */
function sleeps(): () => number[] {
  const spy = vi.spyOn(globalThis, 'setTimeout')
  return () => spy.mock.calls.map((c) => Number(c[1])).filter((ms) => ms >= 1000)
}

describe('ratelimit/login-race', () => {
  afterEach(() => vi.restoreAllMocks())

  it('a correct limiter (at most the limit judged) is one burst and no finding', async () => {
    const { ctx, bursts } = target([LIMIT])
    const out = await loginRace.run(ctx)
    expect(out.findings).toEqual([])
    expect(bursts).toHaveLength(1)
    expect(out.notes).toEqual([`${LIMIT} wrong passwords in a row met a 429; of ${3 * LIMIT} sent at once, ${LIMIT} were judged`])
  })

  it('more than twice the limit in one burst is a finding', async () => {
    const { ctx, bursts } = target([3 * LIMIT])
    const out = await loginRace.run(ctx)
    expect(bursts).toHaveLength(1)
    expect(out.findings.map((f) => f.message)).toEqual([expect.stringMatching(/12 were judged \(more than twice the limit\)/)])
  })

  it('over the limit but not twice: sent again once; over it again is a finding, within it is not', async () => {
    const twice = target([LIMIT + 2, LIMIT + 1])
    const found = await loginRace.run(twice.ctx)
    expect(twice.bursts).toHaveLength(2)
    expect(found.findings.map((f) => f.message)).toEqual([expect.stringMatching(/6, then 5 were judged \(two bursts in a row over the limit\)/)])
    const once = target([LIMIT + 2, LIMIT])
    const clean = await loginRace.run(once.ctx)
    expect(once.bursts).toHaveLength(2)
    expect(clean.findings).toEqual([])
    expect(clean.notes).toEqual([`${LIMIT} wrong passwords in a row met a 429; of ${3 * LIMIT} sent at once, 6, then 4 were judged`])
  })

  it('never waits for its own usernames\' lockouts; waits out one of the address, which one more wrong password shows', async () => {
    const free = target([LIMIT])
    const slept = sleeps()
    expect((await loginRace.run(free.ctx)).findings).toEqual([])
    // In a row (LIMIT + 1), the burst (3 × LIMIT), one probe with a fresh username: answered 401, so no wait.
    expect(free.ctx.requests).toBe(LIMIT + 1 + 3 * LIMIT + 1)
    expect(slept()).toEqual([])
    // The address is locked once the burst's failures are in: the probe meets it and the check waits its Retry-After.
    const locked = target([LIMIT], { addressLockedAfter: 2 * LIMIT })
    expect((await loginRace.run(locked.ctx)).findings).toEqual([])
    expect(slept()).toEqual([1500])
  })

  it('a lockout of the address left by earlier traffic is waited out before the limit is measured, not a skip', async () => {
    const { ctx, bursts } = target([LIMIT], { lockedAtStart: true })
    const slept = sleeps()
    const out = await loginRace.run(ctx)
    expect(out.skipped).toBeUndefined()
    expect(bursts).toHaveLength(1)
    expect(out.notes).toEqual([`${LIMIT} wrong passwords in a row met a 429; of ${3 * LIMIT} sent at once, ${LIMIT} were judged`])
    expect(slept()).toEqual([1500])
  })
})
