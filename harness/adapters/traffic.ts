import type { TrafficStats } from '../core/run-result.js'

/**
 * What the adapter did on the harness's behalf during a run, so a report can say how much of the
 * audit was spent waiting on the target or renewing credentials. Counts only: no secret, no path.
 */
export type { TrafficStats }

export function emptyTraffic(): TrafficStats {
  return { throttled: 0, resends: 0, waitedMs: 0, renewals: 0, renewalFailures: 0, unauthorizedResends: 0 }
}

/** `a + b`, field by field (the run's total from its processes and checks). */
export function addTraffic(a: TrafficStats, b: Partial<TrafficStats> | undefined): TrafficStats {
  const out = { ...a }
  for (const k of Object.keys(out) as (keyof TrafficStats)[]) out[k] += b?.[k] ?? 0
  return out
}

/** `a - b`, field by field (what one check added). */
export function subTraffic(a: TrafficStats, b: TrafficStats): TrafficStats {
  const out = { ...a }
  for (const k of Object.keys(out) as (keyof TrafficStats)[]) out[k] -= b[k]
  return out
}
