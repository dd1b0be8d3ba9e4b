import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startThrowawayServer, type RunningServer } from '../reference-server/server.js'
import { parseFaults } from '../reference-server/faults/index.js'
import { CLI_TIMEOUT, ROOT, runCli, tempOut } from './cli.js'

const ROOT_EMAIL = 'root@token-expiry.test'
const ROOT_PASSWORD = 'token-expiry-root-password-1'
const CHECK = 'forgery/token-lifetime'

interface Report {
  checks: { id: string; status: string; requests: number; reason?: string; notes?: string[] }[]
  findings: { checkId: string; message: string }[]
}

/** The reference profile with a clock skew of 1 s allowed, so a 10-second token is waited out in seconds. */
function shortSkewProfile(): string {
  const text = readFileSync(join(ROOT, 'fixtures/targets/reference.yaml'), 'utf8').replace(/^forgery:\n/m, 'forgery:\n  maxClockSkewSeconds: 1\n')
  expect(text).toContain('maxClockSkewSeconds: 1')
  const file = join(dirname(tempOut('profile')), 'short-skew.yaml')
  writeFileSync(file, text.replace(/^# yaml-language-server.*\n/, ''))
  return file
}

/**
 * Where a deployment's own access tokens live briefly and no test-issuer key is given, CLM-01 is shown
 * with a genuine token held past its expiry. The token is obtained by the check's head start, when
 * the run's first suite begins (harness/vitest/check-test.ts), so the wait passes under the suites
 * before it: the note says which way it was obtained (a path, not a time: no timed assertion). The
 * fixed server refuses it; with the seeded fault exp-not-checked it is accepted.
 */
describe('a deployment whose access tokens live ten seconds', { timeout: CLI_TIMEOUT }, () => {
  const servers: RunningServer[] = []
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()))
  })
  const audit = async (faults: string[]): Promise<{ code: number; stderr: string; report?: Report }> => {
    const server = await startThrowawayServer({ bootstrap: { email: ROOT_EMAIL, password: ROOT_PASSWORD }, faults: parseFaults(faults),
      settings: { accessTtlSeconds: 10, clockToleranceSeconds: 0 } })
    servers.push(server)
    const out = tempOut(`expiry-${faults.join('-') || 'clean'}`)
    const res = await runCli(['run', '--target', shortSkewProfile(), '--checks', `access/cross-tenant-read,${CHECK}`, '--topology', 'small', '--seed', '3', '--runs', '5', '--out', out],
      { BOOTSTRAP_PRINCIPAL_EMAIL: ROOT_EMAIL, BOOTSTRAP_PRINCIPAL_PASSWORD: ROOT_PASSWORD, TENANT_AUDIT_BASE_URL: server.url }, CLI_TIMEOUT - 60_000)
    const report = res.code === 2 ? undefined : (JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as Report)
    return { code: res.code, stderr: res.stderr, report }
  }

  it('a genuine token held from the run\'s start past its exp: refused by the fixed server, accepted with exp-not-checked', async () => {
    // One audit at a time (the machine is shared).
    const ok = await audit([])
    const bad = await audit(['exp-not-checked'])

    expect(ok.code, `${ok.stderr}\n${ok.report?.findings.map((f) => f.message).join('\n')}`).toBe(0)
    const check = ok.report!.checks.find((c) => c.id === CHECK)!
    expect(check.status, check.reason).toBe('passed')
    expect(check.notes).toContainEqual(expect.stringMatching(/^expiry: a throwaway member's genuine access token, obtained when the run began \(head start\), replayed at least 3 s after its exp$/))
    // The head start's requests (the member's creation and login) count as the check's, and only they: not the
    // access check's (~70) that ran after it.
    expect(check.requests).toBeGreaterThanOrEqual(3)
    expect(check.requests).toBeLessThan(30)

    expect(bad.code, bad.stderr).toBe(1)
    const found = bad.report!.findings.filter((f) => f.checkId === CHECK)
    expect(found.map((f) => f.message).join('\n')).toMatch(/a genuine access token 3 s after its exp/)
  })
})
