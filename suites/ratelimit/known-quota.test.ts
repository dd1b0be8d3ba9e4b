import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../reference-server/server.js'
import { CLI_TIMEOUT, runCli, tempOut } from '../../test/cli.js'
import { THROWAWAY_COST } from '../../reference-server/auth/passwords.js'

/**
 * A deployment where the harness cannot set quotas: the profile names no settable field but
 * declares the quota every account has (`rateLimit.knownQuota`), and the checks spend it on the
 * provisioned accounts. Without the declaration they are skipped with the reason, never passed.
 * The reference server plays that deployment with a small default quota.
 */
const EMAIL = 'known-quota@platform.test'
const PASSWORD = randomBytes(18).toString('base64url')
const CHECKS = 'ratelimit/quota-enforced,ratelimit/tenant-isolation,ratelimit/shared-account-quota'

describe('rate-limit checks with a declared (not settable) quota', { timeout: CLI_TIMEOUT }, () => {
  let server: RunningServer
  const dir = mkdtempSync(join(tmpdir(), 'ta-known-quota-'))
  const profile = (rateLimit: string) => {
    const file = join(dir, `${randomBytes(3).toString('hex')}.yaml`)
    writeFileSync(file, [
      'name: known-quota', `baseUrl: ${server.url}`, 'contract: /openapi.json',
      'auth: { tokenEndpoint: /auth/token, workspaceParam: workspace_id, bootstrap: { usernameEnv: KQ_EMAIL, passwordEnv: KQ_PASSWORD } }',
      rateLimit,
    ].join('\n'))
    return file
  }
  const run = async (file: string) => {
    const out = tempOut('known-quota')
    const res = await runCli(['run', '--target', file, '--checks', CHECKS, '--seed', '7', '--topology', 'small', '--out', out], { KQ_EMAIL: EMAIL, KQ_PASSWORD: PASSWORD })
    expect(res.code, res.stderr).not.toBe(2)
    return { res, report: JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as { checks: { id: string; status: string; reason?: string }[]; findings: unknown[] } }
  }

  beforeAll(async () => {
    // 60 requests per 12 s for every account: room for provisioning, small enough to spend, and refilled
    // at 5/s so that a flood spends it even on a loaded machine (CI measured ~13 answers/s: a 20/s refill outran it).
    server = await startServer({ bootstrap: { email: EMAIL, password: PASSWORD }, settings: { passwordCost: THROWAWAY_COST }, rateLimits: { accountDefault: { requestsPerSecond: 5, burst: 60 } } })
  })
  afterAll(async () => server?.close())

  it('spends the known quota on the provisioned accounts and passes', async () => {
    const { res, report } = await run(profile('rateLimit: { quotaField: noSuchField, knownQuota: { requests: 60, windowSeconds: 12 } }'))
    expect(res.code, res.stderr).toBe(0)
    expect(report.findings).toEqual([])
    for (const c of report.checks) expect(c.status, `${c.id}: ${c.reason ?? ''}`).toBe('passed')
  })

  it('skips with the reason when the quota can neither be set nor is declared', async () => {
    const { report } = await run(profile('rateLimit: { quotaField: noSuchField }'))
    for (const c of report.checks) {
      expect(c.status, c.id).toBe('skipped')
      expect(c.reason).toMatch(/knownQuota/)
    }
  })
})
