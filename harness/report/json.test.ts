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
})
