/**
 * npm run bench:audit [-- --json] — where an audit's time goes, and how it compares:
 *  1. the default audit (`tenant-audit run`, embedded server, all suites): wall time, requests, checked
 *     requests per second, and its phases (findings.json `run.phases`: provisioning, Vitest start-up,
 *     checks, report writing, teardown), each check's time, and the embedded server's busy time (time
 *     with a request in flight, counted through Node's http.server diagnostics channels) against the rest,
 *     and where the CPU went (the serving process's main thread and other threads, its Vitest worker, the
 *     password KDF's scrypt calls: bench/lib/server-busy.mjs);
 *  2. a plain load generator at the same concurrency on the same kind of server and route (an
 *     authenticated document GET), and the ratio harness / raw;
 *  3. the same audit against a target 20 ms away (a loopback delay proxy adding 10 ms each way in
 *     front of a reference server started here with the embedded server's settings), against the
 *     zero-delay wall time.
 * With --json the same figures are one JSON object on the last line (wallSeconds, requests, harnessRps,
 * rawRps, ratio, delayWallSeconds, delayRatio, breakdown: phases, checks, cpu, kdf). BENCH_SEED (1), BENCH_CONCURRENCY (passed as
 * --concurrency when `run` has that flag), BENCH_DELAY_MS (20; 0 skips the delay run). Loopback only, bounded.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { exportJWK, generateKeyPair } from 'jose'
import { startServer, startThrowawayServer } from '../reference-server/server.js'
import { THROWAWAY_COST } from '../reference-server/auth/passwords.js'
import { startProxy } from '../test/support/proxy.js'
import type { AuditReport, RunPhases } from '../harness/core/run-result.js'
import { closedLoop } from './lib/closed-loop.js'

const JSON_OUT = process.argv.includes('--json')
const SEED = process.env.BENCH_SEED ?? '1'
const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 20)
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = join(ROOT, 'bin/tenant-audit.js')
const BUSY = pathToFileURL(join(ROOT, 'bench/lib/server-busy.mjs')).href
const work = mkdtempSync(join(tmpdir(), 'ta-bench-'))
const log = (line: string) => (JSON_OUT ? process.stderr : process.stdout).write(line + '\n')

// Concurrency: BENCH_CONCURRENCY goes to `run --concurrency` when that flag exists; without it the harness sends one request at a time.
const help = spawnSync(process.execPath, [BIN, 'run', '--help'], { cwd: ROOT, encoding: 'utf8' }).stdout ?? ''
const hasConcurrency = /--concurrency\b/.test(help)
const helpDefault = /--concurrency[^\n]*\(default:?\s*(\d+)\)/.exec(help)?.[1]
const concurrency = hasConcurrency ? Number(process.env.BENCH_CONCURRENCY ?? helpDefault ?? 8) : 1
if (process.env.BENCH_CONCURRENCY && !hasConcurrency) log(`(BENCH_CONCURRENCY ignored: this tenant-audit run has no --concurrency flag; 1 request at a time)`)
const concurrencyArgs = hasConcurrency && process.env.BENCH_CONCURRENCY ? ['--concurrency', process.env.BENCH_CONCURRENCY] : []

/** What bench/lib/server-busy.mjs counted in the process that served the audit (the CLI, with its embedded server). */
interface Busy {
  requests: number
  busyMs: number
  /** The process's CPU: all its threads, its main thread alone (Linux), and its reaped children (the Vitest worker; Linux). */
  cpu?: { processMs: number; mainThreadMs?: number; childrenMs?: number }
  /** The password KDF's scrypt calls, and their CPU estimated as calls × one call of the same cost timed alone. */
  kdf?: { calls: number; estimatedMs: number }
}
interface Audit { code: number; wall: number; report: AuditReport; busy: Busy }

async function audit(name: string, args: string[], env: Record<string, string> = {}): Promise<Audit> {
  const out = join(work, name)
  const busyDir = join(work, `${name}-busy`)
  mkdirSync(busyDir, { recursive: true })
  const t0 = performance.now()
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [BIN, 'run', '--seed', SEED, '--out', out, ...concurrencyArgs, ...args], {
      cwd: ROOT,
      env: { ...process.env, CI: 'true', ...env, BENCH_BUSY_DIR: busyDir, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${BUSY}`.trim() },
      stdio: ['ignore', JSON_OUT ? 'ignore' : 'inherit', 'inherit'],
    })
    child.on('close', (c) => resolve(c ?? -1))
  })
  const wall = (performance.now() - t0) / 1000
  const report = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as AuditReport
  const busy: Busy = { requests: 0, busyMs: 0 }
  for (const f of readdirSync(busyDir)) {
    const b = JSON.parse(readFileSync(join(busyDir, f), 'utf8')) as Busy
    busy.requests += b.requests
    busy.busyMs += b.busyMs
    busy.cpu ??= b.cpu
    busy.kdf ??= b.kdf
  }
  return { code, wall, report, busy }
}

// 1. The default audit.
const main = await audit('audit', [])
const { report } = main
const harnessRps = report.run.requests / main.wall

// 2. A plain load generator: same server code and settings as the embedded one, same kind of route,
// same concurrency. The account quota is lifted so the raw rate is the server's, not the limiter's.
const bootstrap = { email: 'bench@platform.local', password: 'bench-password-123' }
const server = await startServer({ bootstrap, settings: { passwordCost: THROWAWAY_COST }, rateLimits: { accountDefault: { requestsPerSecond: 1_000_000, burst: 2_000_000 } } })
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
const raw = await closedLoop(server.url, { path: `/app/v1/workspaces/${ws.id}/documents/${doc.id}`, headers: { authorization: `Bearer ${token}` }, connections: concurrency, seconds: 5 })
await server.close()

// 3. The same audit against a target DELAY_MS away: a reference server started here (embedded
// settings, a test issuer it trusts, as the embedded one does) behind the delay proxy.
let delay: Audit | undefined
if (DELAY_MS > 0) {
  const kid = 'bench-test-issuer'
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
  const target = await startThrowawayServer({ bootstrap, trustedKeys: [{ kid, alg: 'ES256', jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } }] })
  const proxy = await startProxy({ target: target.url, delay: { request: DELAY_MS / 2, response: DELAY_MS / 2 }, maxConnections: Math.max(8, concurrency * 2) })
  try {
    delay = await audit('delay', ['--target', join(ROOT, 'fixtures/targets/reference.yaml')], {
      TENANT_AUDIT_BASE_URL: proxy.url,
      BOOTSTRAP_PRINCIPAL_EMAIL: bootstrap.email,
      BOOTSTRAP_PRINCIPAL_PASSWORD: bootstrap.password,
      TENANT_AUDIT_TEST_ISSUER_JWK: JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'ES256' }),
    })
  } finally {
    await proxy.close()
    await target.close()
  }
}

const phases: RunPhases | undefined = report.run.phases
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const pct = (ms: number) => `${((100 * ms) / (main.wall * 1000)).toFixed(0)} %`
const breakdown = {
  ...(phases ?? {}),
  serverBusyMs: Math.round(main.busy.busyMs),
  harnessMs: Math.round(main.wall * 1000 - main.busy.busyMs),
  ...(main.busy.cpu ? { cpu: main.busy.cpu } : {}),
  ...(main.busy.kdf ? { kdf: main.busy.kdf } : {}),
  checks: Object.fromEntries(report.checks.map((c) => [c.id, { requests: c.requests, ms: c.durationMs }])),
}
const ratio = harnessRps / raw.rps
/** Where the CPU went (2 cores: the embedded server and the checks share them): the server process by thread, the Vitest worker, the KDF. */
function cpuLines({ cpu, kdf }: Busy): string[] {
  if (!cpu) return []
  const other = cpu.mainThreadMs === undefined ? undefined : cpu.processMs - cpu.mainThreadMs
  return [
    `  CPU of the process that served it (CLI + embedded server): ${s(cpu.processMs)}${cpu.mainThreadMs === undefined ? '' : ` = main thread ${s(cpu.mainThreadMs)} + other threads ${s(other!)} (libuv pool, GC, compiler)`}`,
    ...(kdf ? [`    of which the password KDF: ${kdf.calls} scrypt calls, ~${s(kdf.estimatedMs)} (${((100 * kdf.estimatedMs) / cpu.processMs).toFixed(0)} %; each call timed alone at exit, times the calls)`] : []),
    ...(cpu.childrenMs === undefined ? [] : [`  CPU of the Vitest worker (the checks' side): ${s(cpu.childrenMs)}`]),
  ]
}
const delayRatio = delay ? delay.wall / main.wall : undefined
log([
  `default audit (seed ${SEED}, exit ${main.code}, concurrency ${concurrency}): wall ${main.wall.toFixed(1)} s, ${report.run.requests} requests, ${harnessRps.toFixed(0)} checked req/s`,
  ...(phases ? [
    'where the time went:',
    `  provisioning                ${s(phases.prepareMs).padStart(9)}  ${pct(phases.prepareMs)}`,
    `  Vitest start-up             ${s(phases.vitestStartMs).padStart(9)}  ${pct(phases.vitestStartMs)}`,
    `  checks                      ${s(phases.checksMs).padStart(9)}  ${pct(phases.checksMs)}`,
    `  report writing, shutdown    ${s(phases.reportMs).padStart(9)}  ${pct(phases.reportMs)}`,
    `  teardown                    ${s(phases.teardownMs).padStart(9)}  ${pct(phases.teardownMs)}`,
  ] : ['(no run.phases in findings.json: no breakdown)']),
  `  server busy (≥ 1 request in flight) ${s(main.busy.busyMs)} = ${pct(main.busy.busyMs)} of wall, ${main.busy.requests} requests served; harness and idle ${s(main.wall * 1000 - main.busy.busyMs)}`,
  ...cpuLines(main.busy),
  'checks:',
  ...report.checks.map((c) => `  ${c.id.padEnd(40)} ${String(c.requests).padStart(6)} req ${s(c.durationMs).padStart(9)}`),
  `plain load generator, same server code, same route, ${concurrency} connection(s): ${raw.rps.toFixed(0)} req/s (p95 ${raw.p95.toFixed(1)} ms, ${raw.errors} errors)`,
  `ratio harness / raw: ${ratio.toFixed(2)} (goal ≥ 0.50)`,
  ...(delay ? [`${DELAY_MS} ms away (delay proxy): wall ${delay.wall.toFixed(1)} s (exit ${delay.code}, ${delay.report.run.requests} requests), ${delayRatio!.toFixed(2)}× the zero-delay wall (goal ≤ 2; one request at a time would be ~${(1 + (delay.report.run.requests * DELAY_MS) / 1000 / main.wall).toFixed(1)}×)`] : ['(delay run skipped: BENCH_DELAY_MS=0)']),
].join('\n'))
if (JSON_OUT) {
  process.stdout.write(JSON.stringify({
    wallSeconds: Number(main.wall.toFixed(2)), requests: report.run.requests, harnessRps: Number(harnessRps.toFixed(1)), rawRps: Number(raw.rps.toFixed(1)),
    ratio: Number(ratio.toFixed(3)), delayWallSeconds: delay ? Number(delay.wall.toFixed(2)) : null, delayRatio: delayRatio === undefined ? null : Number(delayRatio.toFixed(3)),
    concurrency, seed: Number(SEED), exitCode: main.code, breakdown,
  }) + '\n')
}
