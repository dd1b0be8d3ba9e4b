import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { FAULTS } from '../reference-server/faults/index.js'
import { startAltServer, type AltServer } from '../fixtures/targets/alt-server/server.js'
import { AUDIT_CHECKS } from '../suites/index.js'
import { faultsAreCaught } from './self-audit.shared.js'
import { CLI_TIMEOUT, ROOT, runCli, tempOut } from './cli.js'

describe('self-audit: each seeded audit fault is caught', { timeout: CLI_TIMEOUT }, () => {
  faultsAreCaught(FAULTS.filter((f) => f.suite === 'audit'))
})

describe('the audit suite on a target without an audit read API', { timeout: CLI_TIMEOUT }, () => {
  let server: AltServer | undefined
  afterAll(async () => {
    await server?.close()
  })

  it('skips every audit check with the reason, never a silent pass', async () => {
    const operator = { ALT_OPERATOR_EMAIL: 'operator@alt.test', ALT_OPERATOR_PASSWORD: 'alt-operator-password-1' }
    server = await startAltServer({ faults: [], bootstrap: { email: operator.ALT_OPERATOR_EMAIL, password: operator.ALT_OPERATOR_PASSWORD } })
    const out = tempOut('alt-audit')
    const res = await runCli(['run', '--target', join(ROOT, 'fixtures/targets/alt.yaml'), '--suites', 'audit', '--seed', '3', '--topology', 'small', '--out', out],
      { ...operator, TENANT_AUDIT_BASE_URL: server.url })
    expect(res.code, res.stderr).toBe(0)
    const report = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as { checks: { id: string; status: string; reason?: string }[]; findings: unknown[] }
    expect(report.findings).toEqual([])
    expect(report.checks.map((c) => c.id).sort()).toEqual(AUDIT_CHECKS.map((c) => c.id).sort())
    for (const c of report.checks) {
      expect(c.status, c.id).toBe('skipped')
      expect(c.reason, c.id).toMatch(/audit read operation|topology lacks/)
    }
  })
})
