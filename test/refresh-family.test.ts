import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startThrowawayServer, type RunningServer } from '../reference-server/server.js'
import { parseFaults } from '../reference-server/faults/index.js'
import { CLI_TIMEOUT, ROOT, runCli, tempOut } from './cli.js'

const ROOT_EMAIL = 'root@refresh-family.test'
const ROOT_PASSWORD = 'refresh-family-root-password-1'
const CHECK = 'forgery/refresh-family-lifetime'
/** Short enough for the check to wait out (it waits at most 120 s), long enough for a few rotations. */
const FAMILY_SECONDS = 15

interface Report {
  checks: { id: string; status: string; reason?: string }[]
  findings: { checkId: string; message: string }[]
}

/** The reference profile, declaring the short family lifetime the server under test runs with. */
function shortFamilyProfile(): string {
  const text = readFileSync(join(ROOT, 'fixtures/targets/reference.yaml'), 'utf8')
    .replace(/refreshFamilyLifetimeSeconds: \d+/, `refreshFamilyLifetimeSeconds: ${FAMILY_SECONDS}`)
  expect(text).toContain(`refreshFamilyLifetimeSeconds: ${FAMILY_SECONDS}`)
  const file = join(dirname(tempOut('profile')), 'short-family.yaml')
  writeFileSync(file, text.replace(/^# yaml-language-server.*\n/, ''))
  return file
}

async function audit(server: RunningServer, name: string): Promise<{ code: number; stderr: string; report?: Report }> {
  const out = tempOut(name)
  const res = await runCli(['run', '--target', shortFamilyProfile(), '--checks', CHECK, '--topology', 'small', '--seed', '3', '--out', out],
    { BOOTSTRAP_PRINCIPAL_EMAIL: ROOT_EMAIL, BOOTSTRAP_PRINCIPAL_PASSWORD: ROOT_PASSWORD, TENANT_AUDIT_BASE_URL: server.url }, CLI_TIMEOUT - 60_000)
  const report = res.code === 2 ? undefined : (JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')) as Report)
  return { code: res.code, stderr: res.stderr, report }
}

/**
 * Issue 13 s2: a login's refresh tokens end a fixed time after it, however often they rotate. The
 * default family lifetime (30 days) cannot be waited out, so the reference server runs it at 15 s
 * here, the profile declares it, and the check rotates past it: the fixed server refuses, the seeded
 * fault refresh-family-endless (each rotation a fresh lifetime from now) is caught.
 */
describe('refresh-token families with a short absolute lifetime', { timeout: CLI_TIMEOUT }, () => {
  const servers: RunningServer[] = []
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()))
  })
  const start = async (faults: string[]) => {
    const s = await startThrowawayServer({ bootstrap: { email: ROOT_EMAIL, password: ROOT_PASSWORD }, faults: parseFaults(faults),
      settings: { refreshFamilyTtlSeconds: FAMILY_SECONDS } })
    servers.push(s)
    return s
  }

  it('the fixed server refuses a rotated token past the family end; refresh-family-endless is caught', async () => {
    // One audit at a time (the machine is shared); each waits the family out once.
    const ok = await audit(await start([]), 'family-clean')
    const bad = await audit(await start(['refresh-family-endless']), 'family-endless')

    expect(ok.code, `${ok.stderr}\n${ok.report?.findings.map((f) => f.message).join('\n')}`).toBe(0)
    expect(ok.report!.checks.find((c) => c.id === CHECK)?.status).toBe('passed')

    expect(bad.code, bad.stderr).toBe(1)
    const found = bad.report!.findings.filter((f) => f.checkId === CHECK)
    expect(found.length).toBeGreaterThan(0)
    expect(found[0]!.message).toMatch(new RegExp(`past the declared family lifetime of ${FAMILY_SECONDS} s \\(after [1-9]\\d* rotations\\)`))
  })
})
