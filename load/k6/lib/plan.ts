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

/** Seconds of the phases that push a tenant past its quota, each minus its first second (burst, window edge). */
export function steadySeconds(s: Scenario, t: Tenant): number {
  if (!t.rateLimit) return 0
  const quota = t.rateLimit.requestsPerSecond
  return phaseWindows(s).filter((w) => w.end - w.start > 1 && offered(s, t.name, w.name) > quota).reduce((n, w) => n + w.end - w.start - 1, 0)
}

/**
 * One constant-arrival-rate scenario per stream (open model: iterations start on schedule whatever
 * the answers; k6 drops them, and counts dropped_iterations, when maxVUs are busy), tagged with
 * its tenant and phase, started at its phase's offset.
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
    out[`${st.tenant}_${st.phase}_${i}`] = {
      executor: 'constant-arrival-rate',
      rate: whole ? st.rate : Math.round(st.rate * 1000),
      timeUnit: whole ? '1s' : '1000s',
      startTime: `${w.start}s`,
      duration: `${w.end - w.start}s`,
      preAllocatedVUs: Math.max(1, Math.ceil(st.rate / 10)),
      maxVUs: Math.max(2, Math.min(s.bounds.maxInFlight, inFlight)),
      gracefulStop: `${Math.ceil(s.bounds.timeoutMs / 1000)}s`,
      exec: 'request',
      env: { STREAM: String(i) },
      tags: { tenant: st.tenant, phase: st.phase },
    }
  })
  return out
}

/**
 * Thresholds per tenant from the scenario's `expect`: throttles (never / some), error rate, absolute
 * p95 per phase. Relative goals (p95 against the baseline phase, the enforced rate) need two
 * sub-metrics at once, so handleSummary judges them; a threshold on each of those sub-metrics
 * makes k6 record and report it.
 */
export function k6Thresholds(s: Scenario): NonNullable<Options['thresholds']> {
  const th: NonNullable<Options['thresholds']> = {}
  for (const t of s.tenants) {
    const sel = `tenant:${t.name}`
    if (t.expect.throttled === 'never') th[`throttled{${sel}}`] = ['count==0']
    if (t.expect.throttled === 'some') th[`throttled{${sel}}`] = ['count>0']
    if (t.expect.maxErrorRate !== undefined) th[`http_req_failed{${sel}}`] = [`rate<=${t.expect.maxErrorRate}`]
    if (t.expect.p95) {
      for (const p of s.phases) {
        if (!s.streams.some((st) => st.tenant === t.name && st.phase === p.name)) continue
        th[`http_req_duration{${sel},phase:${p.name}}`] = [t.expect.p95.maxMs !== undefined ? `p(95)<${t.expect.p95.maxMs}` : 'p(95)>=0']
      }
    }
    if (t.expect.enforcedRate) th[`accepted_steady{${sel}}`] = ['count>=0']
  }
  return th
}
