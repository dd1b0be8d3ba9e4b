import { readFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../reference-server/server.js'
import { CLI_TIMEOUT, ROOT, runCli, tempOut } from './cli.js'
import { THROWAWAY_COST } from '../reference-server/auth/passwords.js'

const env = { BOOTSTRAP_PRINCIPAL_EMAIL: 'root@control.test', BOOTSTRAP_PRINCIPAL_PASSWORD: 'control-root-password-1' }
const profile = join(ROOT, 'fixtures/targets/reference.yaml')
const MAX_BODY = 1 << 20

interface Check { id: string; status: string; requests: number; startedAt?: string; reason?: string }
interface Report { run: { requests: number }; checks: Check[]; findings: { checkId: string; message: string }[] }

/**
 * A minimal loopback proxy in front of the reference server (to be replaced by test/support/proxy.ts
 * at merge): it forwards every request, and from its `flipAt`-th request on answers 401 invalid_token
 * to every request that carries an Authorization header — a target that starts refusing every token
 * halfway through. Anonymous requests (the token endpoint, the contract) still pass.
 */
function tokenKillingProxy(upstream: string) {
  const state = { count: 0, flipAt: Number.POSITIVE_INFINITY }
  const target = new URL(upstream)
  const server: Server = createServer((req, res) => {
    state.count++
    if (req.headers.authorization !== undefined && state.count >= state.flipAt) {
      req.resume()
      res.writeHead(401, { 'content-type': 'application/problem+json', 'www-authenticate': 'Bearer error="invalid_token"' })
      res.end(JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401 }))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY) req.destroy()
      else chunks.push(c)
    })
    req.on('end', () => {
      const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      })
      out.on('error', () => res.writeHead(502).end())
      out.end(Buffer.concat(chunks))
    })
  })
  return {
    state,
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

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
  let proxy: ReturnType<typeof tokenKillingProxy>
  let url = ''
  const args = (out: string, suites = 'access,forgery') => ['run', '--target', profile, '--suites', suites, '--topology', 'small', '--runs', '10', '--seed', '7', '--out', out]

  beforeAll(async () => {
    server = await startServer({ bootstrap: { email: env.BOOTSTRAP_PRINCIPAL_EMAIL, password: env.BOOTSTRAP_PRINCIPAL_PASSWORD }, settings: { passwordCost: THROWAWAY_COST } })
    proxy = tokenKillingProxy(server.url)
    url = await proxy.listen()
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
    proxy.state.count = 0
    proxy.state.flipAt = provisioning + Math.floor(checkRequests / 2)
    expect(lines.some((c) => c.first > proxy.state.flipAt && c.requests > 0)).toBe(true)

    const out = tempOut('control-flip')
    const res = await runCli(args(out), { ...env, TENANT_AUDIT_BASE_URL: url })
    const report = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as Report
    const after = timeline(report)
    const flip = proxy.state.flipAt
    const straddling = after.filter((c) => c.first < flip && c.last >= flip)
    const later = after.filter((c) => c.first >= flip)
    const passedLate = [...straddling, ...later].filter((c) => c.status === 'passed').map((c) => `${c.id} (requests ${c.first}-${c.last}, flip at ${flip})`)
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
    proxy.state.count = 0
    proxy.state.flipAt = provisioning + 1
    const out = tempOut('control-dead')
    const res = await runCli(args(out, 'forgery'), { ...env, TENANT_AUDIT_BASE_URL: url })
    const report = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as Report
    expect(report.checks.map((c) => c.status).filter((s) => s !== 'skipped' && s !== 'inconclusive')).toEqual([])
    expect(res.stderr).toMatch(/nothing could be shown: [1-9]\d* check\(s\) inconclusive, none passed or failed; first: forgery\/[a-z-]+: /)
    expect(res.code).toBe(2)
  })
})
