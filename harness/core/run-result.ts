/**
 * The canonical result of one audit: findings.json (DESIGN §5). Every report
 * format is derived from this document and nothing else.
 */
import type { CheckResult } from './check.js'
import type { Finding } from './finding.js'
import { atOrAbove } from './severity.js'
import type { Severity } from './severity.js'

/**
 * One cell of the isolation matrix: how an actor kind fared against a context.
 * `leaked` = should be denied but was served (or saw a canary); `wrongly-denied` =
 * the policy allows it but the target refused (a functional bug, and a sign the
 * oracle and the target disagree).
 */
export type MatrixVerdict = 'allowed' | 'denied' | 'leaked' | 'wrongly-denied' | 'not-tested'

/** Every verdict, worst first; the order of the HTML legend and of merging. */
export const MATRIX_VERDICTS: readonly MatrixVerdict[] = ['leaked', 'wrongly-denied', 'allowed', 'denied', 'not-tested']

export interface MatrixCell {
  /** `viewer`, `editor`, `admin`, `account_admin`, `platform_admin`, `support`, `anonymous`. */
  actorKind: string
  /** `app:own-workspace`, `app:sibling-workspace`, `app:other-account`, `dashboard:…`, `portal`. */
  column: string
  verdict: MatrixVerdict
  /** Requests behind this verdict. */
  probes: number
}

/**
 * What the adapter did on the harness's behalf during a run, so a report can say how much of the
 * audit was spent waiting on the target or renewing credentials. Counts only: no secret, no path.
 */
export interface TrafficStats {
  /** Throttled answers (429, or 503 with Retry-After) the adapter absorbed; the rate-limit probes' own are not counted. */
  throttled: number
  /** Requests sent again after a throttled answer. */
  resends: number
  /**
   * Milliseconds requests spent held: Retry-After and backoff before resends, and pacing holds. Summed
   * over requests (eight held at once for 1 s are 8 000), so it can exceed the run's wall time.
   */
  waitedMs: number
  /** Access tokens renewed (refresh grant or a new login). */
  renewals: number
  /** Renewals that failed (the old token was sent as it was). */
  renewalFailures: number
  /** Requests sent again once after a 401 on a token the harness believed valid. */
  unauthorizedResends: number
}

/** The run header of findings.json. */
export interface RunInfo {
  /** Unique per run (a UUID or timestamp id). */
  id: string
  /** ISO 8601 timestamp. */
  startedAt: string
  durationMs: number
  /** The fast-check seed; with the same target it replays the run. */
  seed: number
  target: { name: string; baseUrl: string }
  /** Seeded faults switched on in the reference server (empty for a real target). */
  faults: string[]
  /** Total requests sent to the target. */
  requests: number
  /** Topology size the plan was drawn with (replay needs it to rebuild the same shape). */
  topology?: 'default' | 'small' | undefined
  /** Throttling waited out and credentials renewed, over every process of the run. */
  traffic?: TrafficStats | undefined
  /** Where the wall time went (`tenant-audit run` only; timings, like durationMs, differ between runs). */
  phases?: RunPhases | undefined
}

/** The phases of a `tenant-audit run`, in milliseconds of wall time. */
export interface RunPhases {
  /** Target checks, server start (embedded), provisioning and logins, before Vitest starts. */
  prepareMs: number
  /** From starting Vitest to the first check starting (workers, imports, collection). */
  vitestStartMs: number
  /** From the first check's start to the last check's end. */
  checksMs: number
  /** From the last check's end to Vitest closing: the reports written, workers stopped. */
  reportMs: number
  /** Removing what provisioning created, stopping the embedded server. */
  teardownMs: number
}

/** findings.json, schema version 1. */
export interface AuditReport {
  schemaVersion: 1
  run: RunInfo
  checks: CheckResult[]
  findings: Finding[]
  matrix?: MatrixCell[] | undefined
}

/**
 * `--fail-on` when none is given: any finding above `info` fails the gate,
 * since every check hunts a real isolation defect.
 */
export const DEFAULT_FAIL_ON: Severity = 'low'

/** True when any check could not be run by the harness. */
export function hasHarnessErrors(report: AuditReport): boolean {
  return report.checks.some((c) => c.status === 'error')
}

/**
 * The findings half of the exit code: 1 when a finding is at or above `failOn`,
 * or when a check errored (an audit that did not run is not clean); else 0.
 */
export function exitCodeFor(report: AuditReport, failOn: Severity): 0 | 1 {
  if (hasHarnessErrors(report)) return 1
  return report.findings.some((f) => atOrAbove(f.severity, failOn)) ? 1 : 0
}

/**
 * True when inconclusive is all the run has: at least one check inconclusive and none passed or
 * failed (the rest skipped). Such a run verified nothing, so it cannot exit 0.
 */
export function onlyInconclusive(report: AuditReport): boolean {
  return report.checks.some((c) => c.status === 'inconclusive') &&
    !report.checks.some((c) => c.status === 'passed' || c.status === 'failed')
}

/**
 * The process exit code (DESIGN §6): 2 when any check errored (the harness
 * could not run it, which outranks findings), 1 for findings at or above `failOn`,
 * 2 when inconclusive is all the run has (no check could show anything), else 0.
 */
export function exitCode(report: AuditReport, failOn: Severity): 0 | 1 | 2 {
  if (hasHarnessErrors(report)) return 2
  const code = exitCodeFor(report, failOn)
  return code === 0 && onlyInconclusive(report) ? 2 : code
}

/**
 * The phase breakdown of a run from the times `run` took (epoch ms) and the checks' own start times
 * and durations: Vitest's start-up ends where the first check starts, the checks end where the last
 * one ends, the rest until Vitest closed is report writing and shutdown.
 */
export function runPhases(t: { prepareMs: number; vitestStart: number; vitestEnd: number; teardownMs: number }, checks: readonly Pick<CheckResult, 'startedAt' | 'durationMs'>[]): RunPhases {
  const spans = checks.flatMap((c) => {
    const start = c.startedAt === undefined ? NaN : Date.parse(c.startedAt)
    return Number.isNaN(start) ? [] : [[start, start + c.durationMs] as const]
  })
  const first = spans.length ? Math.max(t.vitestStart, Math.min(...spans.map((s) => s[0]))) : t.vitestEnd
  const last = spans.length ? Math.min(t.vitestEnd, Math.max(first, ...spans.map((s) => s[1]))) : t.vitestEnd
  const ms = (n: number) => Math.max(0, Math.round(n))
  return { prepareMs: ms(t.prepareMs), vitestStartMs: ms(first - t.vitestStart), checksMs: ms(last - first), reportMs: ms(t.vitestEnd - last), teardownMs: ms(t.teardownMs) }
}
