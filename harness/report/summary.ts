/**
 * Counts shared by the human-facing formats (HTML header, Markdown verdict), so
 * both say the same thing about the same report.
 */
import { SEVERITIES, compareSeverity } from '../core/severity.js'
import type { Severity } from '../core/severity.js'
import type { CheckStatus } from '../core/check.js'
import type { AuditReport, TrafficStats } from '../core/run-result.js'
import type { Finding } from '../core/finding.js'

/** Check and finding totals of one report. */
export interface ReportCounts {
  checks: Record<CheckStatus, number>
  findings: Record<Severity, number>
  totalFindings: number
}

/** Counts checks by status and findings by severity. */
export function countReport(report: AuditReport): ReportCounts {
  const checks: Record<CheckStatus, number> = { passed: 0, failed: 0, inconclusive: 0, skipped: 0, error: 0 }
  for (const c of report.checks) checks[c.status]++
  const findings = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>
  for (const f of report.findings) findings[f.severity]++
  return { checks, findings, totalFindings: report.findings.length }
}

/** `2 critical, 1 high`: non-zero severities, most severe first. */
export function severityBreakdown(counts: ReportCounts): string {
  return SEVERITIES.filter((s) => counts.findings[s] > 0)
    .map((s) => `${counts.findings[s]} ${s}`)
    .join(', ')
}

/** Findings most severe first; ties keep run order (ids are assigned in run order). */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => compareSeverity(a.severity, b.severity) || a.id.localeCompare(b.id))
}

/** `12.3 s` / `850 ms`. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}

/** `1 finding` / `3 findings`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** One line for humans: `3 throttled (12.5 s waited), 2 renewals`; empty when nothing happened. */
export function describeTraffic(t: TrafficStats | undefined): string {
  if (!t) return ''
  const parts: string[] = []
  if (t.throttled) parts.push(`${t.throttled} throttled, ${t.resends} resent`)
  // Summed over requests: eight held at once for 1 s count 8 s, so this is not a share of the run's wall time.
  if (t.waitedMs) parts.push(`${(t.waitedMs / 1000).toFixed(1)} s of requests held by the target's limits`)
  if (t.renewals || t.renewalFailures) parts.push(`${t.renewals} token renewals${t.renewalFailures ? ` (${t.renewalFailures} failed)` : ''}`)
  if (t.unauthorizedResends) parts.push(`${t.unauthorizedResends} resent after 401`)
  return parts.join(', ')
}
