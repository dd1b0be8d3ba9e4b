import { describe, expect, it } from 'vitest'
import { parseAuditReport } from '../core/report-schema.js'
import { fixtureReport } from './fixture.test-helper.js'
import { render } from './json.js'

describe('findings.json', () => {
  it('round-trips through JSON and the schema', () => {
    const report = fixtureReport()
    const text = render(report)
    expect(JSON.parse(text)).toEqual(report)
    expect(parseAuditReport(text)).toEqual(report)
    expect(text.endsWith('}\n')).toBe(true)
  })

  it('puts keys in canonical order whatever the input order', () => {
    const { findings, checks, run, schemaVersion, matrix } = fixtureReport()
    const text = render({ matrix, findings, checks, run, schemaVersion })
    expect(Object.keys(JSON.parse(text))).toEqual(['schemaVersion', 'run', 'checks', 'findings', 'matrix'])
  })

  it('carries a run\'s phase breakdown (run.phases) through the schema, after the other run fields', () => {
    const report = fixtureReport()
    const phases = { prepareMs: 1200, vitestStartMs: 900, checksMs: 40_000, reportMs: 300, teardownMs: 450 }
    const text = render({ ...report, run: { ...report.run, phases } })
    expect(parseAuditReport(text).run.phases).toEqual(phases)
    expect(Object.keys(JSON.parse(text).run).at(-1)).toBe('phases')
    expect(() => parseAuditReport(text.replace('"teardownMs": 450', '"teardownMs": -1'))).toThrow()
    expect(JSON.parse(render(report)).run).not.toHaveProperty('phases')
  })
})
