import { randomBytes, randomUUID } from 'node:crypto'
import { expect } from 'vitest'
import request, { type Response } from 'supertest'
import type { TestServer } from '../testing/server.js'

/**
 * The rate-limit faults' scenarios for reference-server/faults/faults.test.ts: each act makes its own
 * account with a small quota (never the shared topology's), so the other scenarios are untouched.
 * The response judged is the last one: 429 on the clean server, 2xx on the faulty one (or the reverse).
 */
export interface RateLimitScenario {
  act(c: { s: TestServer }): Promise<Response>
  clean(res: Response): void
  defect(res: Response): void
}

const PASSWORD = 'a-long-test-password'

async function tenant(s: TestServer, users: number, burst: number) {
  const root = await s.rootToken()
  const a = await s.call('POST', '/portal/v1/accounts', root, { name: `rl-${randomUUID().slice(0, 6)}` })
  const w = await s.call('POST', `/portal/v1/accounts/${a.body.id}/workspaces`, root, { name: 'ws', environment: 'development' })
  const tokens: string[] = []
  for (let i = 0; i < users; i++) {
    const email = `rl${i}-${randomUUID().slice(0, 8)}@fault.test`
    await s.call('POST', `/portal/v1/accounts/${a.body.id}/workspaces/${w.body.id}/users`, root, { email, password: PASSWORD, role: 'viewer' })
    tokens.push((await s.login(email, PASSWORD)).access_token)
  }
  // burst requests per `burst` seconds: no window ends inside one scenario.
  const q = await s.call('PATCH', `/portal/v1/accounts/${a.body.id}`, root, { rateLimit: { requestsPerSecond: 1, burst } })
  expect(q.status, q.text).toBe(200)
  return { accountId: a.body.id as string, path: `/app/v1/workspaces/${w.body.id}/documents`, tokens }
}

/** The RateLimit-Policy's pk bytes as text. */
const pkText = (res: Response): string => {
  const m = /pk=:([A-Za-z0-9+/=]*):/.exec(String(res.headers['ratelimit-policy']))
  expect(m, 'a pk in RateLimit-Policy').not.toBeNull()
  return Buffer.from(m![1]!, 'base64').toString('utf8')
}
const limited = (res: Response) => (expect(res.status, res.text).toBe(429), expect(res.headers['retry-after']).toBeDefined())
const admitted = (res: Response) => expect(res.status, res.text).toBe(200)

export const RATELIMIT_SCENARIOS: Record<string, RateLimitScenario> = {
  'ratelimit-quota-ignored': {
    // Quota 3, four calls.
    act: async ({ s }) => {
      const t = await tenant(s, 1, 3)
      for (let i = 0; i < 3; i++) await s.call('GET', t.path, t.tokens[0])
      return s.call('GET', t.path, t.tokens[0])
    },
    clean: limited,
    defect: admitted,
  },
  'ratelimit-keyed-by-address': {
    // Quota 3, four calls each from a new X-Forwarded-For.
    act: async ({ s }) => {
      const t = await tenant(s, 1, 3)
      const send = (i: number) => request(s.app).get(t.path).set('Authorization', `Bearer ${t.tokens[0]}`).set('X-Forwarded-For', `10.9.0.${i}`).then((r) => r)
      for (let i = 0; i < 3; i++) await send(i)
      return send(3)
    },
    clean: limited,
    defect: admitted,
  },
  'ratelimit-global-bucket': {
    // Two accounts, quota 3 each: A spends 3, then B's first call.
    act: async ({ s }) => {
      const [a, b] = [await tenant(s, 1, 3), await tenant(s, 1, 3)]
      for (let i = 0; i < 3; i++) await s.call('GET', a.path, a.tokens[0])
      return s.call('GET', b.path, b.tokens[0])
    },
    clean: admitted,
    defect: limited,
  },
  'ratelimit-unverified-claim': {
    // Quota 3: three forged tokens naming the account (bad signature), then its real token.
    act: async ({ s }) => {
      const t = await tenant(s, 1, 3)
      const [h, p] = t.tokens[0]!.split('.')
      for (let i = 0; i < 3; i++) await s.call('GET', t.path, `${h}.${p}.${randomBytes(64).toString('base64url')}`)
      return s.call('GET', t.path, t.tokens[0])
    },
    clean: admitted,
    defect: limited,
  },
  'ratelimit-token-endpoint-unlimited': {
    // 11 wrong passwords for one username (the default allows 10 per minute). One username, not
    // rotating ones: tripping the per-address limit would lock the shared clean server's logins.
    act: async ({ s }) => {
      const username = `guess-${randomUUID().slice(0, 8)}@fault.test`
      let last!: Response
      for (let i = 0; i < 11; i++) last = await s.call('POST', '/auth/token', undefined, { grant_type: 'password', username, password: `not-the-password-${i}` })
      return last
    },
    clean: limited,
    defect: (res) => expect(res.status, res.text).toBe(400),
  },
  'ratelimit-login-check-then-spend': {
    // Sixteen wrong passwords for one username at once (limit 10 per username), straight through the
    // limiter from an address of its own (the shared server's own address window stays untouched);
    // the pause stands for the KDF between the reservation and the failure.
    act: async ({ s }) => {
      const req = { socket: { remoteAddress: `10.77.${randomBytes(1)[0]}.${randomBytes(1)[0]}` }, get: () => undefined } as never
      const reply = () => ({ locals: {}, setHeader: () => undefined }) as never
      const username = `race-${randomUUID().slice(0, 8)}@fault.test`
      const outcomes = await Promise.all(Array.from({ length: 16 }, async () => {
        try {
          await s.deps.limiter.reserveLogin(req, reply(), username)
          await new Promise((r) => setTimeout(r, 20))
          await s.deps.limiter.loginFailed(req, username)
          return 'judged'
        } catch {
          return 'limited'
        }
      }))
      return Object.assign({} as Response, { judged: outcomes.filter((o) => o === 'judged').length })
    },
    clean: (res) => expect((res as Response & { judged: number }).judged).toBe(10),
    defect: (res) => expect((res as Response & { judged: number }).judged).toBeGreaterThan(10),
  },
  'ratelimit-refusals-uncharged': {
    // Quota 3: three GETs of an id that names nothing (404), then a genuine read.
    act: async ({ s }) => {
      const t = await tenant(s, 1, 3)
      for (let i = 0; i < 3; i++) expect((await s.call('GET', `${t.path}/not-an-id`, t.tokens[0])).status).toBe(404)
      return s.call('GET', t.path, t.tokens[0])
    },
    clean: limited,
    defect: admitted,
  },
  'ratelimit-revoked-token-charged': {
    // Quota 3: one member's token revoked and sent three times (401), then the other member's read.
    act: async ({ s }) => {
      const t = await tenant(s, 2, 3)
      expect((await s.call('POST', '/auth/revoke', undefined, { token: t.tokens[0] })).status).toBe(200)
      for (let i = 0; i < 3; i++) expect((await s.call('GET', t.path, t.tokens[0])).status).toBe(401)
      return s.call('GET', t.path, t.tokens[1])
    },
    clean: admitted,
    defect: limited,
  },
  'ratelimit-raw-partition-key': {
    // One call: the pk of its RateLimit-Policy must not carry the account id.
    act: async ({ s }) => {
      const t = await tenant(s, 1, 3)
      const res = await s.call('GET', t.path, t.tokens[0])
      return Object.assign(res, { accountId: t.accountId })
    },
    clean: (res) => expect(pkText(res)).not.toContain((res as Response & { accountId: string }).accountId),
    defect: (res) => expect(pkText(res)).toContain((res as Response & { accountId: string }).accountId),
  },
  'ratelimit-keyed-per-user': {
    // Quota 4, three users of one account, two calls each.
    act: async ({ s }) => {
      const t = await tenant(s, 3, 4)
      let last!: Response
      for (let i = 0; i < 6; i++) last = await s.call('GET', t.path, t.tokens[i % 3])
      return last
    },
    clean: limited,
    defect: admitted,
  },
}
