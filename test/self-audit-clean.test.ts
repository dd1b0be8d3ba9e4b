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
    const report = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as { run: { traffic: { renewalFailures: number } }; checks: { id: string; suite: string; status: string; reason?: string; requests: number; startedAt: string; durationMs: number }[]; findings: unknown[] }
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
    // A check that runs alone has nothing in flight beside it, the early ones included (they work through the
    // first suite instead of their own: on this server the quota checks, whose accounts are their own).
    const span = (c: typeof report.checks[0]) => [Date.parse(c.startedAt), Date.parse(c.startedAt) + c.durationMs] as const
    for (const lone of report.checks.filter((c) => registry.get(c.id)?.exclusive === true)) {
      const [s0, e0] = span(lone)
      for (const other of report.checks.filter((c) => c !== lone)) {
        const [s1, e1] = span(other)
        expect(s1 >= e0 || e1 <= s0, `${other.id} ran while ${lone.id}, which runs alone, ran`).toBe(true)
      }
    }
    const early = report.checks.filter((c) => registry.get(c.id)?.early)
    expect(early.map((c) => c.id).length).toBeGreaterThan(0)
    const firstOfSuite = (suite: string) => Math.min(...report.checks.filter((c) => c.suite === suite && !registry.get(c.id)?.early).map((c) => span(c)[0]))
    for (const c of early) expect(span(c)[1], `${c.id} did not end before its suite began`).toBeLessThanOrEqual(firstOfSuite(c.suite))
  })

  it('every check is claimed by at least one seeded fault, and every claimed check exists', () => {
    const claimed = new Set(FAULTS.flatMap((f) => f.detectedBy))
    for (const check of registry.all) expect(claimed.has(check.id), `${check.id} is caught by no fault: a check that cannot fail`).toBe(true)
    for (const f of FAULTS) for (const id of f.detectedBy) expect(registry.get(id), `${f.name} names unknown check ${id}`).toBeDefined()
  })
})
