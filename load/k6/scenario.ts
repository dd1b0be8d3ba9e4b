/**
 * Runs a tenant-audit load scenario with k6. `tenant-audit load SCENARIO --engine k6` runs it for you
 * when k6 is installed; by hand, prepare first (provisions the tenants and writes the files):
 *   tenant-audit load prepare noisy-neighbour --target PROFILE.yaml --out DIR
 *   k6 run -e SCENARIO_FILE=DIR/scenario.json -e TOKENS_FILE=DIR/tokens.json -e OUT_DIR=DIR load/k6/scenario.ts
 *   tenant-audit load cleanup DIR
 * Every request is tagged with its tenant and phase; thresholds are per tenant and per phase (see
 * lib/plan.ts); handleSummary writes DIR/summary.json (k6's data, verbatim), DIR/result.json (the
 * Node engine's shape) and DIR/junit.xml. Use absolute paths: open() resolves relative ones against
 * this script.
 */
import { SharedArray } from 'k6/data'
import exec from 'k6/execution'
import http from 'k6/http'
import { Counter } from 'k6/metrics'
import type { Options } from 'k6/options'
import { k6Scenarios, k6Thresholds } from './lib/plan.ts'
import { bearer } from './lib/session.ts'
import { junit, k6Result, text, type SummaryData } from './lib/summary.ts'
import type { Prepared, Scenario } from './lib/types.ts'

const SCENARIO_FILE = __ENV.SCENARIO_FILE
const TOKENS_FILE = __ENV.TOKENS_FILE
const OUT_DIR = __ENV.OUT_DIR ?? '.'
if (!SCENARIO_FILE || !TOKENS_FILE) throw new Error('set -e SCENARIO_FILE=… and -e TOKENS_FILE=… (written by `tenant-audit load prepare`)')

const scenario: Scenario = JSON.parse(open(SCENARIO_FILE))
// Tokens live once in memory, shared by every VU (never logged: k6 prints no request headers by default).
const prepared = new SharedArray<Prepared>('prepared', () => [JSON.parse(open(TOKENS_FILE)) as Prepared])
const startedAt = new Date().toISOString()

// Each counter gets a 0 or a 1 per request, so a tenant × phase with none still has its sub-metric.
/** 429s. */
const throttled = new Counter('throttled')
/** 2xx answers. */
const ok = new Counter('status_2xx')
/** 2xx answers to requests started after their phase's first second: the enforced-rate numerator, per phase. */
const accepted = new Counter('accepted')

export const options: Options = {
  scenarios: k6Scenarios(scenario),
  thresholds: k6Thresholds(scenario),
  summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max'],
  // Thresholds and tags must not multiply per object id: requests are named by action.
  systemTags: ['status', 'method', 'name', 'scenario', 'expected_response'],
}

const throttleExpected = new Set(scenario.tenants.filter((t) => t.expect.throttled !== 'never').map((t) => t.name))
// For tenants meant to be throttled a 429 is the limiter working, not a failed request.
const aggressorStatuses = http.expectedStatuses({ min: 200, max: 399 }, 429)

export function request(): void {
  const stream = scenario.streams[Number(__ENV.STREAM)]
  const target = prepared[0]
  if (!stream || !target) throw new Error(`no stream ${__ENV.STREAM}`)
  const tenant = target.tenants.find((t) => t.name === stream.tenant)
  const action = stream.action ?? scenario.action
  const path = tenant?.paths[action]
  if (!tenant || !path) throw new Error(`tokens file has no ${action} path for tenant ${stream.tenant}`)
  const tags = { tenant: stream.tenant, phase: stream.phase }
  const token = bearer(target, tenant)
  // Each stream is its own k6 scenario, started with its phase: its first second holds the burst.
  const steady = Date.now() - exec.scenario.startTime >= 1000
  const res = http.get(`${target.baseUrl}${path}`, {
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
    tags: { ...tags, name: action },
    timeout: `${scenario.bounds.timeoutMs}ms`,
    ...(throttleExpected.has(stream.tenant) ? { responseCallback: aggressorStatuses } : {}),
  })
  const is2xx = res.status >= 200 && res.status < 300
  throttled.add(res.status === 429 ? 1 : 0, tags)
  ok.add(is2xx ? 1 : 0, tags)
  accepted.add(is2xx && steady ? 1 : 0, tags)
}

export function handleSummary(data: SummaryData): Record<string, string> {
  const result = k6Result(scenario, data, { baseUrl: prepared[0]?.baseUrl ?? '', startedAt })
  return {
    [`${OUT_DIR}/summary.json`]: JSON.stringify(data, null, 1),
    [`${OUT_DIR}/result.json`]: JSON.stringify(result, null, 2) + '\n',
    [`${OUT_DIR}/junit.xml`]: junit(result),
    stdout: text(result),
  }
}
