import type { LoadResult } from './index.js'

const ms = (v: number | null) => (v === null ? '-' : v.toFixed(1))

/** A plain-text table of a run: per tenant × phase figures, enforced rates, then each goal met or not. */
export function formatResult(r: LoadResult): string {
  const head = ['tenant', 'phase', 'offered/s', 'sent', '2xx', '429', 'errors', 'dropped', 'p50 ms', 'p95 ms', 'p95 2xx', 'p95 429', 'late p95']
  const rows = r.groups.map((g) => [
    g.tenant, g.phase, String(g.offeredRate), String(g.ok + g.throttled + g.errors), String(g.ok), String(g.throttled), String(g.errors), String(g.dropped),
    ms(g.latency.p50), ms(g.latency.p95), ms(g.latencyOk.p95), ms(g.latencyThrottled.p95), ms(g.lateP95Ms),
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  const out = [
    `scenario ${r.scenario}: ${r.requests.sent} requests sent (${r.requests.scheduled} scheduled, ${r.requests.dropped} dropped) in ${(r.durationMs / 1000).toFixed(1)} s against ${r.target.baseUrl}`,
    line(head), ...rows.map(line),
  ]
  for (const t of r.tenants) {
    if (t.quota && t.enforcedRate !== null) out.push(`${t.tenant}: quota ${t.quota.requestsPerSecond}/s (burst ${t.quota.burst}), enforced ${t.enforcedRate.toFixed(2)}/s`)
  }
  for (const g of r.groups.filter((x) => x.errors)) {
    const other = Object.entries(g.statuses).filter(([k]) => k !== '429' && !/^2\d\d$/.test(k))
    out.push(`${g.tenant} ${g.phase} errors: ${other.map(([k, n]) => `${n} × ${k === '0' ? 'timeout or transport error' : k}`).join(', ')}`)
  }
  for (const t of r.thresholds ?? []) if (!t.ok) out.push(`NOT MET  k6 threshold ${t.metric} ${t.expression}`)
  for (const g of r.goals) out.push(`${g.met ? 'met    ' : 'NOT MET'}  ${g.tenant}: ${g.name}: ${g.detail}`)
  if (r.requests.dropped) out.push(`note: ${r.requests.dropped} requests were dropped by the ${r.engine === 'k6' ? 'k6 executors' : 'driver'} (maxInFlight reached): the figures understate the offered load`)
  return out.join('\n')
}
