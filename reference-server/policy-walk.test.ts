/**
 * The whole policy, walked: every contract operation × every actor × every target, each answer compared
 * with an oracle that knows only the operation's `x-tenancy` annotation and the rules of DESIGN.md §2.
 * No expectation here names a route; a new operation is walked as soon as openapi.yaml declares it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadContract, type Operation, type Tenancy } from './contract.js'
import { availableDrivers, createTestDatabase, type TestDatabase } from './testing/databases.js'
import { createTestServer, type TestServer } from './testing/server.js'
import { PASSWORD, USER_ROLES, seedTopology, type SeededAccount, type SeededWorkspace, type Topology, type UserRole } from './testing/topology.js'

type Actor = UserRole | 'platform_admin' | 'support' | 'anonymous'
/**
 * Where a case aims, seen from the actors (all logged in to workspace 0 of account 0): `own` is that
 * workspace (or account); `sibling` is workspace 1 of account 0; `foreign` is workspace 0 of account 1
 * (or account 1); `portal` is account 0 (and its workspace 0) through the Portal. Two more keep the own
 * workspace in the path but name an object the caller may not touch: `peer`, another author's private
 * note there; `smuggled`, an object of the sibling workspace (an id swapped under a valid path).
 */
type Target = 'own' | 'peer' | 'smuggled' | 'sibling' | 'foreign' | 'portal'
type Outcome = 'allow' | 401 | 403 | 404

const ACTORS: readonly Actor[] = [...USER_ROLES, 'platform_admin', 'support', 'anonymous']
const contract = loadContract()
const walked = contract.operations.filter((op) => op.tenancy.context !== 'auth' && op.tenancy.context !== 'public')
const TENANT_PARAMS = ['accountId', 'workspaceId']
const objectParam = (op: Operation) => op.pathParams.filter((p) => !TENANT_PARAMS.includes(p)).at(-1)

function targetsOf(op: Operation): Target[] {
  if (op.tenancy.scope === 'account') return ['own', 'foreign']
  if (op.tenancy.scope !== 'workspace') return ['portal']
  if (!objectParam(op)) return ['own', 'sibling', 'foreign']
  return op.tenancy.owner ? ['own', 'peer', 'smuggled', 'sibling', 'foreign'] : ['own', 'smuggled', 'sibling', 'foreign']
}

/**
 * The expected answer, from the annotation and DESIGN.md §2 alone (no server code). 401 without a token;
 * 403 for the wrong token kind on a context; in the caller's own workspace or account 403 when no role it
 * holds is allowed; elsewhere only `account_admin` reaches, within its own account, and anything the
 * caller may not know about is 404 (existence is not revealed). Private objects belong to their author
 * alone, admins included.
 */
function oracle(t: Tenancy, actor: Actor, target: Target, hasObject: boolean): Outcome {
  if (actor === 'anonymous') return 401
  const principal = actor === 'platform_admin' || actor === 'support'
  if (principal !== (t.context === 'portal')) return 403 // principals only on the Portal, users never
  if (principal) return t.allow.includes(actor) ? 'allow' : 403
  const may = (roles: readonly string[]) => roles.some((r) => t.allow.includes(r))
  const accountAdmin = actor === 'account_admin'
  // An object of another workspace, or (private objects) of another author, is one the caller may not know.
  const foreignObject = hasObject && (target === 'smuggled' || (t.owner && target !== 'own'))
  if (target === 'own' || target === 'peer' || target === 'smuggled') {
    // An account admin also holds admin in its login workspace; workspace roles never act at account level.
    const held = t.scope === 'account' ? (accountAdmin ? ['account_admin'] : []) : accountAdmin ? ['admin', 'account_admin'] : [actor]
    if (!may(held)) return 403
    return foreignObject ? 404 : 'allow'
  }
  if (target === 'sibling' && accountAdmin && may(['account_admin'])) return foreignObject ? 404 : 'allow'
  return 404
}

const isUser = (a: Actor): a is UserRole => (USER_ROLES as readonly string[]).includes(a)
const fill = (op: Operation, params: Record<string, string>) => op.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? `{${name}}`)

let serial = 0
const unique = () => `walk-${++serial}-${Math.random().toString(36).slice(2, 8)}`

/** Minimal valid bodies: bodies are not policy, they only have to pass validation when the call is allowed. */
const BODIES: Record<string, () => unknown> = {
  createDocument: () => ({ title: 'walk', body: 'walk' }),
  updateDocument: () => ({ title: 'walked' }),
  createNote: () => ({ title: 'walk', body: 'walk' }),
  updateNote: () => ({ title: 'walked' }),
  updateWorkspace: () => ({ name: 'walked' }),
  createWorkspaceUser: () => ({ email: `${unique()}@tenant.test`, password: PASSWORD, role: 'viewer' }),
  updateWorkspaceUser: () => ({ role: 'editor' }),
  createAccountWorkspace: () => ({ name: unique(), environment: 'development' }),
  createAccount: () => ({ name: unique() }),
  updateAccount: () => ({ name: unique() }), // never a suspension: later cases still need account 0
  createPortalWorkspace: () => ({ name: unique(), environment: 'development' }),
  createPortalUser: () => ({ email: `${unique()}@tenant.test`, password: PASSWORD, role: 'viewer' }),
  createPrincipal: () => ({ email: `${unique()}@platform.test`, password: PASSWORD, platformRole: 'support' }),
}

/** Deletes and role changes act on a throwaway object made for the one case, so no later case loses its target or actor. */
const destroys = (op: Operation) => op.method === 'delete' || op.tenancy.action === 'users.update'

/** The case's path tenant (`account`, `ws`), where its object lives (`home`), and whose note it is. */
interface Place { account: SeededAccount; ws: SeededWorkspace; home: SeededWorkspace; author: UserRole }

describe.each(await availableDrivers())('policy walk (%s)', (driver) => {
  let database: TestDatabase
  let s: TestServer
  let topo: Topology
  let root: string

  beforeAll(async () => {
    database = await createTestDatabase(driver)
    s = await createTestServer(database.db)
    topo = await seedTopology(s)
    root = await s.rootToken()
  })
  afterAll(async () => database?.drop())

  async function create(operationId: string, params: Record<string, string>, token: string, body: unknown): Promise<string> {
    const res = await s.call('POST', fill(contract.operation(operationId), params), token, body)
    if (res.status !== 201) throw new Error(`fixture ${operationId} failed: ${res.status} ${res.text}`)
    return (res.body as { id: string }).id
  }

  /** Makes a fresh object for the path parameter `name` in the case's place; tenant objects through the Portal. */
  function fresh(name: string, { account, home: ws, author }: Place): Promise<string> {
    const at = { accountId: account.id, workspaceId: ws.id }
    const creators: Record<string, () => Promise<string>> = {
      accountId: () => create('createAccount', {}, root, BODIES.createAccount!()),
      workspaceId: () => create('createPortalWorkspace', at, root, BODIES.createPortalWorkspace!()),
      userId: () => create('createPortalUser', at, root, BODIES.createPortalUser!()),
      documentId: () => create('createDocument', at, ws.users.editor.token, BODIES.createDocument!()),
      noteId: () => create('createNote', at, ws.users[author].token, BODIES.createNote!()),
      principalId: () => create('createPrincipal', {}, root, BODIES.createPrincipal!()),
    }
    const make = creators[name]
    if (!make) throw new Error(`no way to make a fresh {${name}}`)
    return make()
  }

  function place(actor: Actor, target: Target): Place {
    const [a0, a1] = topo.accounts
    const role = isUser(actor) ? actor : 'viewer'
    // The note of the caller itself in its own workspace, of another author next door, of its namesake elsewhere.
    const author: UserRole = target === 'peer' ? (role === 'viewer' ? 'editor' : 'viewer') : role
    const [own, sibling] = a0.workspaces
    if (target === 'sibling') return { account: a0, ws: sibling, home: sibling, author }
    if (target === 'foreign') return { account: a1, ws: a1.workspaces[0], home: a1.workspaces[0], author }
    return { account: a0, ws: own, home: target === 'smuggled' ? sibling : own, author }
  }

  async function paramsFor(op: Operation, at: Place): Promise<Record<string, string>> {
    const { account, ws, home, author } = at
    // A user object of the target workspace is one of its viewers.
    const seeded: Record<string, string> = { accountId: account.id, workspaceId: ws.id, documentId: home.documentId, noteId: home.notes[author], userId: home.users.viewer.id }
    const last = op.pathParams.at(-1)
    const params: Record<string, string> = {}
    for (const name of op.pathParams) {
      const value = destroys(op) && name === last ? await fresh(name, at) : seeded[name]
      if (value === undefined) throw new Error(`no seeded value for {${name}}`)
      params[name] = value
    }
    return params
  }

  function token(actor: Actor): string | undefined {
    if (actor === 'anonymous') return undefined
    if (actor === 'platform_admin' || actor === 'support') return topo.principals[actor]
    return topo.accounts[0].workspaces[0].users[actor].token
  }

  it('answers every operation × actor × target as the x-tenancy annotation says', { timeout: 300_000 }, async () => {
    const mismatches: string[] = []
    const seen = new Set<string>()
    let cases = 0
    for (const op of walked) {
      const needsBody = op.method === 'post' || op.method === 'patch' || op.method === 'put'
      if (needsBody && !BODIES[op.operationId]) {
        mismatches.push(`${op.operationId}: no body in the walk's BODIES table (add one to walk it)`)
        continue
      }
      for (const target of targetsOf(op)) {
        for (const actor of ACTORS) {
          const want = oracle(op.tenancy, actor, target, objectParam(op) !== undefined)
          let path: string
          try {
            path = fill(op, await paramsFor(op, place(actor, target)))
          } catch (err) {
            mismatches.push(`${actor.padEnd(14)} ${op.operationId.padEnd(24)} [${target}]: could not prepare the case: ${(err as Error).message}`)
            continue
          }
          const res = await s.call(op.method, path, token(actor), needsBody ? BODIES[op.operationId]!() : undefined)
          cases++
          seen.add(op.operationId)
          const ok = want === 'allow' ? res.status >= 200 && res.status < 300 : res.status === want
          if (!ok) {
            const detail = res.status >= 500 ? ` (5xx: ${res.text.slice(0, 200)})` : ''
            mismatches.push(`${actor.padEnd(14)} ${op.operationId.padEnd(24)} ${op.method.toUpperCase()} ${path} [${target}]: expected ${want === 'allow' ? '2xx' : want}, got ${res.status}${detail}`)
          }
        }
      }
    }
    expect(mismatches, `${mismatches.length} of ${cases} cases disagree with the oracle:\n${mismatches.join('\n')}\n`).toEqual([])
    // A walk that silently walks nothing (or skips operations) is a defect of its own.
    expect(cases).toBeGreaterThan(300)
    expect([...seen].sort()).toEqual(walked.map((op) => op.operationId).sort())
  })

  it('POST /auth/token: issues tokens for good credentials, refuses bad ones with the OAuth error', async () => {
    const viewer = topo.accounts[0].workspaces[0].users.viewer
    const good = await s.call('POST', '/auth/token', undefined, { grant_type: 'password', username: viewer.email, password: PASSWORD })
    expect(good.status).toBe(200)
    expect(good.body).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), refresh_token: expect.any(String), id_token: expect.any(String) })
    const me = await s.call('GET', `/app/v1/workspaces/${viewer.workspaceId}/me`, good.body.access_token)
    expect(me.status).toBe(200)

    const refreshed = await s.call('POST', '/auth/token', undefined, { grant_type: 'refresh_token', refresh_token: good.body.refresh_token })
    expect(refreshed.status).toBe(200)

    const bad = await s.call('POST', '/auth/token', undefined, { grant_type: 'password', username: viewer.email, password: 'not-the-password' })
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ error: 'invalid_grant' })
    const unknown = await s.call('POST', '/auth/token', undefined, { grant_type: 'client_credentials' })
    expect(unknown.status).toBe(400)
    expect(unknown.body).toMatchObject({ error: 'unsupported_grant_type' })
  })

  it('answers every public GET operation anonymously', async () => {
    const open = contract.operations.filter((op) => op.tenancy.context === 'public' && op.method === 'get')
    expect(open.length).toBeGreaterThan(0)
    for (const op of open) expect((await s.call('GET', op.path)).status, op.operationId).toBe(200)
  })
})
