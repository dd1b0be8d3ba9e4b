import { groupsOf, isRecorder, offered, steadyPhases, streamScenario } from './plan.ts'
import type { Goal, GroupSummary, K6LoadResult, Percentiles, Scenario, TenantSummary, ThresholdResult } from './types.ts'

/** The parts of the `data` k6 hands to handleSummary that this file reads (fixtures/load/k6-data holds real ones). */
export interface SummaryData {
  metrics: Record<string, { type: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>
  state?: { testRunDurationMs?: number }
}

const count = (d: SummaryData, key: string): number | undefined => d.metrics[key]?.values.count
const round = (v: number | undefined): number | null => (v === undefined ? null : Math.round(v * 100) / 100)
const unsplit = (n: number): Percentiles => ({ count: n, p50: null, p95: null, p99: null })

/**
 * Per tenant × phase figures from the sub-metrics plan.ts's thresholds make k6 keep. A sub-metric
 * k6 left out had no sample (k6 omits those), so it counts 0.
 */
export function groupSummaries(s: Scenario, d: SummaryData): GroupSummary[] {
  return groupsOf(s).map(({ tenant, phase }) => {
    const sel = `tenant:${tenant},phase:${phase}`
    const sent = count(d, `http_reqs{${sel}}`) ?? 0
    const ok = count(d, `status_2xx{${sel}}`) ?? 0
    const throttled = count(d, `throttled{${sel}}`) ?? 0
    const errors = Math.max(0, sent - ok - throttled)
    const dropped = s.streams.reduce((n, st, i) => n + (st.tenant === tenant && st.phase === phase ? count(d, `dropped_iterations{scenario:${streamScenario(s, i)}}`) ?? 0 : 0), 0)
    const trend = d.metrics[`http_req_duration{${sel}}`]?.values
    const statuses: Record<string, number> = {}
    if (ok) statuses['2xx'] = ok
    if (throttled) statuses['429'] = throttled
    if (errors) statuses.other = errors
    return {
      tenant, phase, offeredRate: offered(s, tenant, phase), scheduled: sent + dropped, ok, throttled, errors, statuses, dropped,
      latency: { count: sent, p50: round(trend?.med), p95: round(trend?.['p(95)']), p99: round(trend?.['p(99)']) },
      latencyOk: unsplit(ok), latencyThrottled: unsplit(throttled), lateP95Ms: null,
    }
  })
}

/**
 * Each tenant's enforced rate: the 2xx of its steady phases (`accepted{tenant,phase}`, counted from
 * each phase's second second) over those phases' seconds. Null when a phase's count is missing:
 * a total over every phase (what the script counted before) is not this rate.
 */
export function tenantSummaries(s: Scenario, d: SummaryData): TenantSummary[] {
  return s.tenants.map((t) => {
    const steady = steadyPhases(s, t)
    if (!t.rateLimit || !steady.length) return { tenant: t.name, quota: t.rateLimit ?? null, enforcedRate: null }
    const counts = steady.map((p) => count(d, `accepted{tenant:${t.name},phase:${p.phase}}`))
    const seconds = steady.reduce((n, p) => n + p.seconds, 0)
    const enforcedRate = counts.every((c) => c !== undefined) ? counts.reduce<number>((n, c) => n + c!, 0) / seconds : null
    return { tenant: t.name, quota: t.rateLimit, enforcedRate }
  })
}

/** The scenario's `expect` blocks, judged exactly as the Node engine does (load/driver/summary.ts evaluate). */
export function evaluate(s: Scenario, groups: GroupSummary[], tenants: TenantSummary[]): Goal[] {
  const goals: Goal[] = []
  for (const t of s.tenants) {
    const mine = groups.filter((g) => g.tenant === t.name)
    const sent = mine.reduce((n, g) => n + g.ok + g.throttled + g.errors, 0)
    const throttled = mine.reduce((n, g) => n + g.throttled, 0)
    const errors = mine.reduce((n, g) => n + g.errors, 0)
    const e = t.expect
    if (e.throttled === 'never') goals.push({ tenant: t.name, name: 'no throttles', met: throttled === 0, detail: `${throttled} × 429` })
    if (e.throttled === 'some') goals.push({ tenant: t.name, name: 'throttled', met: throttled > 0, detail: `${throttled} × 429` })
    if (e.maxErrorRate !== undefined) {
      const failed = errors + (e.throttled === 'never' ? throttled : 0)
      const rate = sent ? failed / sent : 0
      goals.push({ tenant: t.name, name: `error rate ≤ ${(e.maxErrorRate * 100).toFixed(1)}%`, met: rate <= e.maxErrorRate, detail: `${failed}/${sent} (${(rate * 100).toFixed(2)}%)` })
    }
    const p = e.p95
    if (p) {
      const base = p.baselinePhase ? mine.find((g) => g.phase === p.baselinePhase)?.latency.p95 ?? null : null
      for (const g of mine) {
        const p95 = g.latency.p95
        if (p95 === null) continue
        if (p.maxMs !== undefined) goals.push({ tenant: t.name, name: `p95 ≤ ${p.maxMs} ms (${g.phase})`, met: p95 <= p.maxMs, detail: `${p95} ms` })
        if (base !== null && g.phase !== p.baselinePhase && (!p.phases || p.phases.includes(g.phase))) {
          const bound = Math.max(p.ratio * base, base + p.slackMs)
          goals.push({
            tenant: t.name, name: `p95 ${g.phase} ≤ max(${p.ratio}× baseline, baseline + ${p.slackMs} ms)`, met: p95 <= bound,
            detail: `${p95} ms against ${base} ms baseline (ratio ${(p95 / base).toFixed(2)}, bound ${bound.toFixed(1)} ms)`,
          })
        }
      }
    }
    if (e.enforcedRate && t.rateLimit) {
      const rate = tenants.find((x) => x.tenant === t.name)?.enforcedRate ?? null
      const quota = t.rateLimit.requestsPerSecond
      goals.push({
        tenant: t.name, name: `enforced rate within ±${(e.enforcedRate.tolerance * 100).toFixed(0)}% of ${quota}/s`,
        met: rate !== null && Math.abs(rate - quota) <= e.enforcedRate.tolerance * quota,
        detail: rate === null ? 'not measured: the summary has no per-phase accepted count' : `${rate.toFixed(2)}/s (${(((rate - quota) / quota) * 100).toFixed(1)}%)`,
      })
    }
  }
  return goals
}

/** The thresholds k6 judged, without the always-true ones that only keep a sub-metric. */
export function thresholdResults(d: SummaryData): ThresholdResult[] {
  return Object.entries(d.metrics).flatMap(([metric, m]) =>
    Object.entries(m.thresholds ?? {}).filter(([expression]) => !isRecorder(expression)).map(([expression, r]) => ({ metric, expression, ok: r.ok })))
}

/** The whole run in the Node engine's `result.json` shape (engine `k6`, plus the thresholds k6 judged). */
export function k6Result(s: Scenario, d: SummaryData, run: { baseUrl: string; startedAt: string }): K6LoadResult {
  const groups = groupSummaries(s, d)
  const tenants = tenantSummaries(s, d)
  const sent = groups.reduce((n, g) => n + g.ok + g.throttled + g.errors, 0)
  const dropped = groups.reduce((n, g) => n + g.dropped, 0)
  return {
    schemaVersion: 1, scenario: s.name, engine: 'k6', target: { baseUrl: run.baseUrl }, startedAt: run.startedAt,
    durationMs: Math.round(d.state?.testRunDurationMs ?? 0),
    requests: { scheduled: sent + dropped, sent, dropped },
    groups, tenants, goals: evaluate(s, groups, tenants), thresholds: thresholdResults(d),
  }
}

/** Whether a run passed: every goal met and every threshold k6 judged ok. */
export const passed = (r: Pick<K6LoadResult, 'goals' | 'thresholds'>): boolean => r.goals.every((g) => g.met) && r.thresholds.every((t) => t.ok)

const xml = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** JUnit XML: one testcase per threshold k6 judged and per goal, so CI reads k6 and the Node engine alike. */
export function junit(r: K6LoadResult): string {
  const cases = [
    ...r.thresholds.map((t) => ({ name: `${t.metric} ${t.expression}`, ok: t.ok, detail: t.ok ? '' : 'threshold crossed' })),
    ...r.goals.map((g) => ({ name: `${g.tenant}: ${g.name}`, ok: g.met, detail: g.detail })),
  ]
  const failures = cases.filter((c) => !c.ok).length
  const body = cases.map((c) => `    <testcase classname="k6.${xml(r.scenario)}" name="${xml(c.name)}">${c.ok ? '' : `<failure message="${xml(c.detail)}"/>`}</testcase>`)
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="${cases.length}" failures="${failures}">\n  <testsuite name="k6 ${xml(r.scenario)}" tests="${cases.length}" failures="${failures}">\n${body.join('\n')}\n  </testsuite>\n</testsuites>\n`
}

/** For stdout: per tenant × phase figures, enforced rates, each threshold and goal. */
export function text(r: K6LoadResult): string {
  const ms = (v: number | null) => (v === null ? '-' : v.toFixed(1))
  const lines = [`k6 scenario ${r.scenario}: ${r.requests.sent} requests sent (${r.requests.dropped} dropped) in ${(r.durationMs / 1000).toFixed(1)} s`]
  lines.push('tenant / phase: offered/s sent 2xx 429 errors dropped p50 p95 (ms)')
  for (const g of r.groups) lines.push(`${g.tenant} / ${g.phase}: ${g.offeredRate} ${g.ok + g.throttled + g.errors} ${g.ok} ${g.throttled} ${g.errors} ${g.dropped} ${ms(g.latency.p50)} ${ms(g.latency.p95)}`)
  for (const t of r.tenants) if (t.quota && t.enforcedRate !== null) lines.push(`${t.tenant}: quota ${t.quota.requestsPerSecond}/s, enforced ${t.enforcedRate.toFixed(2)}/s`)
  for (const t of r.thresholds) lines.push(`${t.ok ? 'met    ' : 'NOT MET'}  ${t.metric} ${t.expression}`)
  for (const g of r.goals) lines.push(`${g.met ? 'met    ' : 'NOT MET'}  ${g.tenant}: ${g.name}: ${g.detail}`)
  if (r.requests.dropped) lines.push(`note: ${r.requests.dropped} iterations dropped (maxVUs busy): raise bounds.maxInFlight or scale out`)
  lines.push(passed(r) ? 'every goal met' : 'a goal was NOT MET: `tenant-audit load --engine k6` exits 1 (k6 itself exits 99 only for a crossed threshold)')
  return lines.join('\n') + '\n'
}
