import type { Scenario } from '../../fixtures/load/scenario.js'
import { HarnessError } from '../../harness/core/errors.js'
import { runOpenModel, type StreamRequest } from './open-model.js'
import type { ThresholdResult } from './k6-lib.js'
import type { PreparedLoad } from './prepared.js'
import { buildSchedule, hardDeadline } from './schedule.js'
import { TokenKeeper, type RefreshGrant } from './tokens.js'
import { evaluate, summarise, tenantSummaries, type GroupSummary, type Goal, type TenantSummary } from './summary.js'

export { assertLoopback, isLoopbackHost } from './loopback.js'
export { buildSchedule, hardDeadline, type Slot } from './schedule.js'
export { runOpenModel, type RequestRecord, type StreamRequest } from './open-model.js'
export type { PreparedLoad, PreparedSession, PreparedTenant } from './prepared.js'
export type { GroupSummary, Goal, TenantSummary, Percentiles } from './summary.js'
export { TokenKeeper, type RefreshGrant } from './tokens.js'

/** The JSON result of one run (`result.json`), of either engine (k6: load/k6/lib/summary.ts k6Result). Holds no token. */
export interface LoadResult {
  schemaVersion: 1
  scenario: string
  engine: 'node' | 'k6'
  target: { baseUrl: string }
  startedAt: string
  durationMs: number
  requests: { scheduled: number; sent: number; dropped: number }
  groups: GroupSummary[]
  tenants: TenantSummary[]
  goals: Goal[]
  /** k6 only: the thresholds k6 judged itself (a crossed one makes k6 exit 99). */
  thresholds?: ThresholdResult[]
}

/** The request each stream sends: its action's path for its tenant, with the tenant's current bearer token. */
export function streamRequests(s: Scenario, prepared: PreparedLoad, tokens: TokenKeeper = new TokenKeeper(prepared)): (() => StreamRequest)[] {
  return s.streams.map((st) => {
    const tenant = prepared.tenants.find((t) => t.name === st.tenant)
    const action = st.action ?? s.action
    const path = tenant?.paths[action]
    if (!tenant || !path) throw new HarnessError('ERR_USAGE', `the prepared target has no ${action} path for tenant ${st.tenant}`)
    return () => ({ method: 'GET', path, headers: { authorization: `Bearer ${tokens.token(st.tenant)}`, accept: 'application/json', 'x-load-tenant': st.tenant, 'x-load-phase': st.phase } })
  })
}

/**
 * Runs a scenario against a prepared loopback target with the open-model driver and judges it.
 * With `refresh`, a run that outlives an access token renews it (see TokenKeeper).
 */
export async function runScenario(s: Scenario, prepared: PreparedLoad, refresh?: RefreshGrant): Promise<LoadResult> {
  const tokens = new TokenKeeper(prepared, refresh)
  const requests = streamRequests(s, prepared, tokens)
  const slots = buildSchedule(s)
  const startedAt = new Date().toISOString()
  const { records, durationMs } = await runOpenModel({
    baseUrl: prepared.baseUrl, slots, requestFor: (i) => requests[i]!(),
    maxInFlight: s.bounds.maxInFlight, timeoutMs: s.bounds.timeoutMs, deadlineMs: hardDeadline(s),
  })
  await tokens.settled()
  for (const line of tokens.failures) process.stderr.write(`tenant-audit: ${line}\n`)
  const groups = summarise(s, records)
  const tenants = tenantSummaries(s, records)
  const dropped = records.filter((r) => r.status === -1).length
  return {
    schemaVersion: 1, scenario: s.name, engine: 'node', target: { baseUrl: prepared.baseUrl }, startedAt, durationMs: Math.round(durationMs),
    requests: { scheduled: slots.length, sent: records.length - dropped, dropped },
    groups, tenants, goals: evaluate(s, groups, tenants),
  }
}
