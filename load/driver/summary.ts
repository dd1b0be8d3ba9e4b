import hdr from 'hdr-histogram-js'
import { phaseWindows, type Scenario } from '../../fixtures/load/scenario.js'
import type { RequestRecord } from './open-model.js'

/** Latency percentiles in ms (null when nothing was measured). */
export interface Percentiles { count: number; p50: number | null; p95: number | null; p99: number | null }

/** One tenant in one phase. */
export interface GroupSummary {
  tenant: string
  phase: string
  /** Requests per second the scenario offered. */
  offeredRate: number
  scheduled: number
  ok: number
  throttled: number
  /** Any other status, and transport errors or timeouts. */
  errors: number
  /** Answers by status; `0` is a transport error or timeout. */
  statuses: Record<string, number>
  /** Due while maxInFlight were open: not sent (the driver's limit, not the target's). */
  dropped: number
  latency: Percentiles
  latencyOk: Percentiles
  latencyThrottled: Percentiles
  /** p95 of how late requests started (driver lag). */
  lateP95Ms: number | null
}

export interface Goal {
  tenant: string
  name: string
  met: boolean
  detail: string
}

export interface TenantSummary {
  tenant: string
  quota: { requestsPerSecond: number; burst: number } | null
  /** Accepted 2xx per second in the phases offering more than the quota, after their first second. */
  enforcedRate: number | null
}

function percentiles(values: number[]): Percentiles {
  if (!values.length) return { count: 0, p50: null, p95: null, p99: null }
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 })
  for (const v of values) h.recordValue(Math.max(1, v))
  const ms = (p: number) => Math.round(h.getValueAtPercentile(p) / 10) / 100
  return { count: values.length, p50: ms(50), p95: ms(95), p99: ms(99) }
}

/** Per tenant × phase figures from the raw records. */
export function summarise(s: Scenario, records: RequestRecord[]): GroupSummary[] {
  const out: GroupSummary[] = []
  for (const t of s.tenants) {
    for (const p of s.phases) {
      const streams = new Set(s.streams.flatMap((st, i) => (st.tenant === t.name && st.phase === p.name ? [i] : [])))
      if (!streams.size) continue
      const rs = records.filter((r) => streams.has(r.stream))
      const sent = rs.filter((r) => r.status !== -1)
      const ok = sent.filter((r) => r.status >= 200 && r.status < 300)
      const throttled = sent.filter((r) => r.status === 429)
      const late = percentiles(rs.map((r) => Math.max(0, r.lateMs) * 1000))
      out.push({
        tenant: t.name, phase: p.name,
        offeredRate: s.streams.filter((_, i) => streams.has(i)).reduce((n, st) => n + st.rate, 0),
        scheduled: rs.length, ok: ok.length, throttled: throttled.length, errors: sent.length - ok.length - throttled.length,
        dropped: rs.length - sent.length,
        statuses: sent.reduce<Record<string, number>>((m, r) => ((m[String(r.status)] = (m[String(r.status)] ?? 0) + 1), m), {}),
        latency: percentiles(sent.map((r) => r.latencyUs)),
        latencyOk: percentiles(ok.map((r) => r.latencyUs)),
        latencyThrottled: percentiles(throttled.map((r) => r.latencyUs)),
        lateP95Ms: late.p95,
      })
    }
  }
  return out
}

/** The rate the target actually let through for each tenant with a quota it was pushed past. */
export function tenantSummaries(s: Scenario, records: RequestRecord[]): TenantSummary[] {
  const windows = new Map(phaseWindows(s).map((w) => [w.name, w]))
  return s.tenants.map((t) => {
    if (!t.rateLimit) return { tenant: t.name, quota: null, enforcedRate: null }
    let accepted = 0
    let seconds = 0
    for (const p of s.phases) {
      const streams = new Set(s.streams.flatMap((st, i) => (st.tenant === t.name && st.phase === p.name ? [i] : [])))
      const offered = s.streams.filter((_, i) => streams.has(i)).reduce((n, st) => n + st.rate, 0)
      const w = windows.get(p.name)!
      if (offered <= t.rateLimit.requestsPerSecond || w.end - w.start <= 1) continue
      // Skip the phase's first second: the burst allowance and the window boundary live there. Count by
      // when a request actually started (a busy driver starts late; the limiter counts arrivals).
      const from = (w.start + 1) * 1000
      const to = w.end * 1000
      accepted += records.filter((r) => {
        const started = r.at + Math.max(0, r.lateMs)
        return streams.has(r.stream) && started >= from && started < to && r.status >= 200 && r.status < 300
      }).length
      seconds += w.end - w.start - 1
    }
    return { tenant: t.name, quota: t.rateLimit, enforcedRate: seconds ? accepted / seconds : null }
  })
}

/** The scenario's `expect` blocks, judged. A benchmark prints these; the CLI exits 1 when one is not met. */
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
      // A 429 is an error only for a tenant that must never be throttled (as in the k6 script's http_req_failed).
      const failed = errors + (e.throttled === 'never' ? throttled : 0)
      const rate = sent ? failed / sent : 0
      goals.push({ tenant: t.name, name: `error rate ≤ ${(e.maxErrorRate * 100).toFixed(1)}%`, met: rate <= e.maxErrorRate, detail: `${failed}/${sent} (${(rate * 100).toFixed(2)}%)` })
    }
    if (e.p95) {
      const base = e.p95.baselinePhase ? mine.find((g) => g.phase === e.p95!.baselinePhase)?.latency.p95 ?? null : null
      for (const g of mine) {
        const p95 = g.latency.p95
        if (p95 === null) continue
        if (e.p95.maxMs !== undefined) goals.push({ tenant: t.name, name: `p95 ≤ ${e.p95.maxMs} ms (${g.phase})`, met: p95 <= e.p95.maxMs, detail: `${p95} ms` })
        if (base !== null && g.phase !== e.p95.baselinePhase && (!e.p95.phases || e.p95.phases.includes(g.phase))) {
          const bound = Math.max(e.p95.ratio * base, base + e.p95.slackMs)
          goals.push({
            tenant: t.name, name: `p95 ${g.phase} ≤ max(${e.p95.ratio}× baseline, baseline + ${e.p95.slackMs} ms)`, met: p95 <= bound,
            detail: `${p95} ms against ${base} ms baseline (ratio ${(p95 / base).toFixed(2)}, bound ${bound.toFixed(1)} ms)`,
          })
        }
      }
    }
    if (e.enforcedRate) {
      const ts = tenants.find((x) => x.tenant === t.name)
      const quota = t.rateLimit!.requestsPerSecond
      const rate = ts?.enforcedRate ?? null
      goals.push({
        tenant: t.name, name: `enforced rate within ±${(e.enforcedRate.tolerance * 100).toFixed(0)}% of ${quota}/s`,
        met: rate !== null && Math.abs(rate - quota) <= e.enforcedRate.tolerance * quota,
        detail: rate === null ? 'no phase offered more than the quota for over a second' : `${rate.toFixed(2)}/s (${(((rate - quota) / quota) * 100).toFixed(1)}%)`,
      })
    }
  }
  return goals
}
