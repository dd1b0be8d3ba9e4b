/**
 * The k6 scripts' planning and summary logic (load/k6/lib), loaded into Node: the CLI judges a k6
 * run with the very functions handleSummary runs, and the tests feed them k6's real summary data.
 * The k6 project imports with `.ts` suffixes (k6 loads files as named), so it is loaded by URL.
 */
import type { Goal, GroupSummary, K6LoadResult, Scenario, TenantSummary } from '../k6/lib/types.ts'

export type { K6LoadResult, PreparedSession, ThresholdResult } from '../k6/lib/types.ts'
export type K6Scenario = Scenario

/** What k6 hands to handleSummary (the parts read here; fixtures/load/k6-data holds real ones). */
export interface K6SummaryData {
  metrics: Record<string, { type: string; contains?: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>
  state?: { testRunDurationMs?: number }
  [key: string]: unknown
}

export interface K6Plan {
  k6Scenarios(s: Scenario): Record<string, { executor: string; rate: number; startTime?: string; duration: string; maxVUs?: number }>
  k6Thresholds(s: Scenario): Record<string, string[]>
  steadyPhases(s: Scenario, t: Scenario['tenants'][number]): { phase: string; seconds: number }[]
  steadySeconds(s: Scenario, t: Scenario['tenants'][number]): number
  groupsOf(s: Scenario): { tenant: string; phase: string }[]
  streamScenario(s: Scenario, i: number): string
  vuBound(s: Scenario): number
  isRecorder(expression: string): boolean
}

export interface K6Summary {
  k6Result(s: Scenario, d: K6SummaryData, run: { baseUrl: string; startedAt: string }): K6LoadResult
  evaluate(s: Scenario, groups: GroupSummary[], tenants: TenantSummary[]): Goal[]
  passed(r: Pick<K6LoadResult, 'goals' | 'thresholds'>): boolean
  junit(r: K6LoadResult): string
  text(r: K6LoadResult): string
}

export const k6Plan = (await import(new URL('../k6/lib/plan.ts', import.meta.url).href)) as K6Plan
export const k6Summary = (await import(new URL('../k6/lib/summary.ts', import.meta.url).href)) as K6Summary
