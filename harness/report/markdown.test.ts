import { describe, expect, it } from 'vitest'
import { createFinding } from '../core/finding.js'
import { fixtureReport } from './fixture.test-helper.js'
import { TOP_FINDINGS, render } from './markdown.js'

describe('summary.md', () => {
  it('starts with a one-line verdict and lists failed checks', () => {
    const md = render(fixtureReport())
    const first = md.split('\n')[0] ?? ''
    expect(first).toMatch(/^## tenant-audit: ❌ 3 findings \(1 critical, 1 high, 1 low\) · ⚠️ 1 check could not run — target `reference <clean>`/)
    expect(md).toContain('### Failed checks')
    expect(md).toContain('| access/cross-tenant-read | critical | failed | 2 |')
    expect(md).toContain('| audit/hash-chain | medium | error | 0 |')
    expect(md).not.toContain('access/private-notes')
    expect(md).toContain('**Checks:** 1 passed · 2 failed · 0 inconclusive · 1 skipped · 1 error')
  })

  it('escapes pipes, markup and newlines in cells', () => {
    const md = render(fixtureReport())
    const row = md.split('\n').find((l) => l.startsWith('| F-0002 |')) ?? ''
    expect(row).toBe('| F-0002 | high | forgery/alg-none | token with alg=none accepted \\| status 200 |')
    // A data row has exactly 5 unescaped pipes whatever the message holds.
    for (const line of md.split('\n').filter((l) => l.startsWith('| F-'))) expect(line.match(/(?<!\\)\|/g)).toHaveLength(5)
    expect(md).not.toContain('<script>')
  })

  it('says clean when there is nothing to report', () => {
    const r = fixtureReport()
    r.findings = []
    r.checks = r.checks.filter((c) => c.status === 'passed')
    expect(render(r).split('\n')[0]).toBe('## tenant-audit: ✅ clean — target `reference <clean>` · seed 42')
  })

  it('lists at most the top findings, most severe first', () => {
    const r = fixtureReport()
    r.findings = Array.from({ length: 30 }, (_, i) =>
      createFinding({ seq: i + 1, checkId: 'access/x', severity: i === 29 ? 'critical' : 'low', title: 't', message: `m${i}`, cwe: 1, owasp: 'API1:2023', dedupKey: String(i) }),
    )
    const md = render(r)
    expect(md).toContain(`### Top ${TOP_FINDINGS} of 30 findings`)
    expect(md.match(/^\| F-/gm)).toHaveLength(TOP_FINDINGS)
    expect(md.split('\n').find((l) => l.startsWith('| F-'))).toContain('F-0030 | critical')
  })
})
