import { offered, steadySeconds } from './plan.ts'
import type { Scenario } from './types.ts'

/** The parts of k6's end-of-test summary data this file reads. */
export interface SummaryData {
  metrics: Record<string, { type: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>
  state?: { testRunDurationMs?: number }
}

export interface Goal { tenant: string; name: string; met: boolean; detail: string }

const p95 = (d: SummaryData, key: string): number | undefined => d.metrics[key]?.values['p(95)']

/** The goals thresholds cannot express: p95 against the same run's baseline phase, and the enforced rate. */
export function relativeGoals(s: Scenario, d: SummaryData): Goal[] {
  const goals: Goal[] = []
  for (const t of s.tenants) {
    const p = t.expect.p95
    if (p?.baselinePhase) {
      const base = p95(d, `http_req_duration{tenant:${t.name},phase:${p.baselinePhase}}`)
      for (const phase of s.phases) {
        if (phase.name === p.baselinePhase || offered(s, t.name, phase.name) === 0 || (p.phases && !p.phases.includes(phase.name))) continue
        const v = p95(d, `http_req_duration{tenant:${t.name},phase:${phase.name}}`)
        const bound = base === undefined ? undefined : Math.max(p.ratio * base, base + p.slackMs)
        goals.push({
          tenant: t.name, name: `p95 ${phase.name} ≤ max(${p.ratio}× baseline, baseline + ${p.slackMs} ms)`,
          met: v !== undefined && bound !== undefined && v <= bound,
          detail: v === undefined || base === undefined ? 'not measured' : `${v.toFixed(1)} ms against ${base.toFixed(1)} ms (ratio ${(v / base).toFixed(2)})`,
        })
      }
    }
    if (t.expect.enforcedRate && t.rateLimit) {
      const seconds = steadySeconds(s, t)
      const accepted = d.metrics[`accepted_steady{tenant:${t.name}}`]?.values.count
      const quota = t.rateLimit.requestsPerSecond
      const rate = seconds && accepted !== undefined ? accepted / seconds : undefined
      goals.push({
        tenant: t.name, name: `enforced rate within ±${Math.round(t.expect.enforcedRate.tolerance * 100)}% of ${quota}/s`,
        met: rate !== undefined && Math.abs(rate - quota) <= t.expect.enforcedRate.tolerance * quota,
        detail: rate === undefined ? 'not measured' : `${rate.toFixed(2)}/s`,
      })
    }
  }
  return goals
}

const xml = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** JUnit XML: one testcase per threshold and per relative goal, so CI reads k6 and the Node engine alike. */
export function junit(s: Scenario, d: SummaryData, goals: Goal[]): string {
  const cases: { name: string; ok: boolean; detail: string }[] = []
  for (const [metric, m] of Object.entries(d.metrics)) {
    for (const [expr, r] of Object.entries(m.thresholds ?? {})) cases.push({ name: `${metric} ${expr}`, ok: r.ok, detail: JSON.stringify(m.values) })
  }
  for (const g of goals) cases.push({ name: `${g.tenant}: ${g.name}`, ok: g.met, detail: g.detail })
  const failures = cases.filter((c) => !c.ok).length
  const body = cases.map((c) => `    <testcase classname="k6.${xml(s.name)}" name="${xml(c.name)}">${c.ok ? '' : `<failure message="${xml(c.detail)}"/>`}</testcase>`)
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="${cases.length}" failures="${failures}">\n  <testsuite name="k6 ${xml(s.name)}" tests="${cases.length}" failures="${failures}">\n${body.join('\n')}\n  </testsuite>\n</testsuites>\n`
}

/** A few lines for stdout: each threshold and goal, met or not. */
export function text(s: Scenario, d: SummaryData, goals: Goal[]): string {
  const lines = [`k6 scenario ${s.name}`]
  for (const [metric, m] of Object.entries(d.metrics)) {
    for (const [expr, r] of Object.entries(m.thresholds ?? {})) lines.push(`${r.ok ? 'met    ' : 'NOT MET'}  ${metric} ${expr}`)
  }
  for (const g of goals) lines.push(`${g.met ? 'met    ' : 'NOT MET'}  ${g.tenant}: ${g.name}: ${g.detail}`)
  const dropped = d.metrics.dropped_iterations?.values.count
  if (dropped) lines.push(`note: ${dropped} iterations dropped (maxVUs busy): raise bounds.maxInFlight or scale out`)
  return lines.join('\n') + '\n'
}
