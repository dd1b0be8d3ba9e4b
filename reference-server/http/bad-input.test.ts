import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import request from 'supertest'
import fc from 'fast-check'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { createTestServer, type TestServer } from '../testing/server.js'
import { seedTopology, type Topology } from '../testing/topology.js'
import { loadContract } from '../contract.js'

/**
 * Hostile and sloppy input: every refusal is a 4xx problem+json that carries the request id and
 * nothing of the server's insides; and no request at all, however odd, is answered with a 5xx.
 * One driver is enough: this is about the HTTP layer, not storage.
 */

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS'
interface Req { method: Method; path: string; auth?: string; type?: string; body?: string }

// A stack frame or a source path in a body tells an attacker what runs where.
const INTERNALS = [/\s+at [\w.<>[\]]+ \(/, /\bat (?:async )?\//, /[\w-]+\.(?:ts|js|mjs|cjs):\d+/, /\/(?:work|home|usr|opt|tmp)\/|node_modules|file:\/\//]

let tdb: TestDatabase
let s: TestServer
let t: Topology
let sent = 0

beforeAll(async () => {
  tdb = await createTestDatabase('pglite')
  s = await createTestServer(tdb.db)
  t = await seedTopology(s)
})
afterAll(async () => tdb?.drop())

function send(r: Req): Promise<request.Response> {
  let req = request(s.app)[r.method.toLowerCase() as 'get'](r.path).set('X-Request-Id', `bad-input-${++sent}`)
  if (r.auth !== undefined) req = req.set('Authorization', r.auth)
  if (r.type !== undefined) req = req.set('Content-Type', r.type)
  if (r.body !== undefined) req = req.send(r.body)
  return req.then((res) => res)
}

function expectClean(res: request.Response): void {
  for (const re of INTERNALS) expect(res.text, `internals in ${res.text}`).not.toMatch(re)
  expect(res.headers['x-request-id']).toMatch(/^bad-input-\d+$/)
}

/** A refusal: the expected 4xx, problem+json, `requestId` equal to the `X-Request-Id` header. */
function expectProblem(res: request.Response, status: number | readonly number[]): void {
  expect(typeof status === 'number' ? [status] : status, res.text).toContain(res.status)
  expect(res.type).toBe('application/problem+json')
  expect(res.body).toMatchObject({ status: res.status, requestId: res.headers['x-request-id'] })
  expectClean(res)
}

describe('bad input is refused with a problem document', () => {
  const ws = () => t.accounts[0].workspaces[0]
  const editor = () => `Bearer ${ws().users.editor.token}`
  const docs = () => `/app/v1/workspaces/${ws().id}/documents`
  const json = (body: string): Partial<Req> => ({ type: 'application/json', body })

  // [name, request, status]; functions because the topology exists only after beforeAll.
  const cases: [string, () => Req, number | readonly number[]][] = [
    ['malformed JSON', () => ({ method: 'POST', path: docs(), auth: editor(), ...json('{"title":') }), 400],
    ['JSON that is not an object', () => ({ method: 'POST', path: docs(), auth: editor(), ...json('"title"') }), 400],
    ['wrong types', () => ({ method: 'POST', path: docs(), auth: editor(), ...json('{"title":5,"body":["x"]}') }), 400],
    ['missing fields', () => ({ method: 'POST', path: docs(), auth: editor(), ...json('{}') }), 400],
    ['title too long', () => ({ method: 'POST', path: docs(), auth: editor(), ...json(JSON.stringify({ title: 'x'.repeat(201), body: '' })) }), 400],
    ['body over 64 kB', () => ({ method: 'POST', path: docs(), auth: editor(), ...json(JSON.stringify({ title: 't', body: 'a'.repeat(70_000) })) }), 413],
    ['text/plain on a POST', () => ({ method: 'POST', path: docs(), auth: editor(), type: 'text/plain', body: 'title=t' }), 415],
    ['form body on a POST', () => ({ method: 'POST', path: docs(), auth: editor(), type: 'application/x-www-form-urlencoded', body: 'title=t&body=b' }), 415],
    ['unsupported charset', () => ({ method: 'POST', path: docs(), auth: editor(), type: 'application/json; charset=latin1', body: '{}' }), 415],
    ['no Authorization', () => ({ method: 'GET', path: docs() }), 401],
    ...['Bearer', 'Bearer ', 'Bearer a.b', 'Basic xx', `Bearer ${'a'.repeat(10_240)}`, 'Bearer null', 'Bearer a.b.c', 'bearer  x.y.z']
      .map((auth): [string, () => Req, number] => [`Authorization: ${auth.slice(0, 20)}`, () => ({ method: 'GET', path: docs(), auth }), 401]),
    ['unknown route', () => ({ method: 'GET', path: '/nope' }), 404],
    ['unknown API version', () => ({ method: 'GET', path: `/app/v2/workspaces/${ws().id}/documents`, auth: editor() }), 404],
    ['unknown sub-resource', () => ({ method: 'GET', path: `/app/v1/workspaces/${ws().id}/secrets`, auth: editor() }), 404],
    ['non-UUID workspace id', () => ({ method: 'GET', path: '/app/v1/workspaces/not-a-uuid/documents', auth: editor() }), 404],
    ['uppercase UUID', () => ({ method: 'GET', path: `/app/v1/workspaces/${ws().id.toUpperCase()}/documents`, auth: editor() }), 404],
    ['non-UUID document id', () => ({ method: 'GET', path: `${docs()}/1%20OR%201=1`, auth: editor() }), 404],
    // A path that does not decode names nothing (404), or is a malformed request (400); never a 500.
    ['percent-encoding that does not decode', () => ({ method: 'GET', path: '/app/v1/workspaces/%zz/documents', auth: editor() }), [400, 404]],
    ['query parameter given twice', () => ({ method: 'GET', path: `${docs()}?limit=1&limit=2`, auth: editor() }), 400],
    ['huge limit', () => ({ method: 'GET', path: `${docs()}?limit=100000000`, auth: editor() }), 400],
    ['limit that is no number', () => ({ method: 'GET', path: `${docs()}?limit=1e400`, auth: editor() }), 400],
    ['bad cursor', () => ({ method: 'GET', path: `${docs()}?cursor=abc`, auth: editor() }), 400],
    ['search term too long', () => ({ method: 'GET', path: `${docs()}?q=${'x'.repeat(300)}`, auth: editor() }), 400],
  ]

  it.each(cases)('%s', async (_name, make, status) => {
    expectProblem(await send(make()), status)
  })

  const wrongMethods: [Method, () => string, string][] = [
    ['PUT', () => docs(), 'GET, POST'],
    ['DELETE', () => '/auth/token', 'POST'],
    ['PATCH', () => '/portal/v1/accounts', 'GET, POST'],
  ]
  it.each(wrongMethods)('%s on a known route is 405 with Allow', async (method, path, allow) => {
    const res = await send({ method, path: path(), auth: editor() })
    expectProblem(res, 405)
    expect(res.headers.allow?.split(/,\s*/).sort()).toEqual(allow.split(', ').sort())
  })

  it('answers a 401 with WWW-Authenticate', async () => {
    const res = await send({ method: 'GET', path: docs(), auth: 'Bearer a.b' })
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
  })

  it.each([
    ['no grant_type', '{}', 'unsupported_grant_type'],
    ['unknown grant_type', '{"grant_type":"client_credentials"}', 'unsupported_grant_type'],
    ['password grant without password', '{"grant_type":"password","username":"a@b.test"}', 'invalid_request'],
    ['workspace_id that is not a UUID', '{"grant_type":"password","username":"a@b.test","password":"x","workspace_id":"1"}', 'invalid_request'],
    ['refresh_token of the wrong type', '{"grant_type":"refresh_token","refresh_token":42}', 'invalid_request'],
  ])('token endpoint: %s is an RFC 6749 error', async (_name, body, error) => {
    const res = await send({ method: 'POST', path: '/auth/token', type: 'application/json', body })
    expect(res.status, res.text).toBe(400)
    expect(res.type).toBe('application/json') // RFC 6749 §5.2, not problem+json
    expect(res.body).toMatchObject({ error })
    expectClean(res)
  })
})

describe('no request is answered with a 5xx', () => {
  const operations = loadContract().operations
  const templates = operations.map((op) => op.path)
  const method = fc.constantFrom<Method>('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS')

  /** Who may call, and the ids that are its own: filling a template with them reaches the handlers. */
  interface Actor { auth: string; ids: Record<string, string> }
  async function actors(): Promise<Actor[]> {
    const users = t.accounts.flatMap((a) => a.workspaces.flatMap((w) => Object.values(w.users).map((u) => ({
      auth: `Bearer ${u.token}`,
      ids: { accountId: a.id, workspaceId: w.id, documentId: w.documentId, noteId: w.notes[u.role], userId: w.users.viewer.id },
    }))))
    // Principals get an account of their own to suspend or delete, so the seeded tenants survive.
    const root = t.principals.platform_admin
    const account = (await s.call('POST', '/portal/v1/accounts', root, { name: 'spare' })).body as { id: string }
    const ws = (await s.call('POST', `/portal/v1/accounts/${account.id}/workspaces`, root, { name: 'spare', environment: 'development' })).body as { id: string }
    const spare = { accountId: account.id, workspaceId: ws.id }
    return [...users, { auth: `Bearer ${root}`, ids: spare }, { auth: `Bearer ${t.principals.support}`, ids: spare }]
  }
  function realIds(): string[] {
    return t.accounts.flatMap((a) => [a.id, ...a.workspaces.flatMap((w) => [w.id, w.documentId, ...Object.values(w.notes), ...Object.values(w.users).map((u) => u.id)])])
  }

  it('holds for random methods, paths, headers and bodies', async () => {
    const ids = realIds()
    const cast = await actors()
    const segment = fc.oneof(
      fc.constantFrom(...ids),
      fc.constantFrom(...ids).map((id) => id.toUpperCase()),
      fc.uuid(),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
      // Sent raw: malformed percent-encoding, dot segments, encoded slashes and NUL.
      fc.constantFrom('%zz', '%', '..', '%2e%2e', '%2F', '%00', '%C3%BF', 'null', 'me', 'users', 'documents', '-1'),
    )
    const scrambled = fc
      .record({ template: fc.constantFrom(...templates), fill: fc.array(segment, { minLength: 4, maxLength: 4 }), extra: fc.array(segment, { maxLength: 2 }) })
      .map(({ template, fill, extra }) => {
        let i = 0
        return [template.replace(/\{[^}]+\}/g, () => fill[i++]!), ...extra].join('/')
      })
    const path = fc.oneof({ weight: 5, arbitrary: scrambled }, { weight: 1, arbitrary: fc.array(segment, { maxLength: 5 }).map((p) => `/${p.join('/')}`) })
    const query = fc
      .array(fc.tuple(fc.constantFrom('limit', 'cursor', 'q', 'workspaceId', 'action', 'since', 'outcome'), fc.oneof(fc.string(), fc.integer().map(String), fc.constantFrom(...ids))), { maxLength: 3 })
      .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}` : ''))
    const token = fc.constantFrom(...cast.map((a) => a.auth))
    const auth = fc.option(
      fc.oneof(
        token,
        token.map((h) => `${h.slice(0, -2)}${h.endsWith('A') ? 'BB' : 'AA'}`), // a broken signature
        fc.string({ maxLength: 60 }),
        fc.string({ maxLength: 60 }).map((x) => `Bearer ${x}`),
        fc.constantFrom('Bearer', 'Bearer null', 'Basic xx', `Bearer ${'a'.repeat(5000)}`, 'Bearer a.b.c'),
      ),
      { nil: undefined },
    )
    const type = fc.option(
      fc.oneof(
        fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'application/merge-patch+json',
          'application/problem+json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml'),
        fc.string({ maxLength: 30 }).filter((x) => x.trim() === x && x.length > 0),
      ),
      { nil: undefined },
    )
    // Bodies shaped like the real ones (and mass-assignment attempts), with random values.
    const shaped = fc.record(
      {
        title: fc.oneof(fc.string({ minLength: 1 }), fc.jsonValue()), body: fc.oneof(fc.string(), fc.jsonValue()), workspaceId: fc.constantFrom(...ids), accountId: fc.constantFrom(...ids),
        role: fc.constantFrom('viewer', 'editor', 'admin', 'owner', 'account_admin'), accountRole: fc.constantFrom('admin', null, 'owner'),
        status: fc.constantFrom('active', 'suspended', 'deleted'), rateLimit: fc.jsonValue(), name: fc.string(), environment: fc.string(),
        email: fc.emailAddress(), password: fc.string(), grant_type: fc.constantFrom('password', 'refresh_token', 'x'), username: fc.string(), token: fc.string(),
      },
      { requiredKeys: [] },
    )
    const valid = fc.oneof(
      fc.constantFrom({ title: 't', body: 'b' }, { name: 'n', environment: 'staging' }, { status: 'active' }, { role: 'editor' }, { name: 'n' }),
      fc.record({ email: fc.emailAddress(), password: fc.constant('a-long-test-password'), role: fc.constantFrom('viewer', 'admin'), platformRole: fc.constant('support') }),
    )
    const body = fc.option(
      fc.oneof(fc.json(), fc.string({ unit: 'grapheme', maxLength: 200 }), { weight: 3, arbitrary: fc.oneof(shaped, valid).map((o) => JSON.stringify(o)) }),
      { nil: undefined },
    )

    const anything = fc.record({ method, path: fc.tuple(path, query).map(([p, q]) => p + q), auth, type, body })
    // A real caller on its own ids: these get past authentication and authorization into the handlers.
    const own = fc
      .record({
        actor: fc.constantFrom(...cast), op: fc.constantFrom(...operations), method: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: method }), query,
        type: fc.option(fc.constant('application/json'), { freq: 4, nil: undefined }), body,
      })
      .map(({ actor, op, method: m, query: q, ...r }): Req => ({
        ...r, method: m ?? (op.method.toUpperCase() as Method), auth: actor.auth,
        path: op.path.replace(/\{(\w+)\}/g, (_, n: string) => actor.ids[n] ?? n) + q,
      }))

    await fc.assert(
      fc.asyncProperty(fc.oneof(anything, own), async (r) => {
        const res = await send(r)
        expect(res.status, `${res.status} ${res.text}`).toBeLessThan(500)
        if (r.method !== 'HEAD' && res.type === 'application/problem+json') {
          expect(res.body.requestId).toBe(res.headers['x-request-id'])
          for (const re of INTERNALS) expect(res.text).not.toMatch(re)
        }
      }),
      { numRuns: 300 },
    )
  }, 180_000)
})

describe('NUL characters', () => {
  it('are refused with 400 problem+json wherever they appear, never 500', async () => {
    const tdb = await createTestDatabase('pglite')
    try {
      const s = await createTestServer(tdb.db)
      const t = await seedTopology(s)
      const ed = t.accounts[0].workspaces[0].users.editor
      const ws = t.accounts[0].workspaces[0].id
      const cases = [
        await s.call('POST', `/app/v1/workspaces/${ws}/documents`, ed.token, { title: 'a\u0000b', body: 'x' }),
        await s.call('GET', `/app/v1/workspaces/${ws}/documents?q=a%00b`, ed.token),
        await s.call('POST', '/portal/v1/accounts', await s.rootToken(), { name: 'a\u0000b' }),
      ]
      for (const res of cases) {
        expect(res.status).toBe(400)
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/)
      }
      const token = await s.call('POST', '/auth/token', undefined, { grant_type: 'password', username: 'a\u0000b@x.y', password: 'p' })
      expect(token.status).toBe(400)
      expect(token.body.error).toBe('invalid_request')
    } finally {
      await tdb.drop()
    }
  })
})
