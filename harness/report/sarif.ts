/**
 * results.sarif (SARIF 2.1.0) for GitHub code scanning and other consumers.
 * Findings are about HTTP endpoints, not source lines, so a result's location
 * is the operation's path template relative to the target (`uriBaseId: TARGET`),
 * falling back to the check's own source file; the HTTP exchange goes in
 * SARIF's own `webRequest` / `webResponse` objects.
 */
import { checkFilePath } from '../core/check.js'
import type { CheckResult } from '../core/check.js'
import type { Finding } from '../core/finding.js'
import { hasHarnessErrors } from '../core/run-result.js'
import type { AuditReport } from '../core/run-result.js'
import type { Severity } from '../core/severity.js'

type Level = 'error' | 'warning' | 'note'
const LEVEL: Readonly<Record<Severity, Level>> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' }
// GitHub buckets security-severity as ≥9 critical, 7–8.9 high, 4–6.9 medium, 0.1–3.9 low.
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  critical: '9.0', high: '7.0', medium: '5.0', low: '3.0', info: '1.0',
}

/** `access/cross-tenant-read` → `CrossTenantRead` (SARIF wants an identifier-like rule name). */
function ruleName(checkId: string): string {
  const tail = checkId.slice(checkId.indexOf('/') + 1)
  return tail.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')
}

type RuleSource = Pick<CheckResult, 'id' | 'title' | 'severity'> & { cwe?: number | undefined; owasp?: string | undefined }

function rule(src: RuleSource): Record<string, unknown> {
  const tags = ['security']
  if (src.cwe !== undefined) tags.push(`CWE-${src.cwe}`)
  if (src.owasp !== undefined) tags.push(`OWASP-${src.owasp}`)
  const refs = [src.cwe === undefined ? '' : `CWE-${src.cwe}`, src.owasp === undefined ? '' : `OWASP ${src.owasp}`]
    .filter((s) => s !== '')
    .join(', ')
  return {
    id: src.id,
    name: ruleName(src.id),
    shortDescription: { text: src.title },
    fullDescription: { text: refs === '' ? src.title : `${src.title} (${refs}).` },
    defaultConfiguration: { level: LEVEL[src.severity] },
    properties: { tags, 'security-severity': SECURITY_SEVERITY[src.severity], cwe: src.cwe, owasp: src.owasp },
  }
}

function location(f: Finding): Record<string, unknown> {
  // Path templates have `{param}`: encodeURI makes them valid URI references.
  const physicalLocation =
    f.operation !== undefined
      ? { artifactLocation: { uri: encodeURI(f.operation.pathTemplate.replace(/^\/+/, '')), uriBaseId: 'TARGET' } }
      : { artifactLocation: { uri: checkFilePath(f.checkId), uriBaseId: '%SRCROOT%' } }
  const method = f.operation?.method ?? f.evidence?.request.method
  const path = f.operation?.pathTemplate ?? pathOf(f.evidence?.request.url)
  const loc: Record<string, unknown> = { physicalLocation }
  if (method !== undefined && path !== undefined) loc.logicalLocations = [{ name: `${method.toUpperCase()} ${path}`, kind: 'function' }]
  return loc
}

function pathOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined
  try {
    return new URL(url, 'http://target.invalid').pathname
  } catch {
    return undefined
  }
}

function result(f: Finding, ruleIndex: number): Record<string, unknown> {
  const who = [f.actor === undefined ? '' : `actor: ${f.actor}`, f.victim === undefined ? '' : `victim: ${f.victim}`]
    .filter((s) => s !== '')
    .join(', ')
  const out: Record<string, unknown> = {
    ruleId: f.checkId,
    ruleIndex,
    level: LEVEL[f.severity],
    message: { text: who === '' ? f.message : `${f.message} (${who})` },
    locations: [location(f)],
    partialFingerprints: { 'tenantAudit/v1': f.fingerprint },
    properties: { findingId: f.id, severity: f.severity, actor: f.actor, victim: f.victim, repro: f.repro },
  }
  if (f.evidence !== undefined) {
    const { request: q, response: r } = f.evidence
    out.webRequest = { target: q.url, method: q.method, headers: q.headers, ...(q.body === undefined ? {} : { body: { text: q.body } }) }
    out.webResponse = { statusCode: r.status, headers: r.headers, ...(r.body === undefined ? {} : { body: { text: r.body } }) }
  }
  return out
}

/** Renders the report as a SARIF 2.1.0 log with one run, one rule per check. */
export function render(report: AuditReport): string {
  const sources: RuleSource[] = report.checks.map((c) => ({
    ...c,
    cwe: c.cwe ?? report.findings.find((f) => f.checkId === c.id)?.cwe,
    owasp: c.owasp ?? report.findings.find((f) => f.checkId === c.id)?.owasp,
  }))
  // A finding from a check missing in `checks` still needs a rule to point at.
  for (const f of report.findings) if (!sources.some((s) => s.id === f.checkId)) sources.push({ ...f, id: f.checkId })
  const index = new Map(sources.map((s, i) => [s.id, i]))

  const { run } = report
  const start = Date.parse(run.startedAt)
  const baseUrl = run.target.baseUrl.endsWith('/') ? run.target.baseUrl : `${run.target.baseUrl}/`
  const errored = report.checks.filter((c) => c.status === 'error')
  const inconclusive = report.checks.filter((c) => c.status === 'inconclusive')
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'tenant-audit', rules: sources.map(rule) } },
        // One category per target, so scans of staging and of the reference server do not replace each other.
        automationDetails: { id: `tenant-audit/${run.target.name}/` },
        originalUriBaseIds: { TARGET: { uri: baseUrl } },
        invocations: [
          {
            executionSuccessful: !hasHarnessErrors(report),
            ...(Number.isNaN(start) ? {} : { startTimeUtc: new Date(start).toISOString(), endTimeUtc: new Date(start + run.durationMs).toISOString() }),
            toolExecutionNotifications: [
              ...errored.map((c) => ({
                level: 'error',
                message: { text: c.reason ?? 'the harness could not run this check' },
                descriptor: { id: c.id },
              })),
              // The check ran but proved nothing: not a result (no defect), not an error (the harness worked).
              ...inconclusive.map((c) => ({
                level: 'warning',
                message: { text: `inconclusive: ${c.reason ?? 'a positive control failed'}` },
                descriptor: { id: c.id },
              })),
              // What a check learned (passed ones too): SARIF's informational level, not a result.
              ...report.checks.flatMap((c) => (c.notes ?? []).map((n) => ({
                level: 'note',
                message: { text: n },
                descriptor: { id: c.id },
              }))),
            ],
          },
        ],
        results: report.findings.map((f) => result(f, index.get(f.checkId) ?? 0)),
        properties: { runId: run.id, seed: run.seed, faults: run.faults, requests: run.requests, target: run.target },
      },
    ],
  }
  return `${JSON.stringify(log, null, 2)}\n`
}
