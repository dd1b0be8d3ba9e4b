/**
 * Timing oracles as statistics, never timed asserts (issue 13). The two cases are sampled in
 * adjacent pairs (A B, then B A, …), so a burst of CPU load hits both halves of a pair alike; the
 * effect size is the median of the per-pair ratios (robust to outliers), and consistency is the share
 * of pairs whose ratio points the same way. An oracle only when the difference is large (median
 * pair ratio ≥ 2), consistent (≥ 80 % of pairs agree) and big in absolute terms (≥ 15 ms between the
 * medians), so load — which slows both cases of a pair alike — and a few outliers do not make one.
 */
export interface TimingVerdict {
  oracle: boolean
  medianA: number
  medianB: number
  /** Median over pairs of slower/faster, ≥ 1 (the direction is the majority's). */
  ratio: number
  /** Share of pairs in which the majority's case was the slower one (0.5 = no difference). */
  agreement: number
  /** One line for notes and findings: medians, ratio, agreement and the samples. */
  summary: string
}

export const TIMING_THRESHOLDS = { ratio: 2, agreement: 0.8, minDifferenceMs: 15 }

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((x, y) => x - y)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** `a[i]` and `b[i]` were measured next to each other. */
export function timingOracle(a: readonly number[], b: readonly number[], t = TIMING_THRESHOLDS): TimingVerdict {
  const n = Math.min(a.length, b.length)
  const logRatios = Array.from({ length: n }, (_, i) => Math.log(Math.max(a[i]!, 0.01) / Math.max(b[i]!, 0.01)))
  const m = median(logRatios)
  const aSlower = m >= 0
  const agreement = n ? logRatios.filter((r) => (aSlower ? r > 0 : r < 0)).length / n : 0.5
  const ratio = Number.isNaN(m) ? 1 : Math.exp(Math.abs(m))
  const medianA = median(a)
  const medianB = median(b)
  const oracle = n > 0 && ratio >= t.ratio && agreement >= t.agreement && Math.abs(medianA - medianB) >= t.minDifferenceMs
  const fmt = (xs: readonly number[]) => xs.map((x) => x.toFixed(0)).join(' ')
  const summary = `medians ${medianA.toFixed(1)} ms vs ${medianB.toFixed(1)} ms, pair ratio ×${ratio.toFixed(2)} (${Math.round(agreement * 100)} % of ${n} pairs agree); samples [${fmt(a)}] vs [${fmt(b)}]`
  return { oracle, medianA, medianB, ratio, agreement, summary }
}

/** The `p`-th percentile (0–100) by nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((x, y) => x - y)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!
}

/**
 * The noisy-neighbour goal (tenancy-audit-ratelimit.md §3.6 item 4, the k6 script of §3.3): another
 * tenant's p95 while one floods stays ≤ max(1.5 × its baseline p95, baseline p95 + 20 ms).
 */
export const NEIGHBOUR_GOAL = { p95Ratio: 1.5, p95SlackMs: 20 }

/**
 * What a flood costs another tenant, judged as a statistic (issue 13, "cost to others"). Samples of
 * one tenant's read taken while a flood runs (`loaded[i]`) and alone (`base[i]`) next to each other,
 * and of a control sent with each loaded read (`control[i]`): a request that needs no tenant's data
 * (the key set). A finding (`slowed`) only when all of these hold:
 * - the noisy-neighbour goal is missed at p95 (loaded vs alone);
 * - the loaded reads are consistently much slower than alone ({@link timingOracle} with `t`: median
 *   pair ratio ≥ 3, 80 % of the pairs agreeing, medians ≥ 100 ms apart);
 * - and slower still than the control sent at the same moment (`CONTROL_THRESHOLDS`: ×8).
 * The control is what tells a held resource from a busy machine: a flood sent from the same 2-core
 * machine (a KDF per failed login) takes CPU from every request alike — the control waits as long as
 * the read, and the goal alone would call that a finding; a read waiting behind a database connection
 * held during the KDFs waits while the control is answered at once.
 */
export interface SlowdownVerdict extends TimingVerdict {
  slowed: boolean
  goalMet: boolean
  p95Loaded: number
  p95Base: number
  /** The loaded reads against the control sent with them (undefined without a control). */
  versusControl?: TimingVerdict
}

export const SLOWDOWN_THRESHOLDS = { ratio: 3, agreement: 0.8, minDifferenceMs: 100 }
/**
 * Against the control the bar is higher: even a read that holds nothing waits in the database's queue
 * behind the flood's own short statements (the login lookups, the audit writes), which the control
 * skips — the clean embedded server showed ×1.2–4.3 over five seeds on a loaded 2-core machine; a
 * connection held during the KDFs ×70.
 */
export const CONTROL_THRESHOLDS = { ratio: 8, agreement: 0.8, minDifferenceMs: 100 }

export function slowdown(loaded: readonly number[], base: readonly number[], control?: readonly number[], t = SLOWDOWN_THRESHOLDS, tc = CONTROL_THRESHOLDS): SlowdownVerdict {
  const v = timingOracle(loaded, base, t)
  const c = control && timingOracle(loaded, control, tc)
  const p95Loaded = percentile(loaded, 95)
  const p95Base = percentile(base, 95)
  const goal = Math.max(NEIGHBOUR_GOAL.p95Ratio * p95Base, p95Base + NEIGHBOUR_GOAL.p95SlackMs)
  const goalMet = !(p95Loaded > goal)
  const slowerThan = (x: TimingVerdict) => x.oracle && x.medianA > x.medianB
  const slowed = !goalMet && slowerThan(v) && (!c || slowerThan(c))
  const fmt = (xs: readonly number[]) => xs.map((x) => x.toFixed(0)).join(' ')
  const summary = `×${v.ratio.toFixed(1)} alone${c ? `, ×${c.ratio.toFixed(1)} the control` : ''} (medians ${v.medianA.toFixed(0)} ms flooded, ${v.medianB.toFixed(0)} ms alone${c ? `, ${c.medianB.toFixed(0)} ms control` : ''}; ` +
    `${Math.round(v.agreement * 100)}${c ? `/${Math.round(c.agreement * 100)}` : ''} % of ${Math.min(loaded.length, base.length)} pairs agree); p95 ${p95Loaded.toFixed(0)} ms flooded vs ${p95Base.toFixed(0)} ms alone (goal ≤ ${goal.toFixed(0)} ms: ${goalMet ? 'met' : 'missed'}); ` +
    `samples flooded [${fmt(loaded)}], alone [${fmt(base)}]${c ? `, control [${fmt(control!)}]` : ''}`
  return { ...v, slowed, goalMet, p95Loaded, p95Base, versusControl: c, summary }
}
