import type { ConstantArrivalRateScenario, Options } from 'k6/options'
import type { Scenario, Tenant } from './types.ts'

/** Each phase's window in seconds from the start (phases run one after the other). */
export function phaseWindows(s: Scenario): { name: string; start: number; end: number }[] {
  let t = 0
  return s.phases.map((p) => ({ name: p.name, start: t, end: (t += p.seconds) }))
}

/** Offered requests per second for a tenant in a phase. */
export function offered(s: Scenario, tenant: string, phase: string): number {
  return s.streams.filter((st) => st.tenant === tenant && st.phase === phase).reduce((n, st) => n + st.rate, 0)
}

/** The tenant × phase pairs that send anything, in the Node engine's order (tenants, then phases). */
export function groupsOf(s: Scenario): { tenant: string; phase: string }[] {
  return s.tenants.flatMap((t) => s.phases.filter((p) => offered(s, t.name, p.name) > 0).map((p) => ({ tenant: t.name, phase: p.name })))
}

/**
 * The phases whose accepted requests measure a tenant's enforced rate: those that push it past its
 * quota for more than a second, each counted from its second second (burst, window edge), as the
 * Node engine does (load/driver/summary.ts tenantSummaries).
 */
export function steadyPhases(s: Scenario, t: Tenant): { phase: string; seconds: number }[] {
  if (!t.rateLimit) return []
  const quota = t.rateLimit.requestsPerSecond
  return phaseWindows(s).filter((w) => w.end - w.start > 1 && offered(s, t.name, w.name) > quota).map((w) => ({ phase: w.name, seconds: w.end - w.start - 1 }))
}

/** Seconds of the phases that push a tenant past its quota, each minus its first second. */
export function steadySeconds(s: Scenario, t: Tenant): number {
  return steadyPhases(s, t).reduce((n, p) => n + p.seconds, 0)
}

/** The k6 scenario (and `scenario` tag) of stream `i`. */
export const streamScenario = (s: Scenario, i: number): string => `${s.streams[i]!.tenant}_${s.streams[i]!.phase}_${i}`

/**
 * One constant-arrival-rate scenario per stream (open model: iterations start on schedule whatever
 * the answers; k6 drops them, and counts dropped_iterations, when maxVUs are busy), started at its
 * phase's offset. The request, not the scenario, carries the tenant and phase tags, so a token
 * refresh in between counts in no tenant × phase figure; dropped iterations are told apart by
 * the `scenario` system tag.
 */
export function k6Scenarios(s: Scenario): Record<string, ConstantArrivalRateScenario> {
  const windows = new Map(phaseWindows(s).map((w) => [w.name, w]))
  const out: Record<string, ConstantArrivalRateScenario> = {}
  s.streams.forEach((st, i) => {
    const w = windows.get(st.phase)
    if (!w) return
    // k6 rates are whole iterations per timeUnit: 2.5/s becomes 2500 per 1000 s.
    const whole = Number.isInteger(st.rate)
    const inFlight = Math.ceil((st.rate * s.bounds.timeoutMs) / 1000)
    out[streamScenario(s, i)] = {
      executor: 'constant-arrival-rate',
      rate: whole ? st.rate : Math.round(st.rate * 1000),
      timeUnit: whole ? '1s' : '1000s',
      startTime: `${w.start}s`,
      duration: `${w.end - w.start}s`,
      preAllocatedVUs: Math.max(1, Math.ceil(st.rate / 10)),
      maxVUs: maxVUs(s, st.rate),
      gracefulStop: `${Math.ceil(s.bounds.timeoutMs / 1000)}s`,
      exec: 'request',
      env: { STREAM: String(i) },
    }
  })
  return out
}

const maxVUs = (s: Scenario, rate: number) => Math.max(2, Math.min(s.bounds.maxInFlight, Math.ceil((rate * s.bounds.timeoutMs) / 1000)))

/** The most VUs k6 can run at once for this scenario (every stream at its maxVUs): a bound on `exec.vu.idInTest`. */
export function vuBound(s: Scenario): number {
  return s.streams.reduce((n, st) => n + maxVUs(s, st.rate), 0)
}

/**
 * Thresholds that are always true: they only make k6 keep a tagged sub-metric (k6 reports a
 * sub-metric in the summary data only where a threshold names it). Left out of JUnit and the result.
 */
export const RECORD = { count: 'count>=0', trend: 'p(95)>=0' } as const
export const isRecorder = (expression: string): boolean => expression === RECORD.count || expression === RECORD.trend

const num = (v: number) => String(Math.round(v * 1000) / 1000)

/** The accepted count a steady phase must land in: quota × seconds ± tolerance. */
export function acceptedBounds(t: Tenant, seconds: number): { min: number; max: number } {
  const quota = t.rateLimit!.requestsPerSecond
  const tol = t.expect.enforcedRate?.tolerance ?? 0
  return { min: quota * (1 - tol) * seconds, max: quota * (1 + tol) * seconds }
}

/**
 * Thresholds from the scenario's `expect`, and the per tenant × phase sub-metrics the result needs:
 * - per tenant: throttles (never / some), error rate;
 * - per tenant × phase: `http_reqs`, `status_2xx`, `throttled` (recorded), `http_req_duration`
 *   (the absolute p95 bound, or recorded);
 * - per steady phase of a tenant with an enforced-rate goal: `accepted{tenant,phase}` within
 *   quota × seconds ± tolerance, a relative goal k6 judges itself (a miss makes k6 exit 99);
 * - per stream: `dropped_iterations{scenario:…}` (recorded).
 * The p95-against-baseline goal needs two sub-metrics at once, so handleSummary judges it and
 * `tenant-audit load --engine k6` turns a miss into exit 1.
 */
export function k6Thresholds(s: Scenario): NonNullable<Options['thresholds']> {
  const th: NonNullable<Options['thresholds']> = {}
  for (const t of s.tenants) {
    const sel = `tenant:${t.name}`
    if (t.expect.throttled === 'never') th[`throttled{${sel}}`] = ['count==0']
    if (t.expect.throttled === 'some') th[`throttled{${sel}}`] = ['count>0']
    if (t.expect.maxErrorRate !== undefined) th[`http_req_failed{${sel}}`] = [`rate<=${t.expect.maxErrorRate}`]
  }
  for (const g of groupsOf(s)) {
    const t = s.tenants.find((x) => x.name === g.tenant)!
    const sel = `tenant:${g.tenant},phase:${g.phase}`
    th[`http_reqs{${sel}}`] = [RECORD.count]
    th[`status_2xx{${sel}}`] = [RECORD.count]
    th[`throttled{${sel}}`] = [RECORD.count]
    th[`http_req_duration{${sel}}`] = [t.expect.p95?.maxMs !== undefined ? `p(95)<${t.expect.p95.maxMs}` : RECORD.trend]
  }
  for (const t of s.tenants) {
    if (!t.expect.enforcedRate) continue
    for (const p of steadyPhases(s, t)) {
      const b = acceptedBounds(t, p.seconds)
      th[`accepted{tenant:${t.name},phase:${p.phase}}`] = [`count>=${num(b.min)}`, `count<=${num(b.max)}`]
    }
  }
  s.streams.forEach((_, i) => (th[`dropped_iterations{scenario:${streamScenario(s, i)}}`] = [RECORD.count]))
  return th
}
