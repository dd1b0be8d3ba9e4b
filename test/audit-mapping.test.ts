import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { startThrowawayServer, type RunningServer } from '../reference-server/server.js'
import { AUDIT_CHECKS } from '../suites/index.js'
import { CLI_TIMEOUT, ROOT, runCli, tempOut } from './cli.js'

const bootstrap = { BOOTSTRAP_PRINCIPAL_EMAIL: 'root@audit-mapping.test', BOOTSTRAP_PRINCIPAL_PASSWORD: 'audit-mapping-password-1' }

/** The reference profile with another deployment's event mapping: top-level requestId, tenantId and actor.type. */
function misfitProfile(): string {
  const profile = parse(readFileSync(join(ROOT, 'fixtures/targets/reference.yaml'), 'utf8')) as Record<string, unknown>
  profile.audit = {
    events: {
      fields: { requestId: '/requestId', accountId: '/tenantId', actorKind: 'actor.type' },
      chain: { recipe: 'prev-plus-canonical' },
    },
  }
  const file = join(mkdtempSync(join(tmpdir(), 'ta-mapping-')), 'misfit.yaml')
  writeFileSync(file, stringify(profile))
  return file
}

interface Report { checks: { id: string; status: string; reason?: string }[]; findings: { checkId: string; message: string }[] }

/**
 * An event mapping that does not fit the deployment's events is the profile's mistake, not the
 * deployment's: every audit check skips with the reason, and nothing is reported.
 */
describe('the audit suite with an event mapping that does not fit', { timeout: CLI_TIMEOUT }, () => {
  let server: RunningServer | undefined
  afterAll(async () => {
    await server?.close()
  })

  it('skips every audit check with the reason, no findings, exit 0', async () => {
    server = await startThrowawayServer({ bootstrap: { email: bootstrap.BOOTSTRAP_PRINCIPAL_EMAIL, password: bootstrap.BOOTSTRAP_PRINCIPAL_PASSWORD } })
    const out = tempOut('misfit')
    const res = await runCli(['run', '--target', misfitProfile(), '--suites', 'audit', '--topology', 'small', '--runs', '10', '--seed', '5', '--out', out],
      { ...bootstrap, TENANT_AUDIT_BASE_URL: server.url })
    expect(res.code, res.stderr).toBe(0)
    const report = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as Report
    expect(report.findings).toEqual([])
    expect(report.checks.map((c) => c.id).sort()).toEqual(AUDIT_CHECKS.map((c) => c.id).sort())
    for (const c of report.checks) {
      expect(c.status, c.id).toBe('skipped')
      expect(c.reason, c.id).toBe(
        "the profile's audit.events mapping does not fit this deployment's events: `/requestId` is absent in " +
        c.reason!.match(/absent in (\d+ of \d+)/)![1] + ' events read; see tenant-audit inspect')
    }
  })

  it('a syntax error in the mapping is one exit-2 line naming the profile key', async () => {
    const profile = parse(readFileSync(join(ROOT, 'fixtures/targets/reference.yaml'), 'utf8')) as Record<string, unknown>
    profile.audit = { events: { fields: { outcome: 'result[?' } } }
    const file = join(mkdtempSync(join(tmpdir(), 'ta-mapping-')), 'bad.yaml')
    writeFileSync(file, stringify(profile))
    const res = await runCli(['run', '--target', file, '--suites', 'audit', '--out', tempOut('bad')], { ...bootstrap, TENANT_AUDIT_BASE_URL: 'http://127.0.0.1:9' })
    expect(res.code).toBe(2)
    expect(res.stderr).toMatch(/audit\.events\.fields\.outcome: invalid JMESPath "result\[\?"/)
    expect(res.stderr.trim().split('\n').filter((l) => l.includes('audit.events'))).toHaveLength(1)
  })
})
