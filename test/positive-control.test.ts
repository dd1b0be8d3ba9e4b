import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startThrowawayServer, type RunningServer } from '../reference-server/server.js'
import { CLI_TIMEOUT, ROOT, runCli, tempOut } from './cli.js'
import { startProxy, type RunningProxy } from './support/proxy.js'

const env = { BOOTSTRAP_PRINCIPAL_EMAIL: 'root@control.test', BOOTSTRAP_PRINCIPAL_PASSWORD: 'control-root-password-1' }
const profile = join(ROOT, 'fixtures/targets/reference.yaml')

/** Checks that send no token at all: a target that refuses every token is no reason to doubt what they saw. */
const ANONYMOUS_ONLY = new Set(['access/login-timing'])

interface Check { id: string; status: string; requests: number; startedAt?: string; reason?: string }
interface Report { run: { requests: number }; checks: Check[]; findings: { checkId: string; message: string }[] }

/** Checks in the order they ran (one worker, one at a time), each with the proxy request numbers it covered. */
function timeline(report: Report): (Check & { first: number; last: number })[] {
  const ordered = [...report.checks].sort((a, b) => Date.parse(a.startedAt ?? '') - Date.parse(b.startedAt ?? ''))
  // Requests before the first check: provisioning (run.requests counts it plus every check's own).
  let sent = report.run.requests - report.checks.reduce((n, c) => n + c.requests, 0)
  return ordered.map((c) => {
    const first = sent + 1
    sent += c.requests
    return { ...c, first, last: sent }
  })
}

/**
 * Issue 10, family 7: with every genuine token dead, a refused forged token and a refused foreign
 * read prove nothing. N is chosen from a first, clean run of the same seed: provisioning plus half
 * of the checks' requests, so the flip lands after provisioning and in the middle of the checks.
 */
describe('positive controls: a target that starts refusing every token halfway', { timeout: CLI_TIMEOUT }, () => {
  let server: RunningServer
  // A target that starts refusing every token halfway: from the flip on, the proxy answers 401
  // invalid_token to every request that carries an Authorization header (anonymous ones still pass).
  let proxy: RunningProxy
  let url = ''
  // One request at a time: the timeline below maps request numbers to checks, which only holds when checks do not overlap.
  const args = (out: string, suites = 'access,forgery') => ['run', '--target', profile, '--suites', suites, '--topology', 'small', '--runs', '10', '--seed', '7', '--concurrency', '1', '--out', out]

  beforeAll(async () => {
    server = await startThrowawayServer({ bootstrap: { email: env.BOOTSTRAP_PRINCIPAL_EMAIL, password: env.BOOTSTRAP_PRINCIPAL_PASSWORD } })
    proxy = await startProxy({ target: server.url })
    url = proxy.url
  })
  afterAll(async () => {
    await proxy?.close()
    await server?.close()
  })

  let clean: Report
  it('audits the target clean while it serves tokens: no control fails on a working target', async () => {
    const out = tempOut('control-clean')
    const res = await runCli(args(out), { ...env, TENANT_AUDIT_BASE_URL: url })
    clean = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as Report
    expect(res.code, `${res.stderr}\n${clean.findings.map((f) => f.message).join('\n')}`).toBe(0)
    expect(clean.checks.filter((c) => c.status === 'inconclusive').map((c) => `${c.id}: ${c.reason}`)).toEqual([])
    expect(clean.checks.filter((c) => c.status === 'passed').length).toBeGreaterThan(10)
  })

  it('reports no "passed" for any check that ran, in whole or in part, after the flip', async () => {
    const lines = timeline(clean)
    const checkRequests = clean.checks.reduce((n, c) => n + c.requests, 0)
    const provisioning = clean.run.requests - checkRequests
    // Requests from number `flip` on are refused.
    const flip = provisioning + Math.floor(checkRequests / 2)
    proxy.reset({ refuseTokensAfter: flip - 1 })
    expect(lines.some((c) => c.first > flip && c.requests > 0)).toBe(true)

    const out = tempOut('control-flip')
    const res = await runCli(args(out), { ...env, TENANT_AUDIT_BASE_URL: url })
    const report = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as Report
    const after = timeline(report)
    const straddling = after.filter((c) => c.first < flip && c.last >= flip)
    const later = after.filter((c) => c.first >= flip)
    const passedLate = [...straddling, ...later].filter((c) => c.status === 'passed' && !ANONYMOUS_ONLY.has(c.id)).map((c) => `${c.id} (requests ${c.first}-${c.last}, flip at ${flip})`)
    expect(passedLate).toEqual([])
    expect(later.length + straddling.length).toBeGreaterThan(0)
    expect(report.checks.filter((c) => c.status === 'inconclusive').length).toBeGreaterThan(0)
    // Checks that ran entirely before the flip are untouched.
    expect(after.filter((c) => c.last < flip && c.requests > 0).some((c) => c.status === 'passed')).toBe(true)
    // The closing line counts them (a run that also passed checks is not "all inconclusive": no exit 2).
    expect(res.stderr).toMatch(/[1-9]\d* inconclusive/)
  })

  it('exits 2 with one stderr line when inconclusive is all the run has (tokens refused from the first check on)', async () => {
    const provisioning = clean.run.requests - clean.checks.reduce((n, c) => n + c.requests, 0)
    proxy.reset({ refuseTokensAfter: provisioning })
    const out = tempOut('control-dead')
    const res = await runCli(args(out, 'forgery'), { ...env, TENANT_AUDIT_BASE_URL: url })
    const report = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as Report
    expect(report.checks.map((c) => c.status).filter((s) => s !== 'skipped' && s !== 'inconclusive')).toEqual([])
    expect(res.stderr).toMatch(/nothing could be shown: [1-9]\d* check\(s\) inconclusive, none passed or failed; first: forgery\/[a-z-]+: /)
    expect(res.code).toBe(2)
  })
})
