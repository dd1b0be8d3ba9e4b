import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import request from 'supertest'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { availableDrivers, createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { createTestServer, type TestServer } from '../testing/server.js'
import { PASSWORD } from '../testing/topology.js'

/**
 * The token endpoint and the token lifecycle end to end: grants, rotation, revocation, tokens that
 * must never pass as access tokens, and changes to a user or account that apply at once (the server
 * re-reads the caller on every request instead of trusting the claims it signed earlier).
 */

type Role = 'viewer' | 'editor' | 'admin'
interface Tenant { accountId: string; workspaces: [string, string] }
interface User { id: string; email: string; accountId: string; workspaceId: string }

const INVALID_GRANT = { error: 'invalid_grant' }

for (const driver of await availableDrivers()) {
  describe(`auth flows (${driver})`, () => {
    let tdb: TestDatabase
    let s: TestServer
    let root: string

    beforeAll(async () => {
      tdb = await createTestDatabase(driver)
      s = await createTestServer(tdb.db)
      root = await s.rootToken()
    })
    afterAll(async () => tdb?.drop())

    async function created<T>(res: Promise<request.Response>): Promise<T> {
      const r = await res
      expect(r.status, r.text).toBe(201)
      return r.body as T
    }
    /** A fresh account with two workspaces, so no test sees another's suspension or deletion. */
    async function tenant(): Promise<Tenant> {
      const { id } = await created<{ id: string }>(s.call('POST', '/portal/v1/accounts', root, { name: `auth-${randomUUID().slice(0, 8)}` }))
      const ws = async (name: string) =>
        (await created<{ id: string }>(s.call('POST', `/portal/v1/accounts/${id}/workspaces`, root, { name, environment: 'staging' }))).id
      return { accountId: id, workspaces: [await ws('one'), await ws('two')] }
    }
    async function user(t: Tenant, role: Role): Promise<User> {
      const email = `${role}-${randomUUID().slice(0, 8)}@auth.test`
      const workspaceId = t.workspaces[0]
      const { id } = await created<{ id: string }>(s.call('POST', `/portal/v1/accounts/${t.accountId}/workspaces/${workspaceId}/users`, root, { email, password: PASSWORD, role }))
      return { id, email, accountId: t.accountId, workspaceId }
    }
    const grant = (body: Record<string, string>) => s.call('POST', '/auth/token', undefined, body)
    const refresh = (token: string) => grant({ grant_type: 'refresh_token', refresh_token: token })
    const me = (u: User, token: string) => s.call('GET', `/app/v1/workspaces/${u.workspaceId}/me`, token)
    function expect401(res: request.Response): void {
      expect(res.status, res.text).toBe(401)
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
      expect(res.type).toBe('application/problem+json')
    }

    it('password grant returns access, ID and refresh tokens; the access token is an RFC 9068 JWT', async () => {
      const u = await user(await tenant(), 'editor')
      const res = await grant({ grant_type: 'password', username: u.email, password: PASSWORD })
      expect(res.status, res.text).toBe(200)
      expect(res.headers['cache-control']).toBe('no-store')
      expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: expect.any(Number) })
      const { access_token, id_token, refresh_token } = res.body as Record<string, string>
      expect([access_token, id_token, refresh_token].every((x) => typeof x === 'string' && x.length > 0)).toBe(true)

      const header = decodeProtectedHeader(access_token!)
      expect(header.typ).toBe('at+jwt')
      const jwks = (await s.call('GET', '/.well-known/jwks.json')).body as { keys: { kid: string }[] }
      expect(jwks.keys.map((k) => k.kid)).toContain(header.kid)

      const claims = decodeJwt(access_token!)
      expect(claims).toMatchObject({
        iss: s.deps.settings.issuer, aud: s.deps.settings.audience, sub: u.id, client_id: s.deps.settings.clientId,
        scope: 'app dashboard', account_id: u.accountId, workspace_id: u.workspaceId, roles: ['workspace:editor'],
      })
      for (const c of ['iat', 'exp', 'jti'] as const) expect(claims[c], c).toBeDefined()
      expect(claims.exp! - claims.iat!).toBe(res.body.expires_in)
      expect((await me(u, access_token!)).status).toBe(200)
    })

    it('answers a wrong password and an unknown user with the same invalid_grant', async () => {
      const u = await user(await tenant(), 'viewer')
      const wrong = await grant({ grant_type: 'password', username: u.email, password: 'not-the-password-at-all' })
      const unknown = await grant({ grant_type: 'password', username: `nobody-${randomUUID()}@auth.test`, password: PASSWORD })
      for (const res of [wrong, unknown]) {
        expect(res.status, res.text).toBe(400)
        expect(res.body).toMatchObject(INVALID_GRANT)
      }
      expect(unknown.text).toBe(wrong.text) // nothing tells "no such user" from "bad password"
    })

    it('accepts the grant as JSON and as form-urlencoded', async () => {
      const u = await user(await tenant(), 'viewer')
      const body = { grant_type: 'password', username: u.email, password: PASSWORD }
      const form = await request(s.app).post('/auth/token').type('form').send(body)
      expect(form.status, form.text).toBe(200)
      expect((await grant(body)).status).toBe(200)
      expect((await me(u, (form.body as { access_token: string }).access_token)).status).toBe(200)
    })

    it('refuses a workspace_id other than the user’s own', async () => {
      const t = await tenant()
      const u = await user(t, 'admin')
      const res = await grant({ grant_type: 'password', username: u.email, password: PASSWORD, workspace_id: t.workspaces[1] })
      expect(res.status, res.text).toBe(400)
      expect(res.body).toMatchObject(INVALID_GRANT)
      expect((await grant({ grant_type: 'password', username: u.email, password: PASSWORD, workspace_id: u.workspaceId })).status).toBe(200)
    })

    it('rotates a refresh token once; presenting a rotated one revokes the whole family', async () => {
      const u = await user(await tenant(), 'viewer')
      const first = await s.login(u.email, PASSWORD)
      const second = await refresh(first.refresh_token)
      expect(second.status, second.text).toBe(200)
      const newest = (second.body as { refresh_token: string }).refresh_token
      expect(newest).not.toBe(first.refresh_token)

      const reuse = await refresh(first.refresh_token)
      expect(reuse.status, reuse.text).toBe(400)
      expect(reuse.body).toMatchObject(INVALID_GRANT)
      // Someone else holds a copy of that login: its newest token is dead too.
      const afterTheft = await refresh(newest)
      expect(afterTheft.status, afterTheft.text).toBe(400)
      expect(afterTheft.body).toMatchObject(INVALID_GRANT)
    })

    it('honours one refresh token once even when sent 8 times at once, and a family revoked during a refresh takes the new child with it (issue 13 defect 1)', async () => {
      const u = await user(await tenant(), 'viewer')
      for (let trial = 0; trial < 3; trial++) {
        const { refresh_token } = await s.login(u.email, PASSWORD)
        const answers = await Promise.all(Array.from({ length: 8 }, () => refresh(refresh_token)))
        expect(answers.filter((a) => a.status === 200).length, answers.map((a) => a.status).join(',')).toBe(1)
      }
      for (let trial = 0; trial < 3; trial++) {
        const first = await s.login(u.email, PASSWORD)
        const child = await refresh(first.refresh_token)
        expect(child.status, child.text).toBe(200)
        const [replay, grandchild] = await Promise.all([refresh(first.refresh_token), refresh((child.body as { refresh_token: string }).refresh_token)])
        expect(replay.status, replay.text).toBe(400)
        // Either the refresh came first and its child was revoked with the family, or it found the family revoked.
        if (grandchild.status === 200) expect((await refresh((grandchild.body as { refresh_token: string }).refresh_token)).status).toBe(400)
        else expect(grandchild.body).toMatchObject(INVALID_GRANT)
      }
    })

    it('revoking an access token refuses it at once', async () => {
      const u = await user(await tenant(), 'viewer')
      const { access_token } = await s.login(u.email, PASSWORD)
      expect((await me(u, access_token)).status).toBe(200)
      const revoked = await s.call('POST', '/auth/revoke', undefined, { token: access_token })
      expect(revoked.status, revoked.text).toBe(200)
      expect401(await me(u, access_token))
    })

    it('revoking a refresh token stops it refreshing', async () => {
      const u = await user(await tenant(), 'viewer')
      const { refresh_token } = await s.login(u.email, PASSWORD)
      expect((await s.call('POST', '/auth/revoke', undefined, { token: refresh_token })).status).toBe(200)
      const res = await refresh(refresh_token)
      expect(res.status, res.text).toBe(400)
      expect(res.body).toMatchObject(INVALID_GRANT)
    })

    it('revoking a refresh token ends the access tokens of its grant, rotated ones included, and only those (RFC 7009 §2.1)', async () => {
      const u = await user(await tenant(), 'viewer')
      const first = await s.login(u.email, PASSWORD)
      const rotated = await refresh(first.refresh_token)
      expect(rotated.status, rotated.text).toBe(200)
      const { access_token, refresh_token } = rotated.body as { access_token: string; refresh_token: string }
      const other = await s.login(u.email, PASSWORD)
      expect((await me(u, access_token)).status).toBe(200)
      expect((await s.call('POST', '/auth/revoke', undefined, { token: refresh_token, token_type_hint: 'refresh_token' })).status).toBe(200)
      expect401(await me(u, access_token))
      expect401(await me(u, first.access_token))
      expect((await me(u, other.access_token)).status).toBe(200)
    })

    it('a stolen refresh token presented again ends the access tokens of its grant too', async () => {
      const u = await user(await tenant(), 'viewer')
      const first = await s.login(u.email, PASSWORD)
      const second = await refresh(first.refresh_token)
      expect(second.status, second.text).toBe(200)
      expect((await refresh(first.refresh_token)).status).toBe(400)
      expect401(await me(u, (second.body as { access_token: string }).access_token))
    })

    it('refuses the ID token and the refresh token as access tokens', async () => {
      const u = await user(await tenant(), 'editor')
      const { id_token, refresh_token } = await s.login(u.email, PASSWORD)
      expect401(await me(u, id_token))
      expect401(await me(u, refresh_token))
    })

    it("suspending an account stops its users' tokens and logins at once", async () => {
      const t = await tenant()
      const u = await user(t, 'editor')
      const { access_token, refresh_token } = await s.login(u.email, PASSWORD)
      expect((await me(u, access_token)).status).toBe(200)
      const patched = await s.call('PATCH', `/portal/v1/accounts/${t.accountId}`, root, { status: 'suspended' })
      expect(patched.status, patched.text).toBe(200)
      expect(patched.body).toMatchObject({ status: 'suspended' })

      const res = await me(u, access_token)
      expect(res.status, res.text).toBe(403)
      expect(res.type).toBe('application/problem+json')
      const login = await grant({ grant_type: 'password', username: u.email, password: PASSWORD })
      expect(login.status, login.text).toBe(400)
      expect(login.body).toMatchObject(INVALID_GRANT)
      expect((await refresh(refresh_token)).status).toBe(400)
    })

    it('deleting a user stops its token at once', async () => {
      const t = await tenant()
      const [admin, victim] = [await user(t, 'admin'), await user(t, 'viewer')]
      const adminToken = (await s.login(admin.email, PASSWORD)).access_token
      const { access_token } = await s.login(victim.email, PASSWORD)
      const del = await s.call('DELETE', `/dashboard/v1/workspaces/${victim.workspaceId}/users/${victim.id}`, adminToken)
      expect(del.status, del.text).toBe(204)
      expect401(await me(victim, access_token))
    })

    it('demoting an editor stops its writes at once', async () => {
      const t = await tenant()
      const [admin, editor] = [await user(t, 'admin'), await user(t, 'editor')]
      const adminToken = (await s.login(admin.email, PASSWORD)).access_token
      const { access_token } = await s.login(editor.email, PASSWORD)
      const create = () => s.call('POST', `/app/v1/workspaces/${editor.workspaceId}/documents`, access_token, { title: 't', body: 'b' })
      expect((await create()).status).toBe(201)
      const demoted = await s.call('PATCH', `/dashboard/v1/workspaces/${editor.workspaceId}/users/${editor.id}`, adminToken, { role: 'viewer' })
      expect(demoted.status, demoted.text).toBe(200)
      const res = await create()
      expect(res.status, res.text).toBe(403) // same token, still saying workspace:editor
      expect(res.type).toBe('application/problem+json')
    })

    it('rotates the signing key without downtime', async () => {
      const u = await user(await tenant(), 'viewer')
      const old = (await s.login(u.email, PASSWORD)).access_token
      const oldKid = decodeProtectedHeader(old).kid
      await s.deps.keys.rotate()
      expect((await me(u, old)).status).toBe(200)
      const fresh = (await s.login(u.email, PASSWORD)).access_token
      const newKid = decodeProtectedHeader(fresh).kid
      expect(newKid).not.toBe(oldKid)
      expect(newKid).toBe(s.deps.keys.signingKey().kid)
      expect((await me(u, fresh)).status).toBe(200)
      const kids = ((await s.call('GET', '/.well-known/jwks.json')).body as { keys: { kid: string }[] }).keys.map((k) => k.kid)
      expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]))
    })

    it('publishes an OpenID configuration', async () => {
      const res = await s.call('GET', '/.well-known/openid-configuration')
      expect(res.status).toBe(200)
      const issuer = s.deps.settings.issuer
      expect(res.body).toMatchObject({ issuer, jwks_uri: `${issuer}/.well-known/jwks.json`, token_endpoint: `${issuer}/auth/token` })
    })
  })
}
