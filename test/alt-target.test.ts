import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startAltServer, type AltServer } from '../fixtures/targets/alt-server/server.js'
import { CLI_TIMEOUT, runCli, tempOut, ROOT } from './cli.js'

const operator = { ALT_OPERATOR_EMAIL: 'operator@alt.test', ALT_OPERATOR_PASSWORD: 'alt-operator-password-1' }
const profile = join(ROOT, 'fixtures/targets/alt.yaml')

interface Report { checks: { id: string; status: string; reason?: string }[]; findings: { checkId: string; message: string }[] }

/**
 * Nothing is hard-coded to the reference server: a second conforming target with other routes,
 * other resource names and Cognito-style claims, described only by its own annotated OpenAPI and a
 * profile, is audited clean, and a fault planted in it is caught.
 */
describe('the access suite on a different conforming target', { timeout: CLI_TIMEOUT }, () => {
  const servers: AltServer[] = []
  afterAll(async () => {
    for (const s of servers) await s.close()
  })

  async function audit(faults: string[]) {
    const server = await startAltServer({ faults: faults as never, bootstrap: { email: operator.ALT_OPERATOR_EMAIL, password: operator.ALT_OPERATOR_PASSWORD } })
    servers.push(server)
    const out = tempOut('alt')
    const res = await runCli(['run', '--target', profile, '--suites', 'access', '--seed', '3', '--topology', 'small', '--out', out],
      { ...operator, TENANT_AUDIT_BASE_URL: server.url })
    return { res, report: res.code === 2 ? undefined : (JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as Report) }
  }

  it('audits it clean', async () => {
    const { res, report } = await audit([])
    expect(res.code, `${res.stderr}\n${report?.findings.map((f) => f.message).join('\n')}`).toBe(0)
    expect(report!.findings).toEqual([])
    const ran = report!.checks.filter((c) => c.status === 'passed')
    expect(ran.map((c) => c.id)).toContain('access/cross-tenant-read')
    expect(ran.map((c) => c.id)).toContain('access/policy-matrix')
    for (const c of report!.checks) expect(['passed', 'skipped'], `${c.id}: ${c.reason ?? ''}`).toContain(c.status)
  })

  it('catches the fault planted in it', async () => {
    const { res, report } = await audit(['record-read-ignores-project'])
    expect(res.code, res.stderr).toBe(1)
    expect(report!.findings.some((f) => f.checkId === 'access/cross-tenant-read'), report!.findings.map((f) => f.checkId).join(', ')).toBe(true)
  })
})
