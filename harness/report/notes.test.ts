import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseAuditReport } from '../core/report-schema.js'
import type { AuditReport } from '../core/run-result.js'
import { NASTY, PLANTED_SECRET, fixtureReport } from './fixture.test-helper.js'
import { REPORT_FILES, renderHtml, renderJson, renderJunit, renderMarkdown, renderSarif, writeReports } from './index.js'

const SKEW = 'accepted an access token expired 1 s ago; refused 30 s (the profile allows 60 s)'

/** The fixture with notes on a passed check (two lines, one hostile) and on the inconclusive one. */
function noted(): AuditReport {
  const r = fixtureReport()
  r.checks[1]!.notes = [SKEW, `odd: ${NASTY}`]
  r.checks.push({ id: 'audit/no-secrets', suite: 'audit', title: 'Secret recorded in the audit trail', severity: 'high', status: 'inconclusive', findings: 0, requests: 9, durationMs: 50, reason: 'control refused', notes: ['searched 12 events'] })
  return r
}

describe('check notes in every report', () => {
  it('findings.json carries checks[].notes and the schema reads them back', () => {
    const text = renderJson(noted())
    const back = parseAuditReport(text)
    expect(back.checks[1]?.notes).toEqual([SKEW, `odd: ${NASTY}`])
    expect(back.checks[0]?.notes).toBeUndefined() // optional: a check without notes has no key
    expect('notes' in (JSON.parse(text) as AuditReport).checks[0]!).toBe(false)
    const bad = JSON.parse(text) as { checks: { notes?: unknown }[] }
    bad.checks[1]!.notes = [1]
    expect(() => parseAuditReport(bad)).toThrow(/not a schemaVersion 1 report/)
  })

  it('junit.xml: one tenant-audit.note property per note, a passed case included, escaped', () => {
    const xml = renderJunit(noted())
    const passed = /<testcase classname="access" name="access\/private-notes"[^>]*>([\s\S]*?)<\/testcase>/.exec(xml)?.[1] ?? ''
    expect(passed).toContain(`<property name="tenant-audit.note" value="${SKEW}"/>`)
    expect(passed).toContain('value="odd: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;')
    expect(passed).not.toMatch(/<failure|<skipped|<error/)
    // The inconclusive case keeps its status property, in the same single <properties> block.
    const unsure = /name="audit\/no-secrets"[^>]*>([\s\S]*?)<\/testcase>/.exec(xml)?.[1] ?? ''
    expect(unsure.match(/<properties>/g)).toHaveLength(1)
    expect(unsure).toMatch(/<property name="tenant-audit.status" value="inconclusive"\/>\s*<property name="tenant-audit.note" value="searched 12 events"\/>\s*<\/properties>\s*<skipped /)
    // A passed check without notes stays a self-closing testcase.
    expect(renderJunit(fixtureReport())).toContain('<testcase classname="access" name="access/private-notes" time="2.000"/>')
  })

  it('report.html lists the notes under the check title, escaped', () => {
    const html = renderHtml(noted())
    const row = /<tr><td><code>access\/private-notes<\/code>[\s\S]*?<\/tr>/.exec(html)?.[0] ?? ''
    expect(row).toContain(`<ul class="notes"><li>${SKEW}</li><li>odd: &lt;script&gt;`)
    expect(html).not.toContain('<script>alert')
    expect(renderHtml(fixtureReport())).not.toContain('class="notes"')
  })

  it('summary.md has a Notes section with each note under its check', () => {
    const md = renderMarkdown(noted())
    const section = md.slice(md.indexOf('### Notes'))
    expect(section.split('\n').slice(0, 7)).toEqual([
      '### Notes',
      '',
      '- access/private-notes (passed)',
      `  - ${SKEW}`,
      expect.stringMatching(/^ {2}- odd: &lt;script&gt;alert\("x"\)&lt;\/script&gt; &amp; 'quoted' \\\| pipe/),
      '- audit/no-secrets (inconclusive)',
      '  - searched 12 events',
    ])
    expect(renderMarkdown(fixtureReport())).not.toContain('### Notes')
  })

  it('results.sarif: each note is a note-level notification naming its check, not a result', () => {
    const run = JSON.parse(renderSarif(noted())).runs[0] as { results: unknown[]; invocations: { toolExecutionNotifications: { level: string; message: { text: string }; descriptor: { id: string } }[] }[] }
    const notes = run.invocations[0]!.toolExecutionNotifications.filter((n) => n.level === 'note')
    expect(notes.map((n) => [n.descriptor.id, n.message.text])).toEqual([
      ['access/private-notes', SKEW], ['access/private-notes', `odd: ${NASTY}`], ['audit/no-secrets', 'searched 12 events'],
    ])
    expect(run.results).toHaveLength(fixtureReport().findings.length)
  })

  it('a secret that slipped into a note is scrubbed from every written file', async () => {
    const r = noted()
    r.checks[1]!.notes = [`carried ${PLANTED_SECRET} by mistake`]
    const dir = await mkdtemp(path.join(tmpdir(), 'ta-notes-'))
    try {
      const out = path.join(dir, 'out')
      await writeReports(r, out, { secrets: [PLANTED_SECRET] })
      for (const name of Object.keys(REPORT_FILES)) {
        const text = await readFile(path.join(out, name), 'utf8')
        expect(text, name).not.toContain(PLANTED_SECRET)
        expect(text, name).toContain('by mistake')
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
