import { describe, expect, it } from 'vitest'
import { buildReport } from './reporter.js'
import type { CheckMeta } from './state.js'

const meta = (id: string, suite: CheckMeta['result']['suite'], notes?: string[]): CheckMeta => ({
  result: { id, suite, title: id, severity: 'high', status: 'passed', findings: 0, requests: 4, durationMs: 10, cwe: 347, owasp: 'API2:2023', notes },
  findings: [],
  matrix: [],
})

describe('buildReport', () => {
  it("carries a check's notes from task.meta to findings.json checks[].notes", () => {
    const report = buildReport([meta('audit/no-secrets', 'audit', ['searched 3 events']), meta('forgery/token-lifetime', 'forgery', ['accepted an access token expired 1 s ago; refused 30 s'])])
    expect(report.checks.map((c) => [c.id, c.notes])).toEqual([
      ['forgery/token-lifetime', ['accepted an access token expired 1 s ago; refused 30 s']],
      ['audit/no-secrets', ['searched 3 events']],
    ])
    expect('notes' in buildReport([meta('audit/no-secrets', 'audit')]).checks[0]!).toBe(false)
  })
})
