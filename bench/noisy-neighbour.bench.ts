/**
 * npm run bench:noisy-neighbour — the noisy-neighbour scenario (fixtures/load/noisy-neighbour.yaml)
 * with the Node driver against the embedded reference server on loopback, bounded: the victim's p95
 * and error rate in its baseline phase and under a 10× flood from the aggressor, in the same run;
 * the ratio; throttles per tenant; the enforced rate against the quota; the p95 of 429s against the
 * p95 of 200s. Prints the figures and whether each goal is met; it never fails on timing.
 * BENCH_SCENARIO picks another scenario (name or file).
 */
import { availableParallelism, loadavg } from 'node:os'
import { loadScenario } from '../fixtures/load/scenario.js'
import { formatResult } from '../load/driver/format.js'
import type { GroupSummary } from '../load/driver/index.js'
import { runNodeEngine } from '../harness/cli/load.js'

const s = loadScenario(process.env.BENCH_SCENARIO ?? 'noisy-neighbour')
const before = loadavg()
const result = await runNodeEngine(s, undefined)
const after = loadavg()

const group = (tenant: string, phase: string): GroupSummary | undefined => result.groups.find((g) => g.tenant === tenant && g.phase === phase)
const fmt = (v: number | null | undefined, unit = ' ms') => (v === null || v === undefined ? '-' : `${v.toFixed(1)}${unit}`)
const lines: string[] = [formatResult(result), '']

// The headline comparisons, for any tenant with a baseline phase (the victim) and any throttled one (the aggressor).
for (const t of s.tenants) {
  const base = t.expect.p95?.baselinePhase
  if (base) {
    const b = group(t.name, base)
    for (const g of result.groups.filter((x) => x.tenant === t.name && x.phase !== base)) {
      const ratio = b?.latency.p95 && g.latency.p95 ? g.latency.p95 / b.latency.p95 : null
      const errRate = (x: GroupSummary | undefined) => (x ? `${(((x.errors + x.throttled) / Math.max(1, x.ok + x.throttled + x.errors)) * 100).toFixed(2)}%` : '-')
      lines.push(`${t.name}: p95 ${base} ${fmt(b?.latency.p95)} → ${g.phase} ${fmt(g.latency.p95)}  (contended/baseline ${ratio === null ? '-' : ratio.toFixed(2)}×); non-2xx ${errRate(b)} → ${errRate(g)}`)
    }
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
const met = result.goals.filter((g) => g.met).length
lines.push(
  '',
  `goals met: ${met}/${result.goals.length}`,
  `machine: ${availableParallelism()} CPUs, load average ${before.map((v) => v.toFixed(2)).join(' ')} before and ${after.map((v) => v.toFixed(2)).join(' ')} after` +
    ' (a shared machine: compare the phases of one run, not runs with each other)',
)
process.stdout.write(lines.join('\n') + '\n')
