import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { NASTY, fixtureReport } from './fixture.test-helper.js'
import { SCRIPT } from './html-assets.js'
import { render } from './html.js'

describe('report.html', () => {
  const report = fixtureReport()
  const html = render(report)

  it('draws the isolation matrix with one cell per (actor kind, column)', () => {
    const table = /<table id="isolation-matrix"[\s\S]*?<\/table>/.exec(html)?.[0] ?? ''
    expect(table).not.toBe('')
    const cells = [...table.matchAll(/<td [^>]*data-verdict="([a-z-]+)" data-actor="([^"]*)" data-column="([^"]*)"/g)]
    const kinds = ['admin', 'editor', 'viewer', 'anonymous'] // ACTOR_ORDER: most privileged first
    const columns = ['app:own-workspace', 'app:other-account', 'dashboard:own-workspace', 'portal']
    expect(cells).toHaveLength(kinds.length * columns.length)
    expect(new Set(cells.map((c) => `${c[2]}|${c[3]}`)).size).toBe(cells.length)
    expect([...table.matchAll(/<th scope="row">([^<]*)<\/th>/g)].map((m) => m[1])).toEqual(kinds)
    const verdict = (actor: string, column: string): string | undefined => cells.find((c) => c[2] === actor && c[3] === column)?.[1]
    expect(verdict('editor', 'app:other-account')).toBe('leaked')
    expect(verdict('admin', 'dashboard:own-workspace')).toBe('wrongly-denied')
    expect(verdict('anonymous', 'app:own-workspace')).toBe('not-tested')
    for (const label of ['allowed', 'denied', 'leaked', 'wrongly denied', 'not tested']) expect(html).toContain(`>${label}</span>`)
  })

  it('references nothing outside the file', () => {
    expect(html).not.toMatch(/\b(?:src|href|action|poster)\s*=\s*["']?\s*(?:https?:)?\/\//i)
    expect(html).not.toMatch(/url\(\s*["']?(?:https?:)?\/\//i)
    expect(html).not.toMatch(/@import/i)
    expect(html.match(/<script/g)).toHaveLength(1)
    // Absolute URLs appear only as escaped text (the target's base URL, evidence).
    for (const m of html.matchAll(/https?:\/\//g)) expect(html.slice(Math.max(0, m.index - 6), m.index)).not.toMatch(/["'(=]\s*$/)
  })

  it('pins its script with a CSP hash and the script runs without errors', () => {
    const hash = createHash('sha256').update(SCRIPT).digest('base64')
    expect(html).toContain(`script-src 'sha256-${hash}'`)
    expect(html).toContain(`<script>${SCRIPT}</script>`)
    // A stand-in DOM: the script must not throw when elements are present or absent.
    const list = (items: unknown[]) => ({ forEach: (f: (x: unknown) => void) => items.forEach(f) })
    const doc = { querySelectorAll: () => list([]), getElementById: () => null }
    expect(() => new Function('document', 'navigator', SCRIPT)(doc, {})).not.toThrow()
  })

  it('escapes every target-controlled value', () => {
    expect(html).not.toContain(NASTY)
    expect(html).not.toContain('<script>alert')
    expect(html).not.toContain('</pre><b>')
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;')
    expect(html).toContain('<title>tenant-audit — reference &lt;clean&gt;</title>')
  })

  it('shows header, summary, checks and each finding with evidence and repro', () => {
    expect(html).toContain('<span class="status exit-2" id="exit-status">exit 2</span>')
    expect(html).toMatch(/<b>2<\/b>checks failed/)
    for (const c of report.checks) expect(html).toContain(`<code>${c.id}</code>`)
    for (const f of report.findings) expect(html).toContain(`<article class="finding" id="${f.id}" data-severity="${f.severity}">`)
    expect(html).toContain('Authorization: Bearer $TOKEN')
    expect(html).toContain('seed 42 · path 0:1:1')
    expect(html).toContain('HTTP 200')
    expect(html.indexOf('id="F-0002"')).toBeLessThan(html.indexOf('id="F-0003"')) // most severe first
  })

  it('says so when no matrix was recorded', () => {
    const r = fixtureReport()
    delete r.matrix
    expect(render(r)).toContain('No isolation matrix was recorded')
  })
})
