/**
 * npm run bench:server — authenticated document GET throughput of the reference server on PGlite
 * and on Postgres, beside a bare node:http hello-world, measured in the same run on the same
 * machine, printed as ratios against the goals (Postgres ≥ 0.15, PGlite ≥ 0.05 of bare). Postgres
 * from TEST_DATABASE_URL / DATABASE_URL (or a testcontainers one). The bench account's quota is
 * lifted (the default, 1000 req/s per account, would cap the Postgres server): the limiter still
 * runs on every request. Each server also answers a denial (a document in a workspace outside the
 * caller's account: a 404 and its audit event), shown beside the goal: most of an isolation audit's
 * requests are denials.
 * Loopback only, bounded duration.
 */
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startServer, type RunningServer } from '../reference-server/server.js'
import { createTestDatabase, postgresAdminUrl, type TestDatabase } from '../reference-server/testing/databases.js'
import { closedLoop, table, type LoopResult } from './lib/closed-loop.js'
import { THROWAWAY_COST } from '../reference-server/auth/passwords.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const GOALS = { pglite: 0.05, pg: 0.15 }
const rateLimits = { accountDefault: { requestsPerSecond: 1_000_000, burst: 2_000_000 } }
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8)

async function json(url: string, method: string, body: unknown, token?: string): Promise<Record<string, string>> {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status}`)
  return (await res.json()) as Record<string, string>
}

/** One account, workspace, editor and document; returns the GET path and the editor's token. */
async function seed(s: RunningServer): Promise<{ path: string; token: string }> {
  const root = (await json(`${s.url}/auth/token`, 'POST', { grant_type: 'password', username: 'bench@platform.local', password: 'bench-password-123' })).access_token!
  const account = await json(`${s.url}/portal/v1/accounts`, 'POST', { name: 'bench' }, root)
  const ws = await json(`${s.url}/portal/v1/accounts/${account.id}/workspaces`, 'POST', { name: 'bench', environment: 'staging' }, root)
  await json(`${s.url}/portal/v1/accounts/${account.id}/workspaces/${ws.id}/users`, 'POST', { email: 'editor@bench.local', password: 'bench-password-123', role: 'editor' }, root)
  const token = (await json(`${s.url}/auth/token`, 'POST', { grant_type: 'password', username: 'editor@bench.local', password: 'bench-password-123' })).access_token!
  const doc = await json(`${s.url}/app/v1/workspaces/${ws.id}/documents`, 'POST', { title: 'bench', body: 'x'.repeat(512) }, token)
  return { path: `/app/v1/workspaces/${ws.id}/documents/${doc.id}`, token }
}

/**
 * The goal's route (the editor's own document), then a denial: the same editor asking for a document of a
 * workspace that is not its account's (404, and a denial event in its account's trail — what most of an
 * isolation audit's requests are). Shown beside the goal, not part of it.
 */
async function measure(s: RunningServer): Promise<{ allowed: LoopResult; denied: LoopResult }> {
  const { path, token } = await seed(s)
  const headers = { authorization: `Bearer ${token}` }
  const allowed = await closedLoop(s.url, { path, headers, seconds: SECONDS, connections: CONNECTIONS })
  const denied = await closedLoop(s.url, { path: `/app/v1/workspaces/${randomUUID()}/documents/${randomUUID()}`, headers, seconds: SECONDS, connections: CONNECTIONS, expectStatus: 404 })
  return { allowed, denied }
}

const hello = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"world"}'))
await new Promise<void>((r) => hello.listen(0, '127.0.0.1', () => r()))
const helloUrl = `http://127.0.0.1:${(hello.address() as AddressInfo).port}`
const bootstrap = { email: 'bench@platform.local', password: 'bench-password-123' }

const rows: { name: string; r: LoopResult; base?: LoopResult; goal?: number }[] = []
const base = await closedLoop(helloUrl, { path: '/', seconds: SECONDS, connections: CONNECTIONS })
rows.push({ name: 'node:http hello-world', r: base })

const pglite = await startServer({ bootstrap, settings: { passwordCost: THROWAWAY_COST }, rateLimits })
const onPglite = await measure(pglite)
rows.push({ name: 'reference server, PGlite', r: onPglite.allowed, base, goal: GOALS.pglite }, { name: '  the same, denied (404)', r: onPglite.denied, base })
await pglite.close()

let pgDb: TestDatabase | undefined
if (await postgresAdminUrl()) {
  pgDb = await createTestDatabase('pg')
  const pgServer = await startServer({ db: pgDb.db, bootstrap, settings: { passwordCost: THROWAWAY_COST }, rateLimits })
  const onPg = await measure(pgServer)
  rows.push({ name: 'reference server, Postgres', r: onPg.allowed, base, goal: GOALS.pg }, { name: '  the same, denied (404)', r: onPg.denied, base })
  await pgServer.close()
  await pgDb.drop()
} else {
  process.stdout.write('(no Postgres: set DATABASE_URL or TEST_DATABASE_URL to include it)\n')
}
hello.close()
const goals = rows.flatMap(({ name, r, base: b, goal }) => {
  if (!b || goal === undefined) return []
  const ratio = r.rps / b.rps
  return [`${name}: ${ratio.toFixed(3)}× bare node:http (goal ≥ ${goal}: ${ratio >= goal ? 'met' : 'not met'})`]
})
process.stdout.write(`authenticated GET of one document (then of one outside the caller's account: denied), ${CONNECTIONS} connections, ${SECONDS} s each, same machine, same run\n${table(rows)}\n${goals.join('\n')}\n`)
