import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { availableDrivers, createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { ROOT_EMAIL, createTestServer, type TestServer } from '../testing/server.js'
import { PASSWORD, seedTopology, type Topology } from '../testing/topology.js'

/**
 * Issue 13 defects 6 and 7: user e-mails are unique per account, and never a platform principal's.
 * The same address in two accounts signs in to the account whose password it is; where both
 * passwords are the same, workspace_id picks one (without it the grant asks for it).
 */
for (const driver of await availableDrivers()) {
  describe(`user e-mails (${driver})`, () => {
    let tdb: TestDatabase
    let s: TestServer
    let t: Topology
    let root: string
    beforeAll(async () => {
      tdb = await createTestDatabase(driver)
      s = await createTestServer(tdb.db)
      t = await seedTopology(s)
      root = await s.rootToken()
    })
    afterAll(async () => tdb?.drop())

    const create = (ws: { accountId: string; id: string }, email: string, password: string) =>
      s.call('POST', `/portal/v1/accounts/${ws.accountId}/workspaces/${ws.id}/users`, root, { email, password, role: 'viewer' })
    const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>

    it('one address in two accounts: a clash only within an account; each password signs in to its own', async () => {
      const email = `twice-${randomUUID().slice(0, 8)}@emails.test`
      const [a, b] = [t.accounts[0].workspaces[0], t.accounts[1].workspaces[0]]
      expect((await create(a, email, `${PASSWORD}-a`)).status).toBe(201)
      expect((await create(b, email, `${PASSWORD}-b`)).status).toBe(201)
      expect((await create(a, email, `${PASSWORD}-c`)).status).toBe(409)
      expect(claims((await s.login(email, `${PASSWORD}-a`)).access_token)).toMatchObject({ account_id: a.accountId })
      expect(claims((await s.login(email, `${PASSWORD}-b`)).access_token)).toMatchObject({ account_id: b.accountId })
    })

    it('the same address and password in two accounts: workspace_id picks one, without it the grant asks for it', async () => {
      const email = `same-${randomUUID().slice(0, 8)}@emails.test`
      const [a, b] = [t.accounts[0].workspaces[0], t.accounts[1].workspaces[0]]
      expect((await create(a, email, PASSWORD)).status).toBe(201)
      expect((await create(b, email, PASSWORD)).status).toBe(201)
      const res = await s.call('POST', '/auth/token', undefined, { grant_type: 'password', username: email, password: PASSWORD })
      expect(res.status).toBe(400)
      expect(res.body).toMatchObject({ error: 'invalid_request' })
      expect(claims((await s.login(email, PASSWORD, b.id)).access_token)).toMatchObject({ account_id: b.accountId, workspace_id: b.id })
    })

    it("refuses a platform principal's address for a tenant user with the 409 of any clash; root still signs in as root", async () => {
      const ws = t.accounts[0].workspaces[0]
      const res = await s.call('POST', `/dashboard/v1/workspaces/${ws.id}/users`, ws.users.admin.token, { email: ROOT_EMAIL, password: `${PASSWORD}-x`, role: 'viewer' })
      expect(res.status, res.text).toBe(409)
      expect(res.body).toMatchObject({ detail: 'A user with this email exists.' })
      expect(claims(await s.rootToken())).toMatchObject({ platform_role: 'platform_admin' })
    })
  })
}
