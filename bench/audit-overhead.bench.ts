/**
 * npm run bench:audit-overhead — document-write throughput of the reference server with the audit
 * trail on (every PATCH appends a hash-chained event in its own transaction, serialised per account),
 * beside the same writes with it off (`settings.audit: false`, accepted only with TA_BENCH_AUDIT_OFF=1,
 * which this script sets), on PGlite and on Postgres when one is reachable, measured in one run on the
 * same machine (off and on alternating) and printed as ratios. Loopback only, bounded duration.
 */
import { startServer, type RunningServer } from '../reference-server/server.js'
import { createTestDatabase, postgresAdminUrl } from '../reference-server/testing/databases.js'
import { BENCH_AUDIT_OFF_ENV } from '../reference-server/audit/recorder.js'
import { closedLoop, type LoopResult } from './lib/closed-loop.js'
import { THROWAWAY_COST } from '../reference-server/auth/passwords.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8)
const bootstrap = { email: 'bench@platform.local', password: 'bench-password-123' }
process.env[BENCH_AUDIT_OFF_ENV] = '1'

async function json(url: string, method: string, body: unknown, token?: string): Promise<Record<string, string>> {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status}`)
  return (await res.json()) as Record<string, string>
}

/**
 * One document per connection, each rewritten by an editor; the connections' documents live in one
 * account (every write appends to the same chain: the worst case, they queue on its head) or spread
 * over `accounts` accounts round-robin. Returns each connection's PATCH path and token.
 */
async function seed(s: RunningServer, accounts: number): Promise<{ path: string; token: string }[]> {
  const root = (await json(`${s.url}/auth/token`, 'POST', { grant_type: 'password', username: bootstrap.email, password: bootstrap.password })).access_token!
  const tenants: { ws: string; token: string }[] = []
  for (let a = 0; a < accounts; a++) {
    const account = await json(`${s.url}/portal/v1/accounts`, 'POST', { name: `bench ${a}` }, root)
    const ws = await json(`${s.url}/portal/v1/accounts/${account.id}/workspaces`, 'POST', { name: 'bench', environment: 'staging' }, root)
    const email = `editor-${a}@bench.local`
    await json(`${s.url}/portal/v1/accounts/${account.id}/workspaces/${ws.id}/users`, 'POST', { email, password: 'bench-password-123', role: 'editor' }, root)
    const token = (await json(`${s.url}/auth/token`, 'POST', { grant_type: 'password', username: email, password: 'bench-password-123' })).access_token!
    tenants.push({ ws: ws.id!, token })
  }
  const out: { path: string; token: string }[] = []
  for (let i = 0; i < CONNECTIONS; i++) {
    const { ws, token } = tenants[i % accounts]!
    const doc = await json(`${s.url}/app/v1/workspaces/${ws}/documents`, 'POST', { title: `bench ${i}`, body: 'x'.repeat(512) }, token)
    out.push({ path: `/app/v1/workspaces/${ws}/documents/${doc.id}`, token })
  }
  return out
}

/** Closed loop of PATCHes: each connection rewrites its own document as soon as the last write answered. */
async function writeLoop(s: RunningServer, accounts: number): Promise<LoopResult> {
  const conns = await seed(s, accounts)
  return closedLoop(s.url, {
    connections: CONNECTIONS,
    seconds: SECONDS,
    warmup: 1,
    request: (c, n) => ({
      method: 'PATCH',
      path: conns[c]!.path,
      headers: { authorization: `Bearer ${conns[c]!.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: `write ${c}.${n}` }),
    }),
  })
}

interface Row { name: string; off: LoopResult; on: LoopResult; ratios: number[] }
const rows: Row[] = []
// Off and on alternate, ROUNDS times each: on a shared, noisy machine one pair of runs can be skewed by a
// neighbour; the per-round ratios show how much, the summed throughput gives the figure.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)

function sum(rs: LoopResult[]): LoopResult {
  const requests = rs.reduce((n, r) => n + r.requests, 0)
  const seconds = rs.reduce((n, r) => n + r.seconds, 0)
  const worst = (k: 'p50' | 'p95' | 'p99') => Math.max(...rs.map((r) => r[k]))
  return { requests, errors: rs.reduce((n, r) => n + r.errors, 0), seconds, rps: requests / seconds, p50: worst('p50'), p95: worst('p95'), p99: worst('p99') }
}

async function pair(name: string, accounts: number, open: (audit: boolean) => Promise<{ server: RunningServer; done(): Promise<void> }>): Promise<void> {
  const results: Record<'on' | 'off', LoopResult[]> = { on: [], off: [] }
  for (let round = 0; round < ROUNDS; round++) {
    for (const audit of [false, true]) {
      const { server, done } = await open(audit)
      try {
        results[audit ? 'on' : 'off'].push(await writeLoop(server, accounts))
      } finally {
        await server.close()
        await done()
      }
    }
  }
  rows.push({ name, off: sum(results.off), on: sum(results.on), ratios: results.on.map((r, i) => r.rps / results.off[i]!.rps) })
}

const pgliteServer = async (audit: boolean) => ({ server: await startServer({ bootstrap, settings: { audit, passwordCost: THROWAWAY_COST } }), done: async () => undefined })
await pair('PGlite, 1 account', 1, pgliteServer)
if (await postgresAdminUrl()) {
  const pgServer = async (audit: boolean) => {
    const tdb = await createTestDatabase('pg')
    return { server: await startServer({ db: tdb.db, bootstrap, settings: { audit, passwordCost: THROWAWAY_COST } }), done: () => tdb.drop() }
  }
  await pair('Postgres, 1 account', 1, pgServer)
  await pair(`Postgres, ${CONNECTIONS} accounts`, CONNECTIONS, pgServer)
} else {
  process.stdout.write('(no Postgres: set DATABASE_URL or TEST_DATABASE_URL to include it)\n')
}

const fmt = (r: LoopResult) => r.rps.toFixed(0).padStart(9) + r.p50.toFixed(2).padStart(9) + r.p95.toFixed(2).padStart(9) + String(r.errors).padStart(7)
process.stdout.write(`document PATCH throughput, audit trail off vs on, ${CONNECTIONS} connections, ${ROUNDS} × ${SECONDS} s each, alternating, same machine, same run\n`)
process.stdout.write('driver, writers in'.padEnd(22) + 'off: req/s   p50 ms   p95 ms errors' + '     on: req/s   p50 ms   p95 ms errors' + '   on/off throughput (per round)\n')
for (const { name, off, on, ratios } of rows) {
  process.stdout.write(name.padEnd(22) + fmt(off) + ' '.repeat(4) + fmt(on) + `   ${(on.rps / off.rps).toFixed(3)}× (${ratios.map((r) => r.toFixed(2)).join(', ')})\n`)
}
