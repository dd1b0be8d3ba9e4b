import { phaseWindows, type Scenario } from '../../fixtures/load/scenario.js'

/** One request the driver will start: when (ms from the start of the run) and for which stream. */
export interface Slot {
  at: number
  stream: number
}

/**
 * The whole run's start times, computed before the first request: stream `i` at rate `r` during
 * its phase starts requests at `start + k/r` whatever the answers (open model, like k6's
 * constant-arrival-rate). Sorted by time (ties by stream), cut at `maxRequests`.
 */
export function buildSchedule(s: Pick<Scenario, 'phases' | 'streams' | 'bounds'>): Slot[] {
  const windows = new Map(phaseWindows(s).map((w) => [w.name, w]))
  const slots: Slot[] = []
  s.streams.forEach((st, stream) => {
    const w = windows.get(st.phase)
    if (!w) return
    const step = 1000 / st.rate
    for (let k = 0; ; k++) {
      const at = w.start * 1000 + k * step
      if (at >= w.end * 1000 - 1e-9) break
      slots.push({ at, stream })
    }
  })
  slots.sort((a, b) => a.at - b.at || a.stream - b.stream)
  return slots.slice(0, s.bounds.maxRequests)
}

/** When the run ends at the latest (ms): the last phase's end plus one request timeout. */
export function hardDeadline(s: Pick<Scenario, 'phases' | 'bounds'>): number {
  return (phaseWindows(s).at(-1)?.end ?? 0) * 1000 + s.bounds.timeoutMs
}
