import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PRODUCTION_COST, THROWAWAY_COST, verifyPassword } from '../auth/passwords.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { createTestServer, type TestServer } from '../testing/server.js'
import { hashAhead, passwordHash } from './users.js'
import type { ServerDeps } from './types.js'

const PASSWORD = 'a-long-test-password'
const ok = async <T>(res: Promise<{ status: number; body: unknown; text: string }>): Promise<T> => {
  const r = await res
  if (r.status >= 300) throw new Error(`${r.status} ${r.text}`)
  return r.body as T
}

describe('hashAhead and passwordHash', () => {
  const deps = { settings: { passwordCost: THROWAWAY_COST } } as unknown as ServerDeps

  it('hash only a password the operation would take', async () => {
    expect(await hashAhead(undefined, THROWAWAY_COST)).toBeUndefined()
    expect(await hashAhead({ email: 'x@y.test' }, THROWAWAY_COST)).toBeUndefined()
    expect(await hashAhead({ password: 'short' }, THROWAWAY_COST)).toBeUndefined()
    expect(await hashAhead({ password: 12345678901234 }, THROWAWAY_COST)).toBeUndefined()
    const ahead = await hashAhead({ password: PASSWORD }, THROWAWAY_COST)
    expect(ahead?.password).toBe(PASSWORD)
    expect(await verifyPassword(PASSWORD, ahead!.hash)).toBe(true)
  })

  it('use the hash made ahead only for the password it was made of', async () => {
    const ahead = (await hashAhead({ password: PASSWORD }, THROWAWAY_COST))!
    expect(await passwordHash({ deps, hashedAhead: ahead }, PASSWORD)).toBe(ahead.hash)
    const other = await passwordHash({ deps, hashedAhead: ahead }, `${PASSWORD}-other`)
    expect(other).not.toBe(ahead.hash)
    expect(await verifyPassword(`${PASSWORD}-other`, other)).toBe(true)
    expect(await verifyPassword(PASSWORD, await passwordHash({ deps }, PASSWORD))).toBe(true)
  })
})

/**
 * A new user's or principal's password is hashed before the request's transaction (route.ts MountOptions
 * `password`): hashed inside it, the KDF held the database, and on PGlite (one connection) every other
 * tenant's request waited for it. Shown by order, not by time: at `serve`'s cost (N = 2^17, hundreds of ms
 * here), a read sent while a creation hashes answers before the creation does; with the hash inside the
 * transaction it could only answer after the creation committed. PGlite only: a Postgres pool serves the
 * read on another connection either way.
 */
describe('the password KDF does not hold the database (pglite)', () => {
  let tdb: TestDatabase
  let s: TestServer
  let root: string
  let account: { id: string }
  let ws: { id: string }
  let sibling: { id: string }
  beforeAll(async () => {
    tdb = await createTestDatabase('pglite')
    s = await createTestServer(tdb.db, [], { passwordCost: PRODUCTION_COST })
    root = await s.rootToken()
    account = await ok(s.call('POST', '/portal/v1/accounts', root, { name: 'kdf' }))
    ws = await ok(s.call('POST', `/portal/v1/accounts/${account.id}/workspaces`, root, { name: 'kdf', environment: 'staging' }))
    sibling = await ok(s.call('POST', `/portal/v1/accounts/${account.id}/workspaces`, root, { name: 'kdf-2', environment: 'staging' }))
  })
  afterAll(async () => tdb?.drop())

  /** Sends `create`, then `read` 50 ms later; the order the two answered in. */
  async function order(create: () => Promise<{ status: number }>, read: () => Promise<{ status: number }>): Promise<string[]> {
    const done: string[] = []
    const creating = create().then((r) => (done.push('create'), r))
    await new Promise((r) => setTimeout(r, 50))
    const reading = read().then((r) => (done.push('read'), r))
    const [c, g] = await Promise.all([creating, reading])
    expect([c.status, g.status]).toEqual([201, 200])
    return done
  }

  it("a platform admin's new user and principal: other requests are served while the password hashes, and the password signs in", async () => {
    const userDone = await order(
      () => s.call('POST', `/portal/v1/accounts/${account.id}/workspaces/${ws.id}/users`, root, { email: 'admin@kdf.test', password: PASSWORD, role: 'admin' }),
      () => s.call('GET', `/portal/v1/accounts/${account.id}`, root),
    )
    expect(userDone).toEqual(['read', 'create'])
    const principalDone = await order(
      () => s.call('POST', '/portal/v1/principals', root, { email: 'support@kdf.test', password: PASSWORD, platformRole: 'support' }),
      () => s.call('GET', `/portal/v1/accounts/${account.id}`, root),
    )
    expect(principalDone).toEqual(['read', 'create'])
    expect((await s.login('admin@kdf.test', PASSWORD)).access_token).toBeTruthy()
    expect((await s.login('support@kdf.test', PASSWORD)).access_token).toBeTruthy()
  })

  it("a workspace admin's new user in its own workspace likewise; elsewhere the password is hashed after authorization", async () => {
    const admin = (await s.login('admin@kdf.test', PASSWORD)).access_token
    const done = await order(
      () => s.call('POST', `/dashboard/v1/workspaces/${ws.id}/users`, admin, { email: 'viewer@kdf.test', password: PASSWORD, role: 'viewer' }),
      () => s.call('GET', `/portal/v1/accounts/${account.id}`, root),
    )
    expect(done).toEqual(['read', 'create'])
    expect((await s.login('viewer@kdf.test', PASSWORD)).access_token).toBeTruthy()
    // A workspace admin is no admin of the sibling workspace: refused, and its password never hashed ahead.
    expect((await s.call('POST', `/dashboard/v1/workspaces/${sibling.id}/users`, admin, { email: 'other@kdf.test', password: PASSWORD, role: 'viewer' })).status).toBe(404)
    // An account admin may create there; its claims do not name that workspace, so the hash is made in the handler.
    await ok(s.call('POST', `/portal/v1/accounts/${account.id}/workspaces/${ws.id}/users`, root, { email: 'owner@kdf.test', password: PASSWORD, role: 'admin', accountRole: 'admin' }))
    const owner = (await s.login('owner@kdf.test', PASSWORD)).access_token
    await ok(s.call('POST', `/dashboard/v1/workspaces/${sibling.id}/users`, owner, { email: 'other@kdf.test', password: PASSWORD, role: 'viewer' }))
    expect((await s.login('other@kdf.test', PASSWORD, sibling.id)).access_token).toBeTruthy()
  })
})
