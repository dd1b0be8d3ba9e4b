/**
 * The served surface is exactly the contract: every route Express would dispatch is a documented operation
 * with an `x-tenancy` annotation (an unannotated route is unaudited surface, DESIGN.md §2), and every
 * documented operation is served. Plus the two promises every response keeps: the document at
 * `/openapi.json` and an `X-Request-Id`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import request from 'supertest'
import type { Express } from 'express'
import { loadContract } from './contract.js'
import { createTestDatabase, type TestDatabase } from './testing/databases.js'
import { createTestServer, type TestServer } from './testing/server.js'

interface ServedRoute { method: string; path: string }

/** The Express 5 layers that carry a route, as `METHOD path`; mounted routers are walked with their prefix. */
function servedRoutes(app: Express): ServedRoute[] {
  const out: ServedRoute[] = []
  const walk = (stack: readonly unknown[], prefix: string) => {
    for (const layer of stack as { route?: { path: unknown; methods: Record<string, boolean> }; handle?: { stack?: unknown[] }; rawPath?: unknown }[]) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path]
        for (const path of paths) {
          // A RegExp or array path cannot match a contract template: it shows up as a mismatch, by design.
          for (const method of Object.keys(layer.route.methods)) out.push({ method: method.toUpperCase(), path: prefix + String(path) })
        }
      } else if (Array.isArray(layer.handle?.stack)) {
        const at = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : ''
        walk(layer.handle.stack, prefix + at)
      }
    }
  }
  const router = (app as unknown as { router?: { stack?: unknown[] } }).router
  if (!Array.isArray(router?.stack)) throw new Error('app.router.stack is missing: not an Express 5 app?')
  walk(router.stack, '')
  return out
}

const contract = loadContract()
const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`
const documented = new Map(contract.operations.map((op) => [key(op.method, op.expressPath), op]))
/** The raw document's own annotation, not the parsed copy: proves the yaml carries it. */
const rawTenancy = (path: string, method: string) =>
  ((contract.document['paths'] as Record<string, Record<string, Record<string, unknown>>>)[path]?.[method] ?? {})['x-tenancy']

// The surface does not depend on the storage driver; PGlite is enough here (the policy walk runs both).
let database: TestDatabase
let s: TestServer
beforeAll(async () => {
  database = await createTestDatabase('pglite')
  s = await createTestServer(database.db)
})
afterAll(async () => database?.drop())

describe('served routes ⇔ contract operations', () => {
  it('serves only documented, x-tenancy-annotated operations', () => {
    const routes = servedRoutes(s.app)
    expect(routes.length).toBeGreaterThan(0)
    const undocumented = routes.filter((r) => !documented.has(key(r.method, r.path))).map((r) => key(r.method, r.path))
    expect(undocumented, 'served but not in openapi.yaml (unaudited surface)').toEqual([])
    const unannotated = routes
      .map((r) => documented.get(key(r.method, r.path)))
      .filter((op) => op !== undefined && rawTenancy(op.path, op.method) === undefined)
      .map((op) => op!.operationId)
    expect(unannotated, 'served without an x-tenancy annotation').toEqual([])
  })

  it('serves every documented operation, each once', () => {
    const served = servedRoutes(s.app).map((r) => key(r.method, r.path))
    const missing = [...documented.entries()].filter(([k]) => !served.includes(k)).map(([k, op]) => `${op.operationId} (${k})`)
    expect(missing, 'in openapi.yaml but not served').toEqual([])
    const twice = served.filter((k, i) => served.indexOf(k) !== i)
    expect(twice, 'mounted more than once (the second never answers)').toEqual([])
  })
})

describe('GET /openapi.json', () => {
  it('returns the same document the server routes and authorizes from', async () => {
    const res = await s.call('GET', '/openapi.json')
    expect(res.status).toBe(200)
    expect(res.type).toBe('application/json')
    expect(res.body).toEqual(contract.document)
  })
})

describe('X-Request-Id', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
  const sample = '00000000-0000-4000-8000-000000000000'
  const concrete = (path: string) => path.replace(/\{\w+\}/g, sample)

  it('is on every response: each operation (anonymous), unknown routes, wrong methods, bad tokens', async () => {
    const calls: [string, string, string?][] = contract.operations.map((op) => [op.method, concrete(op.path)])
    calls.push(['get', '/no/such/route'], ['put', '/healthz'], ['get', `/app/v1/workspaces/${sample}/me`, 'not-a-jwt'])
    const without: string[] = []
    for (const [method, path, token] of calls) {
      const res = await s.call(method, path, token, method === 'get' || method === 'delete' ? undefined : {})
      if (!res.headers['x-request-id']) without.push(`${method.toUpperCase()} ${path} → ${res.status}`)
    }
    expect(without, 'responses without X-Request-Id').toEqual([])
  })

  it('echoes a safe client-sent id, on success and on error alike', async () => {
    for (const path of ['/healthz', `/app/v1/workspaces/${sample}/me`]) {
      const id = `audit-run.42:req_7-${path.length}`
      const res = await request(s.app).get(path).set('X-Request-Id', id)
      expect(res.headers['x-request-id'], path).toBe(id)
    }
    const res = await request(s.app).get('/no/such/route').set('X-Request-Id', 'abc-123')
    expect(res.status).toBe(404)
    expect(res.headers['x-request-id']).toBe('abc-123')
    expect(res.body).toMatchObject({ requestId: 'abc-123' })
  })

  it('replaces an unsafe client-sent id with a fresh one (it lands in logs and the audit trail)', async () => {
    for (const unsafe of ['has spaces', 'x'.repeat(129), 'semi;colon', '<script>']) {
      const res = await request(s.app).get('/healthz').set('X-Request-Id', unsafe)
      expect(res.headers['x-request-id'], unsafe).toMatch(UUID)
    }
  })

  it('gives each request its own id when the client sends none', async () => {
    const a = await s.call('GET', '/healthz')
    const b = await s.call('GET', '/healthz')
    expect(a.headers['x-request-id']).toMatch(UUID)
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id'])
  })
})
