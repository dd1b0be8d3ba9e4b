import { describe, expect, it } from 'vitest'
import { fixtureReport } from './fixture.test-helper.js'
import { render } from './sarif.js'

interface Rule { id: string; name: string; defaultConfiguration: { level: string }; properties: { tags: string[]; 'security-severity': string } }
interface Result {
  ruleId: string; ruleIndex: number; level: string; message: { text: string }
  partialFingerprints: Record<string, string>
  locations: Array<{ physicalLocation: { artifactLocation: { uri: string; uriBaseId: string } }; logicalLocations?: Array<{ name: string; kind: string }> }>
  webResponse?: { statusCode: number }
}

describe('results.sarif', () => {
  const report = fixtureReport()
  const log = JSON.parse(render(report))
  const run = log.runs[0]
  const rules: Rule[] = run.tool.driver.rules
  const results: Result[] = run.results

  it('is a SARIF 2.1.0 log', () => {
    expect(log.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json')
    expect(log.version).toBe('2.1.0')
    expect(run.tool.driver.name).toBe('tenant-audit')
    expect(run.invocations[0].executionSuccessful).toBe(false) // one check errored
    expect(run.invocations[0].toolExecutionNotifications[0].descriptor.id).toBe('audit/hash-chain')
  })

  it('has one rule per check with CWE and OWASP tags and a security severity', () => {
    expect(rules.map((r) => r.id)).toEqual(report.checks.map((c) => c.id))
    const leak = rules[0]
    expect(leak).toMatchObject({ name: 'CrossTenantRead', defaultConfiguration: { level: 'error' } })
    expect(leak?.properties.tags).toEqual(['security', 'CWE-639', 'OWASP-API1:2023'])
    expect(leak?.properties['security-severity']).toBe('9.0')
    // forgery/alg-none has no cwe in its check row: taken from its finding.
    expect(rules[2]?.properties.tags).toContain('CWE-347')
    expect(rules[3]).toMatchObject({ defaultConfiguration: { level: 'warning' }, properties: { 'security-severity': '5.0' } })
  })

  it('has results with rule indexes, levels and fingerprints', () => {
    expect(results).toHaveLength(3)
    for (const [i, r] of results.entries()) {
      expect(rules[r.ruleIndex]?.id).toBe(r.ruleId)
      expect(r.partialFingerprints['tenantAudit/v1']).toBe(report.findings[i]?.fingerprint)
    }
    expect(results.map((r) => r.level)).toEqual(['error', 'error', 'note'])
    expect(results[0]?.message.text).toContain('(actor: editor@account-a, victim: account-b/workspace-1)')
    expect(results[0]?.webResponse?.statusCode).toBe(200)
  })

  it('locates results on the operation template, else the check file', () => {
    expect(results[0]?.locations[0]).toEqual({
      physicalLocation: { artifactLocation: { uri: 'app/v1/workspaces/%7BworkspaceId%7D/documents/%7BdocumentId%7D', uriBaseId: 'TARGET' } },
      logicalLocations: [{ name: 'GET /app/v1/workspaces/{workspaceId}/documents/{documentId}', kind: 'function' }],
    })
    expect(run.originalUriBaseIds.TARGET.uri).toBe('http://127.0.0.1:4010/')
    expect(results[1]?.locations[0]).toEqual({
      physicalLocation: { artifactLocation: { uri: 'suites/forgery/alg-none.check.ts', uriBaseId: '%SRCROOT%' } },
    })
  })
})
