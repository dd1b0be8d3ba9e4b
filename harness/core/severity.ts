/**
 * Finding severities and their ordering. `--fail-on` compares against these.
 */

/** How bad a finding is, most severe first. */
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info'

/** Every severity, most severe first; the canonical order for reports and summaries. */
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info']

// Higher number = more severe, so "at or above" is a plain `>=`.
const RANK: Readonly<Record<Severity, number>> = {
  critical: 4,
  high: 3,
  medium: 2,
  low: 1,
  info: 0,
}

/** Numeric rank of a severity: `critical` = 4 … `info` = 0. */
export function severityRank(severity: Severity): number {
  return RANK[severity]
}

/** True when `severity` is as severe as `threshold` or more. */
export function atOrAbove(severity: Severity, threshold: Severity): boolean {
  return RANK[severity] >= RANK[threshold]
}

/** Comparator for `Array.prototype.sort`: most severe first. */
export function compareSeverity(a: Severity, b: Severity): number {
  return RANK[b] - RANK[a]
}

/** Type guard for untrusted input such as the `--fail-on` flag. */
export function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && Object.hasOwn(RANK, value)
}
