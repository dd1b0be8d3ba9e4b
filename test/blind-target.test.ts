import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { registry } from '../suites/index.js'
import { ROOT } from './cli.js'
import { BLIND_AUDIT_TIMEOUT, CAUGHT_BY, GENUINE, NOT_CAUGHT, NOT_OFFERED, auditBlind, blindDefectsAreCaught } from './blind.shared.js'

/**
 * A deployment nobody here wrote (issue 10): written from DESIGN §2 and the issue alone, other names,
 * both tenant ids in the path, its own event schema and chain recipe, 60-second tokens, 30 requests/s
 * per tenant. Clean, it is audited with no finding but its genuine, unplanted defects (GENUINE), and
 * nothing skipped but what it does not offer; each planted defect, switched on alone, is reported by
 * the checks that claim it. The clean audit and the defect audits (two chains) run side by side, each
 * against its own blind target: they spend most of their time waiting on the target's own limits
 * (lockouts, token lifetime, 30 requests/s), so one worker holds them all.
 */
describe.concurrent('the blind target', () => {
  it('clean: every check runs and passes, except what the target does not offer; no finding but the genuine ones', { timeout: BLIND_AUDIT_TIMEOUT }, async () => {
    const { code, stderr, report } = await auditBlind([], ['--seed', '5', '--runs', '30'])
    const errored = report?.checks.filter((c) => c.status === 'error' || c.status === 'inconclusive').map((c) => `${c.id} ${c.status}: ${c.reason ?? ''}`) ?? []
    const listed = `${stderr}\n${[...errored, ...(report?.findings.map((f) => `${f.checkId}: ${f.message}`) ?? [])].join('\n')}`
    const genuine = (f: { checkId: string; message: string }) => GENUINE[f.checkId]?.match.test(f.message) === true
    expect(report, `no report (exit ${code}): ${stderr}`).toBeDefined()
    // The genuine, unplanted findings (blind.shared.ts GENUINE) fail the run (exit 1); nothing else may.
    expect(report!.findings.filter((f) => !genuine(f)), listed).toEqual([])
    expect(code, listed).toBe(report!.findings.length > 0 ? 1 : 0)
    // Every session the harness still renews is alive: one a check ended and did not retire sends a login for nobody.
    expect(report!.run.traffic.renewalFailures, listed).toBe(0)
    for (const [id, g] of Object.entries(GENUINE)) if (g.always) expect(report!.findings.some((f) => f.checkId === id), id).toBe(true)
    expect(report!.checks.map((c) => c.id).sort()).toEqual(registry.all.map((c) => c.id).sort())
    for (const c of report!.checks) {
      const why = NOT_OFFERED[c.id]
      if (why) {
        expect(c.status, c.id).toBe('skipped')
        expect(c.reason, c.id).toMatch(why)
      } else if (GENUINE[c.id] && report!.findings.some((f) => f.checkId === c.id)) {
        expect(c.status, `${c.id} (genuine finding): ${c.reason ?? ''}`).toBe('failed')
      } else expect(c.status, `${c.id}: ${c.reason ?? ''}`).toBe('passed')
    }
  })

  blindDefectsAreCaught(Object.entries(CAUGHT_BY))

  it('every planted defect is claimed by a registered check, or listed with why it is not yet', () => {
    const doc = readFileSync(join(ROOT, 'fixtures/targets/blind/DEFECTS.md'), 'utf8')
    const planted = [...doc.matchAll(/^\| \d+ \| `([a-z0-9-]+)`/gm)].map((m) => m[1]!)
    expect(planted.length).toBeGreaterThanOrEqual(10)
    expect(planted.filter((d) => !(d in CAUGHT_BY) && !(d in NOT_CAUGHT))).toEqual([])
    for (const [defect, checks] of Object.entries(CAUGHT_BY)) {
      expect(doc, defect).toContain(`\`${defect}\``)
      for (const id of checks) expect(registry.get(id), `${defect}: ${id}`).toBeDefined()
    }
  })
})
