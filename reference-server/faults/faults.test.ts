import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Response } from 'supertest'
import { FAULTS, UnknownFaultError, parseFaults, type FaultName } from './index.js'
import { availableDrivers, createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { createTestServer, type TestServer } from '../testing/server.js'
import { PASSWORD, seedTopology, type SeededWorkspace, type Topology } from '../testing/topology.js'
import { RATELIMIT_SCENARIOS } from '../ratelimit/fault-scenarios.js'
import { throwawayCost } from '../server.js'
import { EMBEDDED_COST, THROWAWAY_COST } from '../auth/passwords.js'

/**
 * Every catalogued fault, shown to be real: the same requests against the clean server are refused
 * (or answered without foreign data) and against the faulty server show the defect. All servers share
 * one database and one topology; a faulty server trusts the clean server's signing key, so the seeded
 * tokens work on both. Scenarios that change state act on objects they create themselves.
 */

interface Ctx { s: TestServer; t: Topology }
interface Scenario {
  /** The request(s); the response returned is the one judged. */
  act(c: Ctx): Promise<Response>
  /** What the clean server must answer; `denied` unless the route legitimately answers 2xx. */
  clean(res: Response, t: Topology): void
  /** The visible defect on the faulty server. */
  defect(res: Response, t: Topology): void
}

const home = (t: Topology) => t.accounts[0].workspaces[0]
const sibling = (t: Topology) => t.accounts[0].workspaces[1]
const otherAccount = (t: Topology) => t.accounts[1].workspaces[0]
const CANARY = /CANARY-/
const docPath = (ws: SeededWorkspace, id = '') => `/app/v1/workspaces/${ws.id}/documents${id ? `/${id}` : ''}`

/** 403 or 404, a problem document, and not one canary byte. */
function denied(res: Response): void {
  expect([403, 404], res.text).toContain(res.status)
  expect(res.type).toBe('application/problem+json')
  expect(res.text).not.toMatch(CANARY)
}
const success = (res: Response) => expect(Math.floor(res.status / 100), `${res.status} ${res.text}`).toBe(2)
/** A 2xx answer that carries none of the given markers. */
const without = (...markers: string[]) => (res: Response) => {
  success(res)
  for (const m of markers) expect(res.text).not.toContain(m)
}
/** A 2xx answer that carries the marker. */
const leaks = (res: Response, marker: string) => (success(res), expect(res.text).toContain(marker))

/** `METHOD path` of every operation in a served OpenAPI document that lacks `x-tenancy`. */
function unannotated(res: Response): string[] {
  expect(res.status).toBe(200)
  const paths = (res.body as { paths: Record<string, Record<string, Record<string, unknown>>> }).paths
  return Object.entries(paths).flatMap(([path, item]) => Object.entries(item)
    .filter(([method, op]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method) && op['x-tenancy'] === undefined)
    .map(([method]) => `${method.toUpperCase()} ${path}`))
}

const freshEmail = (label: string) => `${label}-${randomUUID().slice(0, 8)}@fault.test`

/** A new user in `ws` (through the Portal) with a token from `s`. */
async function provision(c: Ctx, ws: SeededWorkspace, role: 'viewer' | 'editor' | 'admin') {
  const email = freshEmail(role)
  const res = await c.s.call('POST', `/portal/v1/accounts/${ws.accountId}/workspaces/${ws.id}/users`, c.t.principals.platform_admin, { email, password: PASSWORD, role })
  expect(res.status, res.text).toBe(201)
  return { id: (res.body as { id: string }).id, token: (await c.s.login(email, PASSWORD)).access_token }
}

const SCENARIOS: Partial<Record<FaultName, Scenario>> = {
  'audit-since-unbounded': {
    // Year 0000 is RFC 3339 syntax but no instant Postgres holds (issue 13 defect 11).
    act: ({ s, t }) => s.call('GET', `/dashboard/v1/workspaces/${home(t).id}/audit-events?since=${encodeURIComponent('0000-01-01T00:00:00Z')}`, home(t).users.admin.token),
    clean: (res) => expect(res.status, res.text).toBe(400),
    defect: (res) => expect(res.status, res.text).toBe(500),
  },
  'user-email-unique-across-accounts': {
    async act({ s, t }) {
      // A fresh user of the other account (through the Portal); then account A's admin creates one with that e-mail.
      const email = freshEmail('elsewhere')
      const other = otherAccount(t)
      const made = await s.call('POST', `/portal/v1/accounts/${other.accountId}/workspaces/${other.id}/users`, await s.rootToken(), { email, password: PASSWORD, role: 'viewer' })
      expect(made.status, made.text).toBe(201)
      return s.call('POST', `/dashboard/v1/workspaces/${home(t).id}/users`, home(t).users.admin.token, { email, password: PASSWORD, role: 'viewer' })
    },
    // Unique per account: another tenant's user is no clash, answered like an unused address.
    clean: (res) => expect(res.status, res.text).toBe(201),
    defect: (res) => expect(res.status, res.text).toBe(409),
  },
  'user-takes-principal-email': {
    async act({ s, t }) {
      const email = freshEmail('principal')
      const made = await s.call('POST', '/portal/v1/principals', await s.rootToken(), { email, password: PASSWORD, platformRole: 'support' })
      expect(made.status, made.text).toBe(201)
      return s.call('POST', `/dashboard/v1/workspaces/${home(t).id}/users`, home(t).users.admin.token, { email, password: `${PASSWORD}-tenant`, role: 'viewer' })
    },
    // Refused like any clash in the account.
    clean: (res) => expect(res.status, res.text).toBe(409),
    defect: (res) => expect(res.status, res.text).toBe(201),
  },
  'document-read-ignores-workspace': {
    act: ({ s, t }) => s.call('GET', docPath(home(t), sibling(t).documentId), home(t).users.viewer.token),
    clean: denied,
    defect: (res, t) => leaks(res, sibling(t).canary),
  },
  'document-list-honours-workspace-param': {
    act: ({ s, t }) => s.call('GET', `${docPath(home(t))}?workspaceId=${sibling(t).id}`, home(t).users.viewer.token),
    // The list itself is allowed: the clean server ignores the parameter and lists its own workspace.
    clean: (res, t) => without(sibling(t).canary)(res),
    defect: (res, t) => leaks(res, sibling(t).canary),
  },
  'document-patch-accepts-workspace': {
    async act(c) {
      const editor = home(c.t).users.editor.token
      const made = await c.s.call('POST', docPath(home(c.t)), editor, { title: 'to be moved', body: 'mass assignment' })
      expect(made.status, made.text).toBe(201)
      const id = (made.body as { id: string }).id
      await c.s.call('PATCH', docPath(home(c.t), id), editor, { title: 'moved?', workspaceId: sibling(c.t).id })
      // Judged by where the document is now: readable from the sibling workspace means it moved.
      return c.s.call('GET', docPath(sibling(c.t), id), sibling(c.t).users.viewer.token)
    },
    clean: denied,
    defect: (res, t) => {
      leaks(res, 'mass assignment')
      expect(res.body).toMatchObject({ workspaceId: sibling(t).id })
    },
  },
  'workspace-admin-lists-foreign-users': {
    act: ({ s, t }) => s.call('GET', `/dashboard/v1/workspaces/${sibling(t).id}/users`, home(t).users.admin.token),
    clean: denied,
    defect: (res, t) => leaks(res, sibling(t).users.viewer.email),
  },
  'account-admin-foreign-account': {
    act: ({ s, t }) => s.call('GET', `/dashboard/v1/workspaces/${otherAccount(t).id}/users`, home(t).users.account_admin.token),
    clean: denied,
    // Accepted where the clean server says 404. The handlers still scope their SQL by the token's
    // account, so the list comes back empty: the defect is the 2xx itself, not leaked rows.
    defect: (res) => expect(res.status, res.text).toBe(200),
  },
  'editor-raises-own-role': {
    async act(c) {
      const me = await provision(c, home(c.t), 'editor')
      return c.s.call('PATCH', `/dashboard/v1/workspaces/${home(c.t).id}/users/${me.id}`, me.token, { role: 'admin' })
    },
    clean: denied,
    defect: (res) => {
      expect(res.status, res.text).toBe(200)
      expect(res.body).toMatchObject({ role: 'admin' })
    },
  },
  'workspace-admin-grants-account-admin': {
    act: ({ s, t }) => s.call('POST', `/dashboard/v1/workspaces/${home(t).id}/users`, home(t).users.admin.token,
      { email: freshEmail('granted'), password: PASSWORD, role: 'viewer', accountRole: 'admin' }),
    clean: denied,
    defect: (res) => {
      expect(res.status, res.text).toBe(201)
      expect(res.body).toMatchObject({ accountRole: 'admin' })
    },
  },
  'support-can-write': {
    act: ({ s, t }) => s.call('POST', '/portal/v1/accounts', t.principals.support, { name: `by-support-${randomUUID().slice(0, 8)}` }),
    clean: denied,
    defect: (res) => {
      expect(res.status, res.text).toBe(201)
      expect(res.body).toMatchObject({ status: 'active' })
    },
  },
  'suspended-account-tokens-work': {
    async act(c) {
      // An account of its own: suspending a seeded one would break every other scenario.
      const root = c.t.principals.platform_admin
      const account = (await c.s.call('POST', '/portal/v1/accounts', root, { name: `to-suspend-${randomUUID().slice(0, 8)}` })).body as { id: string }
      const ws = (await c.s.call('POST', `/portal/v1/accounts/${account.id}/workspaces`, root, { name: 'ws', environment: 'production' })).body as { id: string }
      const user = await provision(c, { id: ws.id, accountId: account.id } as SeededWorkspace, 'viewer')
      const suspended = await c.s.call('PATCH', `/portal/v1/accounts/${account.id}`, root, { status: 'suspended' })
      expect(suspended.status, suspended.text).toBe(200)
      return c.s.call('GET', `/app/v1/workspaces/${ws.id}/me`, user.token)
    },
    clean: (res) => {
      denied(res)
      expect(res.body).toMatchObject({ type: expect.stringMatching(/account-suspended$/) })
    },
    defect: (res) => expect(res.status, res.text).toBe(200),
  },
  'notes-readable-by-peers': {
    act: ({ s, t }) => s.call('GET', `/app/v1/workspaces/${home(t).id}/notes/${home(t).notes.editor}`, home(t).users.viewer.token),
    clean: denied,
    defect: (res, t) => leaks(res, `private editor ${home(t).canary}`),
  },
  'not-found-echoes-title': {
    act: ({ s, t }) => s.call('GET', docPath(home(t), sibling(t).documentId), home(t).users.viewer.token),
    clean: denied,
    defect: (res, t) => {
      expect(res.status).toBe(404)
      expect(res.text).toContain(`doc ${sibling(t).canary}`)
    },
  },
  'search-spans-workspaces': {
    act: ({ s, t }) => s.call('GET', `${docPath(home(t))}?q=CANARY`, home(t).users.viewer.token),
    clean: (res, t) => {
      without(sibling(t).canary, otherAccount(t).canary)(res)
      expect(res.text).toContain(home(t).canary) // the search itself works
    },
    defect: (res, t) => leaks(res, sibling(t).canary),
  },
  'document-write-ignores-workspace': {
    async act(c) {
      const made = await c.s.call('POST', docPath(sibling(c.t)), sibling(c.t).users.editor.token, { title: 'sibling original', body: 'b' })
      expect(made.status, made.text).toBe(201)
      const id = (made.body as { id: string }).id
      await c.s.call('PATCH', docPath(home(c.t), id), home(c.t).users.editor.token, { title: 'overwritten from home' })
      // Judged by the document as its own workspace sees it afterwards.
      return c.s.call('GET', docPath(sibling(c.t), id), sibling(c.t).users.viewer.token)
    },
    clean: (res) => {
      without('overwritten from home')(res)
      expect(res.body).toMatchObject({ title: 'sibling original' })
    },
    defect: (res) => leaks(res, 'overwritten from home'),
  },
  'malformed-id-500': {
    act: ({ s, t }) => s.call('GET', docPath(home(t), 'not-a-uuid'), home(t).users.viewer.token),
    clean: denied,
    defect: (res) => expect(res.status, res.text).toBe(500),
  },
  'user-token-on-portal': {
    // Its own account: the request still runs under the user's RLS context, so only that one is visible.
    act: ({ s, t }) => s.call('GET', `/portal/v1/accounts/${home(t).accountId}`, home(t).users.account_admin.token),
    clean: denied,
    defect: (res, t) => leaks(res, home(t).accountId),
  },
  'stale-token-after-removal': {
    async act(c) {
      const gone = await provision(c, home(c.t), 'viewer')
      const del = await c.s.call('DELETE', `/dashboard/v1/workspaces/${home(c.t).id}/users/${gone.id}`, home(c.t).users.admin.token)
      expect(del.status, del.text).toBe(204)
      return c.s.call('GET', docPath(home(c.t)), gone.token)
    },
    clean: (res) => {
      expect(res.status, res.text).toBe(401) // the subject no longer exists: its token is invalid
      expect(res.text).not.toMatch(CANARY)
    },
    defect: (res, t) => leaks(res, home(t).canary),
  },
  'contract-missing-annotation': {
    act: ({ s }) => s.call('GET', '/openapi.json'),
    clean: (res) => expect(unannotated(res)).toEqual([]),
    defect: (res) => expect(unannotated(res).length).toBeGreaterThan(0),
  },
  'document-read-bypasses-rls': {
    act: ({ s, t }) => s.call('GET', docPath(home(t), otherAccount(t).documentId), home(t).users.viewer.token),
    clean: denied,
    defect: (res, t) => leaks(res, otherAccount(t).canary),
  },
  ...RATELIMIT_SCENARIOS,
}

const faultNames = FAULTS.map((f) => f.name)
// Scenarios here are the access and rate-limit faults'. The forgery faults are shown by
// auth/verify.faults.test.ts and test/self-audit-forgery.test.ts; the audit faults by audit-faults.test.ts.
// login-timing-oracle changes only how long a failure takes: no timed assertion here; its check
// (access/login-timing, a paired statistic) shows it in test/self-audit-*.test.ts. So does
// login-kdf-in-transaction (what a login flood costs another tenant's reads: ratelimit/cost-to-others).
const TIMING_ONLY: string[] = ['login-timing-oracle', 'login-kdf-in-transaction']
// Faults that show only when requests race on real Postgres: test/race.test.ts audits each with its check.
const scenarioNames = FAULTS.filter((f) => (f.suite === 'access' || f.suite === 'ratelimit') && !TIMING_ONLY.includes(f.name) && !('needs' in f)).map((f) => f.name)

describe('fault catalog', () => {
  it('has a scenario for every fault, and no scenario without a fault', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual([...scenarioNames].sort())
  })

  it('names checks as access/<id> and has unique fault names', () => {
    expect(new Set(faultNames).size).toBe(faultNames.length)
    for (const f of FAULTS) {
      expect(f.detectedBy.length, f.name).toBeGreaterThan(0)
      for (const id of f.detectedBy) expect(id, f.name).toMatch(new RegExp(`^${f.suite}/[a-z0-9-]+$`))
    }
  })

  it('marks every fault that only a check timing the password KDF detects as timedKdf, and hashes longer only for those', () => {
    // Their findings are measured in KDF time (a timing oracle, a lock held while it hashes, a race as wide as the hash).
    const TIMED_CHECKS = ['access/login-timing', 'ratelimit/cost-to-others', 'ratelimit/login-race']
    const timed = FAULTS.filter((f) => f.detectedBy.every((id) => TIMED_CHECKS.includes(id))).map((f) => f.name)
    expect(timed.length).toBeGreaterThanOrEqual(3)
    expect(FAULTS.filter((f) => 'timedKdf' in f && f.timedKdf).map((f) => f.name).sort()).toEqual(timed.sort())
    for (const name of timed) expect(throwawayCost(parseFaults([name, 'document-read-ignores-workspace'])), name).toEqual(THROWAWAY_COST)
    expect(throwawayCost(undefined)).toEqual(EMBEDDED_COST)
    expect(throwawayCost(parseFaults('document-read-ignores-workspace,ratelimit-token-endpoint-unlimited'))).toEqual(EMBEDDED_COST)
  })

  it('guards every fault somewhere in the server source (no catalogued no-op)', () => {
    const root = fileURLToPath(new URL('..', import.meta.url))
    const guarded = new Set<string>()
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) walk(path)
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
          for (const m of readFileSync(path, 'utf8').matchAll(/faults\.has\(\s*'([^']+)'\s*\)/g)) guarded.add(m[1]!)
        }
      }
    }
    walk(root)
    for (const name of faultNames) expect(guarded, `no faults.has('${name}') under reference-server/`).toContain(name)
    for (const name of guarded) expect(faultNames, `faults.has('${name}') is not catalogued`).toContain(name)
  })
})

describe('parseFaults', () => {
  it('refuses an unknown name and names it', () => {
    expect(() => parseFaults('search-spans-workspaces,no-such-fault')).toThrow(UnknownFaultError)
    expect(() => parseFaults(['no-such-fault'])).toThrow(/no-such-fault/)
  })

  it('collapses duplicates and ignores blanks', () => {
    const set = parseFaults(' support-can-write, ,support-can-write,not-found-echoes-title ')
    expect(set.names).toEqual(['support-can-write', 'not-found-echoes-title'])
    expect(set.has('support-can-write')).toBe(true)
    expect(set.has('search-spans-workspaces')).toBe(false)
    expect(parseFaults(undefined).names).toEqual([])
  })
})

for (const driver of await availableDrivers()) {
  describe(`seeded faults (${driver})`, () => {
    let tdb: TestDatabase
    let clean: TestServer
    let t: Topology

    beforeAll(async () => {
      tdb = await createTestDatabase(driver)
      clean = await createTestServer(tdb.db)
      t = await seedTopology(clean)
    })
    afterAll(async () => tdb?.drop())

    /** A server with `faults` over the same database, accepting the clean server's tokens. */
    async function faulty(...faults: FaultName[]): Promise<TestServer> {
      const s = await createTestServer(tdb.db, faults)
      const { kid } = clean.deps.keys.signingKey()
      const key = clean.deps.keys.verificationKey(kid)!
      s.deps.keys.trust(kid, key.publicKey, key.alg)
      return s
    }

    for (const name of scenarioNames) {
      it(`${name}: clean denies, faulty shows the defect`, async () => {
        const scenario = SCENARIOS[name]! // present: the catalog test above compares the key sets
        scenario.clean(await scenario.act({ s: clean, t }), t)
        scenario.defect(await scenario.act({ s: await faulty(name), t }), t)
      })
    }

    it('RLS alone holds the account wall when only the application check is broken', async () => {
      const viewer = home(t).users.viewer.token
      const crossAccount = docPath(home(t), otherAccount(t).documentId)
      const ignores = await faulty('document-read-ignores-workspace')
      denied(await ignores.call('GET', crossAccount, viewer))
      leaks(await ignores.call('GET', docPath(home(t), sibling(t).documentId), viewer), sibling(t).canary)
      // Off the runtime role, nothing is left: the same read crosses the account wall.
      const bypass = await faulty('document-read-bypasses-rls')
      leaks(await bypass.call('GET', crossAccount, viewer), otherAccount(t).canary)
    })
  })
}
