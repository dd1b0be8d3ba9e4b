import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { CLI_TIMEOUT, runCli, tempOut } from './cli.js'

const CHROMIUM = '/usr/bin/chromium'
const present = existsSync(CHROMIUM)
if (!present && process.env.CI === 'true') throw new Error(`CI=true but ${CHROMIUM} is missing: .ci/run installs it (apt-get install chromium)`)

/**
 * The HTML report opened in a real browser (Debian's Chromium driven by playwright-core, never a
 * browser download): it renders the isolation matrix, shows a leaked cell for a seeded leak, and
 * logs no console error.
 */
describe.skipIf(!present)('report.html in headless Chromium', { timeout: CLI_TIMEOUT }, () => {
  it('renders the isolation matrix with no console errors', async () => {
    const out = tempOut('html')
    const res = await runCli(['run', '--faults', 'document-read-ignores-workspace', '--checks', 'access/cross-tenant-read,access/policy-matrix', '--seed', '7', '--topology', 'small', '--out', out])
    expect(res.code, res.stderr).toBe(1)
    const { chromium } = await import('playwright-core')
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    try {
      const page = await browser.newPage()
      const errors: string[] = []
      page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())))
      page.on('pageerror', (e) => errors.push(e.message))
      const requests: string[] = []
      page.on('request', (r) => void (r.url().startsWith('file:') || requests.push(r.url())))
      await page.goto(pathToFileURL(join(out, 'report.html')).href)
      const matrix = page.locator('#isolation-matrix')
      await expect.poll(() => matrix.count()).toBe(1)
      const verdicts = await page.locator('#isolation-matrix [data-verdict]').evaluateAll((cells) => cells.map((c) => c.getAttribute('data-verdict')))
      expect(verdicts.length).toBeGreaterThan(10)
      expect(verdicts).toContain('leaked')
      expect(verdicts).toContain('denied')
      expect(verdicts).toContain('allowed')
      const report = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as { findings: { id: string }[] }
      await expect.poll(() => page.getByText(report.findings[0]!.id).count()).toBeGreaterThan(0)
      await page.screenshot({ path: join(out, 'report.png'), fullPage: true })
      expect(errors).toEqual([])
      expect(requests, 'a self-contained report loads nothing').toEqual([])
    } finally {
      await browser.close()
    }
  })
})
