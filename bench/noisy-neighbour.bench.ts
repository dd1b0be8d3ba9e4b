/**
 * npm run bench:noisy-neighbour — the noisy-neighbour scenario (fixtures/load/noisy-neighbour.yaml)
 * with the Node driver against the reference server on loopback, bounded: the victim's p95 and error
 * rate in its baseline phase and under a 10× flood from the aggressor, in the same run; the ratio;
 * throttles per tenant; the enforced rate against the quota; the p95 of 429s against the p95 of
 * 200s. Prints the figures and whether each goal is met; it never fails on timing.
 *
 * The server runs in its own process (`tenant-audit serve --port 0`, in-memory limiter, request log
 * off), so the driver's event loop and the server's do not share one thread: once on embedded
 * PGlite, and once on Postgres when TEST_DATABASE_URL (or DATABASE_URL) is set (its own database,
 * dropped after). BENCH_SCENARIO picks another scenario (name or file).
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadScenario, type Scenario } from '../fixtures/load/scenario.js'
import { formatResult } from '../load/driver/format.js'
import type { GroupSummary, LoadResult } from '../load/driver/index.js'
import { runNodeEngine } from '../harness/cli/load.js'
import { createTestDatabase, postgresAdminUrl } from '../reference-server/testing/databases.js'

const BIN = fileURLToPath(new URL('../bin/tenant-audit.js', import.meta.url))
const REFERENCE = fileURLToPath(new URL('../fixtures/targets/reference.yaml', import.meta.url))

/** Starts `tenant-audit serve` in a child process, runs the scenario against it, stops it. */
async function runAgainstServer(s: Scenario, serverEnv: Record<string, string>): Promise<LoadResult> {
  // The in-memory limiter and no faults, whatever this shell points at; the database only as given.
  const { DATABASE_URL: _db, DATABASE_RUNTIME_URL: _rt, REDIS_URL: _redis, FAULTS: _faults, ...env } = process.env
  const server = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { env: { ...env, LOG_LEVEL: 'silent', ...serverEnv }, stdio: ['ignore', 'ignore', 'pipe'] })
  const dir = mkdtempSync(join(tmpdir(), 'ta-bench-'))
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let err = ''
      server.stderr!.on('data', (d: Buffer) => {
        err += d
        const m = /listening on (http:\/\/\S+)/.exec(err)
        if (m) resolve(m[1]!)
      })
      server.once('exit', (code) => reject(new Error(`the reference server exited (${code}): ${err.trim()}`)))
    })
    const profile = join(dir, 'target.yaml')
    writeFileSync(profile, readFileSync(REFERENCE, 'utf8').replace(/^baseUrl: .*$/m, `baseUrl: ${url}`))
    return await runNodeEngine(s, profile)
  } finally {
    server.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${v.toFixed(1)} ms`)

/** The headline figures: victim p95 and errors per phase against its baseline, throttles, enforced rate, 429 vs 2xx p95. */
function headline(s: Scenario, result: LoadResult): string[] {
  const lines: string[] = []
  const group = (tenant: string, phase: string): GroupSummary | undefined => result.groups.find((g) => g.tenant === tenant && g.phase === phase)
  const nonOk = (x: GroupSummary | undefined) => (x ? `${(((x.errors + x.throttled) / Math.max(1, x.ok + x.throttled + x.errors)) * 100).toFixed(2)}%` : '-')
  for (const t of s.tenants) {
    const base = t.expect.p95?.baselinePhase
    if (!base) continue
    const b = group(t.name, base)
    for (const g of result.groups.filter((x) => x.tenant === t.name && x.phase !== base && (!t.expect.p95?.phases || t.expect.p95.phases.includes(x.phase)))) {
      const ratio = b?.latency.p95 && g.latency.p95 ? g.latency.p95 / b.latency.p95 : null
      lines.push(`${t.name}: p95 ${base} ${fmt(b?.latency.p95)} → ${g.phase} ${fmt(g.latency.p95)} (contended/baseline ${ratio === null ? '-' : ratio.toFixed(2)}×); non-2xx ${nonOk(b)} → ${nonOk(g)}`)
    }
  }
  for (const t of s.tenants) {
    const mine = result.groups.filter((g) => g.tenant === t.name)
    lines.push(`${t.name}: throttled ${mine.reduce((n, g) => n + g.throttled, 0)} of ${mine.reduce((n, g) => n + g.ok + g.throttled + g.errors, 0)}`)
  }
  for (const t of result.tenants) {
    if (t.quota && t.enforcedRate !== null) {
      lines.push(`${t.tenant}: enforced ${t.enforcedRate.toFixed(2)}/s against a quota of ${t.quota.requestsPerSecond}/s (${(((t.enforcedRate - t.quota.requestsPerSecond) / t.quota.requestsPerSecond) * 100).toFixed(1)}%)`)
    }
  }
  for (const g of result.groups.filter((x) => x.throttled > 0)) {
    const ratio = g.latencyThrottled.p95 && g.latencyOk.p95 ? g.latencyThrottled.p95 / g.latencyOk.p95 : null
    lines.push(`${g.tenant} ${g.phase}: p95 of 429s ${fmt(g.latencyThrottled.p95)} against p95 of 2xx ${fmt(g.latencyOk.p95)} (${ratio === null ? '-' : ratio.toFixed(2)}×)`)
  }
  lines.push(`goals met: ${result.goals.filter((g) => g.met).length}/${result.goals.length}`)
  return lines
}

const s = loadScenario(process.env.BENCH_SCENARIO ?? 'noisy-neighbour')
process.env.BOOTSTRAP_PRINCIPAL_EMAIL = 'bench@platform.local'
process.env.BOOTSTRAP_PRINCIPAL_PASSWORD = randomBytes(18).toString('base64url')
const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ')

const runs: { name: string; env: () => Promise<{ env: Record<string, string>; done: () => Promise<void> }> }[] = [
  { name: 'PGlite (embedded, in the server process)', env: async () => ({ env: {}, done: async () => {} }) },
]
if (await postgresAdminUrl()) {
  runs.push({
    name: 'Postgres',
    env: async () => {
      const db = await createTestDatabase('pg')
      return { env: { DATABASE_URL: db.url!, ...(db.runtimeUrl ? { DATABASE_RUNTIME_URL: db.runtimeUrl } : {}) }, done: () => db.drop() }
    },
  })
} else {
  process.stdout.write('(no Postgres: set TEST_DATABASE_URL to add a run on it)\n')
}

for (const r of runs) {
  const { env, done } = await r.env()
  const before = loadavg()
  try {
    const result = await runAgainstServer(s, env)
    process.stdout.write([`== ${s.name} on the reference server, ${r.name}`, formatResult(result), '', ...headline(s, result),
      `machine: ${availableParallelism()} CPUs, load average ${load(before)} before and ${load(loadavg())} after (shared: compare the phases of one run, not runs with each other)`, '', ''].join('\n'))
  } finally {
    await done()
  }
}
