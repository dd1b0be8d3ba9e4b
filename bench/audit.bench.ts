/**
 * npm run bench:audit — the default audit's wall time, requests sent and requests per second, and
 * beside it, in the same run, the raw request rate a plain load generator reaches on the same kind
 * of route of the same reference server: the ratio is what the harness's own work (generation,
 * judging, canary scans, shrinking, reports, Vitest) costs. Loopback only, bounded.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startServer } from '../reference-server/server.js'
import { closedLoop } from './lib/closed-loop.js'
import { THROWAWAY_COST } from '../reference-server/auth/passwords.js'

const SEED = process.env.BENCH_SEED ?? '1'
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const out = join(mkdtempSync(join(tmpdir(), 'ta-bench-')), 'audit')

const t0 = Date.now()
const code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, [join(ROOT, 'bin/tenant-audit.js'), 'run', '--seed', SEED, '--out', out], { cwd: ROOT, env: { ...process.env, CI: 'true' }, stdio: 'inherit' })
  child.on('close', (c) => resolve(c ?? -1))
})
const wall = (Date.now() - t0) / 1000
const report = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as { run: { requests: number; durationMs: number }; checks: { id: string; requests: number; durationMs: number }[] }

// The same server, the same kind of route (an authenticated document GET), no harness in between.
const bootstrap = { email: 'bench@platform.local', password: 'bench-password-123' }
const server = await startServer({ bootstrap, settings: { passwordCost: THROWAWAY_COST } })
const post = async (path: string, body: unknown, token?: string) => {
  const res = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })
  return (await res.json()) as Record<string, string>
}
const root = (await post('/auth/token', { grant_type: 'password', username: bootstrap.email, password: bootstrap.password })).access_token
const account = await post('/portal/v1/accounts', { name: 'bench' }, root)
const ws = await post(`/portal/v1/accounts/${account.id}/workspaces`, { name: 'bench', environment: 'staging' }, root)
await post(`/portal/v1/accounts/${account.id}/workspaces/${ws.id}/users`, { email: 'e@bench.local', password: bootstrap.password, role: 'editor' }, root)
const token = (await post('/auth/token', { grant_type: 'password', username: 'e@bench.local', password: bootstrap.password })).access_token
const doc = await post(`/app/v1/workspaces/${ws.id}/documents`, { title: 'bench', body: 'x' }, token)
// One connection: the audit sends its requests one at a time too.
const raw = await closedLoop(server.url, { path: `/app/v1/workspaces/${ws.id}/documents/${doc.id}`, headers: { authorization: `Bearer ${token}` }, connections: 1, seconds: 5 })
await server.close()

const auditRps = report.run.requests / (report.run.durationMs / 1000)
process.stdout.write([
  `default audit (seed ${SEED}, exit ${code}): wall ${wall.toFixed(1)} s (audit ${(report.run.durationMs / 1000).toFixed(1)} s), ${report.run.requests} requests, ${auditRps.toFixed(0)} req/s`,
  ...report.checks.map((c) => `  ${c.id.padEnd(34)} ${String(c.requests).padStart(6)} req ${(c.durationMs / 1000).toFixed(1).padStart(7)} s`),
  `plain load generator, same server, same route, 1 connection: ${raw.rps.toFixed(0)} req/s (p95 ${raw.p95.toFixed(1)} ms)`,
  `ratio harness / raw: ${(auditRps / raw.rps).toFixed(2)} (the rest is the harness's own work and provisioning)`,
].join('\n') + '\n')
