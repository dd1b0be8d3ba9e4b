/**
 * summary.md: a pull-request comment. Short on purpose: a verdict line a
 * reviewer reads in a second, the failed checks, the top findings; the rest
 * lives in report.html.
 */
import type { AuditReport } from '../core/run-result.js'
import { escapeMarkdownCell as cell } from './escape.js'
import { countReport, formatDuration, plural, severityBreakdown, sortFindings } from './summary.js'

/** At most this many findings are listed; a PR comment is not the report. */
export const TOP_FINDINGS = 20

function verdict(report: AuditReport): string {
  const counts = countReport(report)
  const target = `target \`${report.run.target.name.replace(/`/g, "'")}\` · seed ${report.run.seed}`
  const errors = counts.checks.error === 0 ? '' : ` · ⚠️ ${plural(counts.checks.error, 'check')} could not run`
  const inconclusive = counts.checks.inconclusive === 0 ? '' : ` · ❔ ${plural(counts.checks.inconclusive, 'check')} inconclusive`
  if (counts.totalFindings === 0 && counts.checks.error === 0) {
    if (counts.checks.inconclusive > 0 && counts.checks.passed === 0 && counts.checks.failed === 0) return `## tenant-audit: ❔ inconclusive — nothing could be shown${inconclusive} — ${target}`
    return `## tenant-audit: ✅ clean${inconclusive} — ${target}`
  }
  const found =
    counts.totalFindings === 0 ? '❌ no findings, but the audit is incomplete' : `❌ ${plural(counts.totalFindings, 'finding')} (${severityBreakdown(counts)})`
  return `## tenant-audit: ${found}${errors}${inconclusive} — ${target}`
}

function failedChecks(report: AuditReport): string[] {
  const bad = report.checks.filter((c) => c.status === 'failed' || c.status === 'error')
  if (bad.length === 0) return []
  return [
    '### Failed checks',
    '',
    '| check | severity | status | findings | title |',
    '|---|---|---|---:|---|',
    ...bad.map((c) => `| ${cell(c.id)} | ${cell(c.severity)} | ${cell(c.status)} | ${c.findings} | ${cell(c.status === 'error' ? `${c.title}: ${c.reason ?? ''}` : c.title)} |`),
    '',
  ]
}

function inconclusiveChecks(report: AuditReport): string[] {
  const unsure = report.checks.filter((c) => c.status === 'inconclusive')
  if (unsure.length === 0) return []
  return [
    '### Inconclusive checks',
    '',
    '| check | why |',
    '|---|---|',
    ...unsure.map((c) => `| ${cell(c.id)} | ${cell(c.reason ?? '')} |`),
    '',
  ]
}

// What checks learned (passed ones too), each note under its check.
function checkNotes(report: AuditReport): string[] {
  const noted = report.checks.filter((c) => (c.notes ?? []).length > 0)
  if (noted.length === 0) return []
  return [
    '### Notes',
    '',
    ...noted.flatMap((c) => [`- ${cell(c.id)} (${cell(c.status)})`, ...(c.notes ?? []).map((n) => `  - ${cell(n)}`)]),
    '',
  ]
}

function topFindings(report: AuditReport): string[] {
  if (report.findings.length === 0) return []
  const top = sortFindings(report.findings).slice(0, TOP_FINDINGS)
  const heading = report.findings.length > TOP_FINDINGS ? `### Top ${TOP_FINDINGS} of ${report.findings.length} findings` : '### Findings'
  return [
    heading,
    '',
    '| id | severity | check | message |',
    '|---|---|---|---|',
    ...top.map((f) => `| ${cell(f.id)} | ${cell(f.severity)} | ${cell(f.checkId)} | ${cell(f.message)} |`),
    '',
  ]
}

/** Renders summary.md. */
export function render(report: AuditReport): string {
  const counts = countReport(report)
  const c = counts.checks
  const traffic = report.run.traffic ?? { throttled: 0, resends: 0, waitedMs: 0, renewals: 0, renewalFailures: 0, unauthorizedResends: 0 }
  return [
    verdict(report),
    '',
    ...failedChecks(report),
    ...inconclusiveChecks(report),
    ...topFindings(report),
    ...checkNotes(report),
    `**Checks:** ${c.passed} passed · ${c.failed} failed · ${c.inconclusive} inconclusive · ${c.skipped} skipped · ${c.error} error  `,
    `**Findings:** ${counts.totalFindings === 0 ? 'none' : severityBreakdown(counts)}  `,
    `**Requests:** ${report.run.requests} · **Duration:** ${formatDuration(report.run.durationMs)} · **Faults:** ${report.run.faults.length === 0 ? 'none' : cell(report.run.faults.join(', '))}  `,
    `**Throttling:** ${traffic.throttled} throttled answers, ${traffic.resends} resent, ${formatDuration(traffic.waitedMs)} held by the target's limits (summed over requests) · **Tokens:** ${traffic.renewals} renewed${traffic.renewalFailures ? ` (${traffic.renewalFailures} failed)` : ''}, ${traffic.unauthorizedResends} resent after 401`,
    '',
    '_Full evidence and the isolation matrix: `report.html`; machine-readable: `findings.json`, `results.sarif`._',
    '',
  ].join('\n')
}
