import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { startThrowawayServer, type RunningServer } from '../reference-server/server.js'
import { parseFaults } from '../reference-server/faults/index.js'
import { RENAMED_ROLES, renamedContract } from '../fixtures/targets/renamed.js'
import { CLI_TIMEOUT, runCli, tempOut } from './cli.js'

const root = { BOOTSTRAP_PRINCIPAL_EMAIL: 'root@renamed.test', BOOTSTRAP_PRINCIPAL_PASSWORD: 'renamed-root-password-1' }

interface Report { checks: { id: string; status: string; reason?: string }[]; findings: { checkId: string; message: string }[] }

/**
 * A deployment that shares none of the reference's words: tenants, spaces, members, operators,
 * records, events.list, tokens.revoke, other path parameter names and role spellings — the
 * reference server behind a renamed contract file. A profile alone makes the audit work: zero
 * findings, and the checks that used to need the reference's names run instead of skipping.
 */
describe('a renamed vocabulary', { timeout: CLI_TIMEOUT }, () => {
  let server: RunningServer
  const dir = mkdtempSync(join(tmpdir(), 'ta-renamed-'))
  writeFileSync(join(dir, 'renamed.json'), JSON.stringify(renamedContract()))
  const profile = (name: string, vocabulary: Record<string, unknown>) => {
    const file = join(dir, `${name}.yaml`)
    writeFileSync(file, stringify({
      name, baseUrl: 'http://127.0.0.1:0', contract: 'renamed.json',
      auth: { tokenEndpoint: '/auth/token', workspaceParam: 'workspace_id' },
      denial: { statuses: [403, 404] }, vocabulary,
    }))
    return file
  }
  const stated = profile('renamed-stated', {
    resources: { account: 'tenants', workspace: 'spaces', user: 'members', principal: 'operators', audit: 'events' },
    actions: { tokenRevocation: 'tokens.revoke', keySet: 'jwks.read' },
    roles: RENAMED_ROLES,
  })
  // Only the role spellings (which no synonym list could know) are stated; the resources are inferred.
  const inferred = profile('renamed-inferred', { roles: RENAMED_ROLES })

  beforeAll(async () => {
    server = await startThrowawayServer({ host: '127.0.0.1', port: 0, faults: parseFaults(''), bootstrap: { email: root.BOOTSTRAP_PRINCIPAL_EMAIL, password: root.BOOTSTRAP_PRINCIPAL_PASSWORD } })
  })
  afterAll(async () => {
    await server?.close()
  })

  async function audit(file: string) {
    const out = tempOut('renamed')
    const res = await runCli(['run', '--target', file, '--suites', 'access', '--topology', 'small', '--runs', '10', '--seed', '7', '--out', out],
      { ...root, TENANT_AUDIT_BASE_URL: server.url })
    const report = res.code === 2 ? undefined : (JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as Report)
    return { res, report }
  }

  for (const [variant, file] of [['stated in the profile', stated], ['resources inferred', inferred]] as const) {
    it(`audits it clean, every membership check run (${variant})`, async () => {
      const { res, report } = await audit(file)
      expect(res.code, `${res.stderr}\n${report?.findings.map((f) => `${f.checkId}: ${f.message}`).join('\n')}`).toBe(0)
      expect(report!.findings).toEqual([])
      const status = Object.fromEntries(report!.checks.map((c) => [c.id, `${c.status}${c.reason ? `: ${c.reason}` : ''}`]))
      expect(status['access/privilege-escalation']).toBe('passed')
      expect(status['access/stale-membership']).toBe('passed')
      expect(status['access/private-notes']).toBe('passed')
      expect(status['access/cross-tenant-read']).toBe('passed')
    })
  }

  it('inspect prints the mapping', async () => {
    const res = await runCli(['inspect', '--target', inferred, '--suites', 'access,forgery'], { ...root, TENANT_AUDIT_BASE_URL: server.url })
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toMatch(/account\s+tenants\s+\(inferred: synonym\)/)
    expect(res.stdout).toMatch(/user\s+members\s+\(inferred: synonym\)/)
    expect(res.stdout).toMatch(/token-revocation\s+tokens\.revoke\s+\(inferred: synonym\)/)
    expect(res.stdout).toMatch(/viewer\s+ws-reader\s+\(stated in the profile\)/)
    expect(res.stdout).toMatch(/path parameters: account \{tenantId\}, workspace \{spaceId\}/)
    expect(res.stdout).toMatch(/owner-only resources: jottings/)
    expect(res.stdout).toMatch(/run\s+access\/privilege-escalation/)
    expect(res.stdout).toMatch(/run\s+forgery\/lifecycle-replay/)
  })
})
