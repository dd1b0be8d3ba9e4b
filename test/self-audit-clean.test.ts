import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FAULTS } from '../reference-server/faults/index.js'
import { registry } from '../suites/index.js'
import { CLI_TIMEOUT, runCli, tempOut } from './cli.js'

/** Checks the embedded server cannot show, each skipped with its reason (and shown failing elsewhere). */
const SKIPPED: Record<string, RegExp> = {
  // Races cannot show on the embedded PGlite server (one transaction at a time): test/race.test.ts runs them on Postgres.
  'forgery/refresh-race': /PGlite, one transaction at a time/,
  'access/demotion-race': /PGlite, one transaction at a time/,
  // A 30-day refresh family is not waited out: test/refresh-family.test.ts runs a server with a 15 s one.
  'forgery/refresh-family-lifetime': /too long to wait out/,
}

describe('self-audit: the clean reference server', { timeout: CLI_TIMEOUT }, () => {
  it('`run` exits 0 with every check passed, no findings, and all five reports', async () => {
    const out = tempOut('clean')
    const res = await runCli(['run', '--seed', '7', '--topology', 'small', '--out', out])
    expect(res.code, res.stderr).toBe(0)
    for (const f of ['findings.json', 'junit.xml', 'results.sarif', 'report.html', 'summary.md']) expect(existsSync(join(out, f)), f).toBe(true)
    const report = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as { run: { traffic: { renewalFailures: number } }; checks: { id: string; status: string; reason?: string; requests: number }[]; findings: unknown[] }
    expect(report.findings).toEqual([])
    // On a clean server every session the harness still renews is alive: a failed renewal is a session a
    // check ended (a removed member, a revoked family) and did not retire, so a login was sent for nobody.
    expect(report.run.traffic.renewalFailures, res.stderr).toBe(0)
    expect(report.checks.map((c) => c.id).sort()).toEqual(registry.all.map((c) => c.id).sort())
    for (const c of report.checks) {
      if (SKIPPED[c.id]) {
        expect(c.status, c.id).toBe('skipped')
        expect(c.reason, c.id).toMatch(SKIPPED[c.id]!)
        continue
      }
      expect(c.status, c.id).toBe('passed')
      // Every check probes the target, except the one that reads only the contract document.
      if (c.id !== 'access/annotations') expect(c.requests, `${c.id} sent no request`).toBeGreaterThan(0)
    }
  })

  it('every check is claimed by at least one seeded fault, and every claimed check exists', () => {
    const claimed = new Set(FAULTS.flatMap((f) => f.detectedBy))
    for (const check of registry.all) expect(claimed.has(check.id), `${check.id} is caught by no fault: a check that cannot fail`).toBe(true)
    for (const f of FAULTS) for (const id of f.detectedBy) expect(registry.get(id), `${f.name} names unknown check ${id}`).toBeDefined()
  })
})
