import { randomUUID } from 'node:crypto'
import type { Reporter, TestModule, TestCase } from 'vitest/node'
import { resolveFindings, toCheckResult, SUITES } from '../core/check.js'
import type { CheckResult } from '../core/check.js'
import type { Finding } from '../core/finding.js'
import type { AuditReport } from '../core/run-result.js'
import { writeReports } from '../report/index.js'
import { mergeMatrices } from '../engine/matrix.js'
import { addTraffic, emptyTraffic } from '../adapters/traffic.js'
import { readSettings } from './settings.js'
import { runState } from './state.js'
import type { CheckMeta } from './state.js'

/** Builds the canonical report from the checks' `task.meta` (pure: the CLI and tests call it too). */
export function buildReport(metas: CheckMeta[]): AuditReport {
  const state = runState()
  const ordered = [...metas].sort((a, b) => SUITES.indexOf(a.result.suite) - SUITES.indexOf(b.result.suite))
  const checks: CheckResult[] = []
  const findings: Finding[] = []
  for (const m of ordered) {
    const def = { ...m.result, cwe: m.result.cwe ?? 0, owasp: m.result.owasp ?? '' }
    const resolved = resolveFindings(def, m.findings, findings.length + 1)
    findings.push(...resolved)
    checks.push(toCheckResult(def, { ...m.result, findings: resolved.length }))
  }
  const requests = (state?.provisioningRequests ?? 0) + checks.reduce((n, c) => n + c.requests, 0)
  // Preparation's counts (this process) plus each check's (the worker's, carried on task.meta).
  const traffic = ordered.reduce((t, m) => addTraffic(t, m.traffic), addTraffic(emptyTraffic(), state?.traffic))
  return {
    schemaVersion: 1,
    run: {
      id: randomUUID(),
      startedAt: new Date(state?.startedAt ?? Date.now()).toISOString(),
      durationMs: Date.now() - (state?.startedAt ?? Date.now()),
      seed: state?.seed ?? 0,
      target: state?.target ?? { name: 'unknown', baseUrl: '' },
      faults: state?.faults ?? [],
      requests,
      topology: state?.topology,
      traffic,
    },
    checks,
    findings,
    matrix: mergeMatrices(ordered.map((m) => m.matrix)),
  }
}

/**
 * Collects every check's outcome at the end of the run and writes the five report files to
 * TENANT_AUDIT_OUT. It does nothing when the global setup failed: no target, no report, and the
 * CLI exits 2 instead of writing an empty "clean" one.
 */
export default class AuditReporter implements Reporter {
  report: AuditReport | undefined
  private done = 0

  onTestCaseResult(test: TestCase): void {
    const meta = test.meta().tenantAudit
    if (!meta || process.env.CI === 'true' || process.env.TENANT_AUDIT_QUIET === '1') return
    this.done++
    const r = meta.result
    const mark = r.status === 'passed' ? '✓' : r.status === 'failed' ? '✗' : r.status === 'skipped' ? '-' : r.status === 'inconclusive' ? '?' : '!'
    process.stderr.write(`  ${mark} ${r.id.padEnd(36)} ${String(r.requests).padStart(5)} req  ${r.findings ? `${r.findings} finding(s)` : ''}${r.status === 'inconclusive' ? 'inconclusive' : ''}\n`)
  }

  async onTestRunEnd(modules: readonly TestModule[]): Promise<void> {
    const state = runState()
    if (!state || state.error) return
    const metas: CheckMeta[] = []
    for (const m of modules) for (const t of m.children.allTests()) {
      const meta = t.meta().tenantAudit
      if (meta) metas.push(meta)
    }
    this.report = buildReport(metas)
    const settings = readSettings()
    await writeReports(this.report, settings.TENANT_AUDIT_OUT, { secrets: state.secrets, failOn: settings.TENANT_AUDIT_FAIL_ON })
  }
}
