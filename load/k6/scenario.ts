/**
 * Runs a tenant-audit load scenario with k6. Prepare first (provisions the tenants and writes both files):
 *   tenant-audit load prepare noisy-neighbour --target PROFILE.yaml --out DIR
 *   k6 run -e SCENARIO_FILE=DIR/scenario.json -e TOKENS_FILE=DIR/tokens.json -e OUT_DIR=DIR load/k6/scenario.ts
 * Every request is tagged with its tenant and phase; thresholds are per tenant (see lib/plan.ts);
 * handleSummary writes DIR/summary.json and DIR/junit.xml. Use absolute paths: open() resolves
 * relative ones against this script.
 */
import { SharedArray } from 'k6/data'
import exec from 'k6/execution'
import http from 'k6/http'
import { Counter } from 'k6/metrics'
import type { Options } from 'k6/options'
import { k6Scenarios, k6Thresholds } from './lib/plan.ts'
import { junit, relativeGoals, text, type SummaryData } from './lib/summary.ts'
import type { Prepared, Scenario } from './lib/types.ts'

const SCENARIO_FILE = __ENV.SCENARIO_FILE
const TOKENS_FILE = __ENV.TOKENS_FILE
const OUT_DIR = __ENV.OUT_DIR ?? '.'
if (!SCENARIO_FILE || !TOKENS_FILE) throw new Error('set -e SCENARIO_FILE=… and -e TOKENS_FILE=… (written by `tenant-audit load prepare`)')

const scenario: Scenario = JSON.parse(open(SCENARIO_FILE))
// Tokens live once in memory, shared by every VU (never logged: k6 prints no request headers by default).
const prepared = new SharedArray<Prepared>('prepared', () => [JSON.parse(open(TOKENS_FILE)) as Prepared])

/** 429s per tenant (and 0 for every other answer, so a tenant that is never throttled still has the sub-metric). */
const throttled = new Counter('throttled')
/** 2xx after the first second of each scenario: the enforced-rate numerator (lib/plan.ts steadySeconds). */
const accepted = new Counter('accepted_steady')

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
  const res = http.get(`${target.baseUrl}${path}`, {
    headers: { Authorization: `Bearer ${tenant.token}`, Accept: 'application/json' },
    tags: { ...tags, name: action },
    timeout: `${scenario.bounds.timeoutMs}ms`,
    ...(throttleExpected.has(stream.tenant) ? { responseCallback: aggressorStatuses } : {}),
  })
  throttled.add(res.status === 429 ? 1 : 0, tags)
  if (res.status >= 200 && res.status < 300 && Date.now() - exec.scenario.startTime >= 1000) accepted.add(1, tags)
}

export function handleSummary(data: SummaryData): Record<string, string> {
  const goals = relativeGoals(scenario, data)
  return {
    [`${OUT_DIR}/summary.json`]: JSON.stringify({ scenario: scenario.name, engine: 'k6', goals, metrics: data.metrics, state: data.state }, null, 2),
    [`${OUT_DIR}/junit.xml`]: junit(scenario, data, goals),
    stdout: text(scenario, data, goals),
  }
}
