import { describe, expect, it } from 'vitest'
import type { CheckStatus } from './check.js'
import { parseAuditReport } from './report-schema.js'
import { exitCode, exitCodeFor, runPhases } from './run-result.js'
import type { AuditReport } from './run-result.js'
import type { Severity } from './severity.js'

function report(findings: Severity[], statuses: CheckStatus[]): AuditReport {
  return {
    schemaVersion: 1,
    run: { id: 'r', startedAt: '2025-01-01T00:00:00Z', durationMs: 1, seed: 1, target: { name: 't', baseUrl: 'http://x' }, faults: [], requests: 0 },
    checks: statuses.map((status, i) => ({ id: `access/c${i}`, suite: 'access', title: 't', severity: 'high', status, findings: 0, requests: 0, durationMs: 0 })),
    findings: findings.map((severity, i) => ({
      id: `F-000${i + 1}`, checkId: 'access/c0', severity, title: 't', message: 'm', cwe: 639, owasp: 'API1:2023', fingerprint: 'a'.repeat(64),
    })),
  }
}

describe('exit codes', () => {
  it.each([
    // findings, statuses, failOn, exitCodeFor, exitCode
    [[], ['passed'], 'low', 0, 0],
    [[], ['passed', 'skipped'], 'critical', 0, 0],
    [['medium'], ['failed'], 'high', 0, 0],
    [['high'], ['failed'], 'high', 1, 1],
    [['critical'], ['failed'], 'low', 1, 1],
    [['info'], ['failed'], 'low', 0, 0],
    [['info'], ['failed'], 'info', 1, 1],
    [[], ['error'], 'critical', 1, 2],
    [['critical'], ['failed', 'error'], 'low', 1, 2],
    // Inconclusive is all the run has: nothing was shown, so it cannot exit 0.
    [[], ['inconclusive'], 'low', 0, 2],
    [[], ['inconclusive', 'skipped'], 'low', 0, 2],
    [[], ['passed', 'inconclusive'], 'low', 0, 0],
    [['high'], ['failed', 'inconclusive'], 'low', 1, 1],
    [[], ['skipped'], 'low', 0, 0],
  ] as const)('findings %j, checks %j, fail-on %s → %i / %i', (findings, statuses, failOn, forFindings, process) => {
    const r = report([...findings], [...statuses])
    expect(exitCodeFor(r, failOn)).toBe(forFindings)
    expect(exitCode(r, failOn)).toBe(process)
  })
})

describe('parseAuditReport', () => {
  it('round-trips a report and rejects other documents as usage errors', () => {
    const r = report(['high'], ['failed'])
    expect(parseAuditReport(JSON.stringify(r))).toEqual(r)
    const unsure = { ...r, checks: [{ ...r.checks[0]!, status: 'inconclusive' as const, reason: 'positive control failed', startedAt: '2025-01-01T00:00:01Z' }] }
    expect(parseAuditReport(JSON.stringify(unsure))).toEqual(unsure)
    expect(() => parseAuditReport('{nope')).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }))
    expect(() => parseAuditReport({ ...r, schemaVersion: 2 })).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }))
  })
})

describe('runPhases', () => {
  const at = (ms: number) => new Date(ms).toISOString()
  it('splits Vitest\'s time at the first check\'s start and the last check\'s end', () => {
    const t = { prepareMs: 1500, vitestStart: 10_000, vitestEnd: 30_000, teardownMs: 400 }
    const checks = [
      { startedAt: at(12_000), durationMs: 5_000 },
      { startedAt: at(11_000), durationMs: 2_000 },
      { startedAt: at(17_000), durationMs: 12_500 },
      { durationMs: 0 }, // skipped: never started
    ]
    expect(runPhases(t, checks)).toEqual({ prepareMs: 1500, vitestStartMs: 1000, checksMs: 18_500, reportMs: 500, teardownMs: 400 })
  })

  it('counts all of Vitest\'s time as start-up when no check started, and never a negative phase', () => {
    expect(runPhases({ prepareMs: 1, vitestStart: 100, vitestEnd: 300, teardownMs: 2 }, [])).toEqual({ prepareMs: 1, vitestStartMs: 200, checksMs: 0, reportMs: 0, teardownMs: 2 })
    const skewed = runPhases({ prepareMs: 0, vitestStart: 1000, vitestEnd: 2000, teardownMs: 0 }, [{ startedAt: at(900), durationMs: 1500 }])
    expect(Object.values(skewed).every((v) => v >= 0)).toBe(true)
    expect(skewed.vitestStartMs + skewed.checksMs + skewed.reportMs).toBe(1000)
  })
})
