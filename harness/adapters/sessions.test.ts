import { afterEach, describe, expect, it } from 'vitest'
import { HttpAdapter } from './http.js'
import { expiryOf, renewMarginMs } from './sessions.js'
import { fakeJwt, json, startStub, type Stub, type StubRequest } from '../../test/support/stub.js'

/**
 * A token server on loopback: the password grant and (optionally) the refresh grant issue
 * `access-N` tokens that live `ttl` seconds; `/me` answers 200 to a live, unrevoked token, else 401.
 */
async function authStub(opts: { ttl: number; refresh: boolean; refuseLogins?: () => boolean }) {
  let n = 0
  const live = new Map<string, number>() // token → expiry (ms)
  const refreshTokens = new Set<string>()
  const grants: string[] = []
  const issue = () => {
    const access = `access-${++n}`
    live.set(access, Date.now() + opts.ttl * 1000)
    const refresh = opts.refresh ? `refresh-${n}` : undefined
    if (refresh) refreshTokens.add(refresh)
    return { access_token: access, token_type: 'Bearer', expires_in: opts.ttl, ...(refresh ? { refresh_token: refresh } : {}) }
  }
  const stub = await startStub((req: StubRequest, res) => {
    if (req.path === '/auth/token') {
      const form = new URLSearchParams(req.body)
      grants.push(`${form.get('grant_type')}${form.get('workspace_id') ? `@${form.get('workspace_id')}` : ''}`)
      if (form.get('grant_type') === 'refresh_token') {
        const rt = form.get('refresh_token') ?? ''
        if (!refreshTokens.delete(rt)) return json(res, 400, { error: 'invalid_grant' }) // single use: rotation
        return json(res, 200, issue())
      }
      if (opts.refuseLogins?.() || form.get('password') !== 'pw') return json(res, 400, { error: 'invalid_grant' })
      return json(res, 200, issue())
    }
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '')
    const exp = live.get(token)
    return exp !== undefined && exp > Date.now() ? json(res, 200, { token }) : json(res, 401, { error: 'invalid_token' })
  })
  return { stub, grants, revoke: (t: string) => live.delete(t) }
}

let stub: Stub | undefined
let http: HttpAdapter | undefined
afterEach(async () => {
  await http?.close()
  await stub?.close()
  http = stub = undefined
})

function adapterFor(s: Stub): HttpAdapter {
  http = new HttpAdapter({ baseUrl: s.url, maxRequests: 1000, timeoutMs: 5000, retries: 0, auth: { tokenEndpoint: '/auth/token', workspaceParam: 'workspace_id' } })
  return http
}

async function login(a: HttpAdapter, username = 'u@x.test', password = 'pw'): Promise<string> {
  const res = await a.send({ method: 'POST', path: '/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password, workspace_id: 'ws-1' }).toString() })
  return (res.json as { access_token: string }).access_token
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('sessions: every login is recorded, tokens are renewed at the adapter', () => {
  it('records a session for every password-grant login, and none for a failed one', async () => {
    const auth = await authStub({ ttl: 60, refresh: true })
    stub = auth.stub
    const a = adapterFor(stub)
    await login(a)
    await login(a, 'v@x.test', 'wrong')
    const [s, ...rest] = a.sessions.export()
    expect(rest).toEqual([])
    expect(s).toMatchObject({ username: 'u@x.test', workspaceId: 'ws-1', accessToken: 'access-1', refreshToken: 'refresh-1', partition: 'session:u@x.test' })
    expect(s!.expiresAt! - s!.obtainedAt).toBe(60_000)
  })

  it('renews a token about to expire with the refresh grant, stores the rotated refresh token, updates holders in place', async () => {
    const auth = await authStub({ ttl: 2, refresh: true })
    stub = auth.stub
    const a = adapterFor(stub)
    const actor = { token: await login(a) }
    a.sessions.bind(actor)
    await sleep(1600) // inside the renewal margin (1 s before expiry)
    const res = await a.send({ method: 'GET', path: '/me', token: 'access-1' })
    expect(res.status).toBe(200)
    expect((res.json as { token: string }).token).toBe('access-2')
    expect(actor.token).toBe('access-2')
    expect(auth.grants).toEqual(['password@ws-1', 'refresh_token'])
    expect(a.sessions.export()[0]).toMatchObject({ accessToken: 'access-2', refreshToken: 'refresh-2' })
    expect(a.traffic.renewals).toBe(1)
  })

  it('without a refresh token it logs in again (same workspace); concurrent senders share one renewal', async () => {
    const auth = await authStub({ ttl: 2, refresh: false })
    stub = auth.stub
    const a = adapterFor(stub)
    const token = await login(a)
    await sleep(1600)
    const all = await Promise.all([1, 2, 3].map(() => a.send({ method: 'GET', path: '/me', token })))
    expect(all.map((r) => r.status)).toEqual([200, 200, 200])
    expect(auth.grants).toEqual(['password@ws-1', 'password@ws-1'])
  })

  it('after a 401 on a token it believes valid, renews once and resends once', async () => {
    const auth = await authStub({ ttl: 600, refresh: true })
    stub = auth.stub
    const a = adapterFor(stub)
    const token = await login(a)
    auth.revoke(token)
    const res = await a.send({ method: 'GET', path: '/me', token })
    expect(res.status).toBe(200)
    expect(a.traffic.unauthorizedResends).toBe(1)
    expect(res.superseded).toEqual([401])
    expect(stub.seen.filter((r) => r.path === '/me')).toHaveLength(2)
  })

  it('renew: false sends the token exactly as given and returns the 401', async () => {
    const auth = await authStub({ ttl: 600, refresh: true })
    stub = auth.stub
    const a = adapterFor(stub)
    const token = await login(a)
    auth.revoke(token)
    const res = await a.send({ method: 'GET', path: '/me', token, renew: false })
    expect(res.status).toBe(401)
    expect(stub.seen.at(-1)!.headers.authorization).toBe(`Bearer ${token}`)
    expect(auth.grants).toEqual(['password@ws-1'])
  })

  it('a retired session is never renewed or substituted again; an unknown token passes untouched', async () => {
    const auth = await authStub({ ttl: 600, refresh: true })
    stub = auth.stub
    const a = adapterFor(stub)
    const token = await login(a)
    auth.revoke(token)
    a.sessions.retire(token)
    expect((await a.send({ method: 'GET', path: '/me', token })).status).toBe(401)
    const forged = fakeJwt({ sub: 'x', account_id: 'acc-9' })
    expect((await a.send({ method: 'GET', path: '/me', token: forged })).status).toBe(401)
    expect(stub.seen.at(-1)!.headers.authorization).toBe(`Bearer ${forged}`)
    expect(auth.grants).toEqual(['password@ws-1'])
  })

  it('a failed renewal is remembered: a dead token server is not asked on every request', async () => {
    let refuse = false
    const auth = await authStub({ ttl: 600, refresh: false, refuseLogins: () => refuse })
    stub = auth.stub
    const a = adapterFor(stub)
    const token = await login(a)
    auth.revoke(token)
    refuse = true
    for (let i = 0; i < 3; i++) expect((await a.send({ method: 'GET', path: '/me', token })).status).toBe(401)
    expect(auth.grants).toEqual(['password@ws-1', 'password@ws-1'])
    expect(a.traffic.renewalFailures).toBe(1)
  })

  it('sessions carried to another process (plain data) keep renewing there', async () => {
    const auth = await authStub({ ttl: 600, refresh: true })
    stub = auth.stub
    const setup = adapterFor(stub)
    const token = await login(setup)
    const worker = new HttpAdapter({ baseUrl: stub.url, maxRequests: 100, timeoutMs: 5000, retries: 0, auth: { tokenEndpoint: '/auth/token', workspaceParam: 'workspace_id' } })
    try {
      worker.sessions.load(JSON.parse(JSON.stringify(setup.sessions.export())))
      auth.revoke(token)
      expect((await worker.send({ method: 'GET', path: '/me', token })).status).toBe(200)
      expect(auth.grants).toEqual(['password@ws-1', 'refresh_token'])
    } finally {
      await worker.close()
    }
  })
})

describe('sessions across processes', () => {
  it('a token the setup process already replaced still maps to its session in the worker', async () => {
    const auth = await authStub({ ttl: 600, refresh: true })
    stub = auth.stub
    const setup = adapterFor(stub)
    const first = await login(setup)
    auth.revoke(first)
    expect((await setup.send({ method: 'GET', path: '/me', token: first })).status).toBe(200) // renewed in the setup
    const worker = new HttpAdapter({ baseUrl: stub.url, maxRequests: 100, timeoutMs: 5000, retries: 0, auth: { tokenEndpoint: '/auth/token', workspaceParam: 'workspace_id' } })
    try {
      worker.sessions.load(JSON.parse(JSON.stringify(setup.sessions.export())))
      const actor = { token: first } // a copy of the topology made before the renewal
      worker.sessions.bind(actor)
      expect(actor.token).toBe('access-2')
      expect((await worker.send({ method: 'GET', path: '/me', token: first })).json).toEqual({ token: 'access-2' })
      expect(auth.grants).toEqual(['password@ws-1', 'refresh_token'])
    } finally {
      await worker.close()
    }
  })
})

describe('expiry and renewal margin', () => {
  it('expires_in wins; else the JWT exp, decoded unverified; an opaque token has none', () => {
    const now = 1_700_000_000_000
    expect(expiryOf('opaque', 30, now)).toBe(now + 30_000)
    expect(expiryOf(fakeJwt({ exp: 1_700_000_100 }), undefined, now)).toBe(1_700_000_100_000)
    expect(expiryOf('opaque', undefined, now)).toBeUndefined()
  })

  it('renews a quarter of the life early, between 1 s and a minute', () => {
    expect(renewMarginMs({ obtainedAt: 0, expiresAt: 4_000 })).toBe(1_000)
    expect(renewMarginMs({ obtainedAt: 0, expiresAt: 60_000 })).toBe(15_000)
    expect(renewMarginMs({ obtainedAt: 0, expiresAt: 3_600_000 })).toBe(60_000)
  })
})
