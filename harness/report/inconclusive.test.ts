import { describe, expect, it } from 'vitest'
import type { CheckResult } from '../core/check.js'
import { parseAuditReport } from '../core/report-schema.js'
import type { AuditReport } from '../core/run-result.js'
import { fixtureReport } from './fixture.test-helper.js'
import { render as html } from './html.js'
import { render as json } from './json.js'
import { render as junit } from './junit.js'
import { render as markdown } from './markdown.js'
import { render as sarif } from './sarif.js'

const REASON = 'positive control failed: a0.w0.editor GET /w/{workspaceId}/docs answered 401 <&>'

const unsure: CheckResult = {
  id: 'access/cross-tenant-write', suite: 'access', title: 'Foreign write', severity: 'critical', status: 'inconclusive',
  findings: 0, requests: 30, durationMs: 900, reason: REASON, startedAt: '2025-01-02T03:04:06.000Z', cwe: 639, owasp: 'API1:2023',
}

/** The shared fixture plus one inconclusive check. */
function withInconclusive(): AuditReport {
  const r = fixtureReport()
  return { ...r, checks: [...r.checks, unsure] }
}

/** A run where inconclusive is all there is (the rest skipped). */
function onlyInconclusive(): AuditReport {
  const r = fixtureReport()
  return { ...r, checks: [unsure, { ...r.checks[3]! }], findings: [] }
}

describe('the inconclusive status in every report', () => {
  it('findings.json carries it, its reason and start time, and reads back', () => {
    const text = json(withInconclusive())
    const back = parseAuditReport(text)
    expect(back.checks.at(-1)).toMatchObject({ status: 'inconclusive', reason: REASON, startedAt: unsure.startedAt })
  })

  it('junit.xml: a <skipped> saying inconclusive, with a status property, counted among the skipped', () => {
    const xml = junit(withInconclusive())
    expect(xml).toContain('<property name="tenant-audit.status" value="inconclusive"/>')
    expect(xml).toContain('<skipped message="inconclusive: positive control failed: a0.w0.editor GET /w/{workspaceId}/docs answered 401 &lt;&amp;&gt;"/>')
    expect(xml).toMatch(/<testsuites name="tenant-audit" tests="6" failures="2" errors="1" skipped="2"/)
  })

  it('results.sarif: a warning notification naming the check, no result', () => {
    const log = JSON.parse(sarif(withInconclusive())) as { runs: [{ invocations: [{ toolExecutionNotifications: { level: string; message: { text: string }; descriptor: { id: string } }[] }]; results: unknown[] }] }
    const notes = log.runs[0].invocations[0].toolExecutionNotifications
    expect(notes).toContainEqual({ level: 'warning', message: { text: `inconclusive: ${REASON}` }, descriptor: { id: 'access/cross-tenant-write' } })
    expect(log.runs[0].results).toHaveLength(fixtureReport().findings.length)
  })

  it('report.html: its own count card, row class and the exit status 2 when it is all the run has', () => {
    const page = html(withInconclusive())
    expect(page).toMatch(/<div class="card st-inconclusive"><b>1<\/b>checks inconclusive<\/div>/)
    expect(page).toContain('<td class="st-inconclusive">inconclusive</td>')
    expect(page).not.toContain(REASON) // escaped
    expect(page).toContain('answered 401 &lt;&amp;&gt;')
    expect(html(onlyInconclusive())).toContain('id="exit-status">exit 2</span>')
  })

  it('summary.md: counted, listed with its reason, and a verdict that is not "clean" when nothing could be shown', () => {
    const md = markdown(withInconclusive())
    expect(md).toContain('1 inconclusive ·')
    expect(md).toContain('### Inconclusive checks')
    expect(md).toContain('| access/cross-tenant-write |')
    const alone = markdown(onlyInconclusive())
    expect(alone).toMatch(/^## tenant-audit: ❔ inconclusive/)
    expect(alone).not.toContain('✅ clean')
  })
})
