import { describe, expect, it } from 'vitest'
import type { HttpRequest, HttpResponse } from '../../harness/adapters/http.js'
import { answer, scriptedContext } from './scripted-endpoint.test-helper.js'
import { loginRace } from './login-race.check.js'

const LIMIT = 4

/**
 * A token endpoint with a failed-login limit of LIMIT per username, where the check's k-th burst (a
 * new username each) has `admitted[k]` wrong passwords judged (401) and the rest refused (429): what a
 * limiter that reads before it spends lets through depends on how the burst arrives.
 */
function target(admitted: number[]) {
  const seen = new Map<string, number>()
  const bursts: string[] = []
  const http = {
    sent: 0,
    async send(req: HttpRequest): Promise<HttpResponse> {
      http.sent++
      const user = new URLSearchParams(req.body as string).get('username')!
      const n = (seen.get(user) ?? 0) + 1
      seen.set(user, n)
      if (!req.burst) return answer(n <= LIMIT ? 401 : 429)
      if (n === 1) bursts.push(user)
      return answer(n <= admitted[bursts.indexOf(user)]! ? 401 : 429)
    },
  }
  const ctx = scriptedContext(loginRace, http)
  return { ctx, bursts }
}

describe('ratelimit/login-race', () => {
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
})
