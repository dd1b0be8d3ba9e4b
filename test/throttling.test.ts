import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { proxiedAudits } from './support/proxied-audit.js'
import { CLI_TIMEOUT } from './cli.js'

/**
 * Throttling is the target's business, not a finding (issue 10, item 1): the reference server behind
 * a proxy that answers every 7th request 429 + Retry-After is audited clean, with the waits reported.
 * The rate-limit suite is left out: its probes ask for raw 429s, and the proxy's would be read as the
 * deployment's own limiter.
 */
describe('a throttling deployment', { timeout: CLI_TIMEOUT }, () => {
  const audits = proxiedAudits()
  afterAll(() => audits.close())

  it('is audited clean: every throttled answer waited out and resent, none judged', async () => {
    const { res, proxy, out, report } = await audits.audit([], { throttle: { every: 7, retryAfterSeconds: 0 } }, ['--suites', 'access,audit', '--topology', 'small', '--runs', '10', '--seed', '11'])
    expect(res.code, `${res.stderr}\n${report?.findings.map((f) => `${f.checkId}: ${f.message}`).join('\n')}`).toBe(0)
    expect(report!.findings).toEqual([])
    expect(proxy.stats.throttled).toBeGreaterThan(0)
    const traffic = report!.run.traffic!
    expect(traffic.throttled).toBeGreaterThan(0)
    expect(traffic.resends).toBe(traffic.throttled)
    // Teardown runs after the report is written, so its throttled answers are the only ones not counted.
    expect(traffic.throttled).toBeLessThanOrEqual(proxy.stats.throttled)
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/\*\*Throttling:\*\* [1-9]\d* throttled answers/)
  })
})

/**
 * A gateway that throttles every route in bursts (three requests in eight, whatever they are) is not the
 * token endpoint's lockout: its 429s never reached the deployment, which owes them no audit event. Found
 * in a run: `audit/auth-failures-recorded` took two passing 429s in a row for the login throttle and
 * reported the throttled login unaudited. It must still find the throttled login the deployment does not
 * audit behind the same gateway.
 */
describe('a deployment behind a gateway that throttles in bursts', { timeout: CLI_TIMEOUT }, () => {
  const audits = proxiedAudits()
  afterAll(() => audits.close())
  async function audit(faults: string[]) {
    const { res, proxy, report } = await audits.audit(faults, { throttle: { every: 8, run: 3, retryAfterSeconds: 0 } }, ['--checks', 'audit/auth-failures-recorded', '--topology', 'small', '--seed', '11'])
    expect(res.code, res.stderr).not.toBe(2)
    expect(proxy.stats.throttled).toBeGreaterThan(0)
    return report!
  }

  it('has its throttled login recorded, judged on the lockout and not on the gateway', async () => {
    const report = await audit([])
    expect(report.findings.map((f) => f.message)).toEqual([])
    const check = report.checks.find((c) => c.id === 'audit/auth-failures-recorded')
    expect(check?.status).toBe('passed')
    // Judged, not skipped: the lockout was told from the gateway's bursts.
    expect(check?.notes ?? []).not.toContainEqual(expect.stringMatching(/throttled-login event was not checked/))
  })

  it('still has a throttled login the deployment does not record found', async () => {
    const report = await audit(['audit-skips-throttled-login'])
    expect(report.findings.map((f) => f.message)).toContainEqual(expect.stringMatching(/^a throttled login \(429\).*no audit event/))
  })
})
