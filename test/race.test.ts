import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FAULTS } from '../reference-server/faults/index.js'
import { createTestDatabase, postgresAdminUrl, type TestDatabase } from '../reference-server/testing/databases.js'
import { CLI_TIMEOUT, ROOT, runCli, tempOut } from './cli.js'

/**
 * The race checks on real Postgres, where transactions overlap (PGlite runs one at a time, and the
 * embedded audit skips them with that reason). `tenant-audit serve --database-url` on a database of
 * this run's own, audited through the reference profile: the seeded race fault is caught, the clean
 * server is clean. Under CI=true a missing Postgres fails (postgresAdminUrl), never skips.
 */

const pgUrl = await postgresAdminUrl()
/** The checks that need overlapping transactions to find anything. */
const RACE_CHECKS = ['forgery/refresh-race', 'access/demotion-race']
const EMAIL = 'race@platform.test'
const PASSWORD = randomBytes(18).toString('base64url')
const BOOTSTRAP = { BOOTSTRAP_PRINCIPAL_EMAIL: EMAIL, BOOTSTRAP_PRINCIPAL_PASSWORD: PASSWORD }

/** This process's environment without a Redis URL: the in-memory limiter is enough here. */
function env(): NodeJS.ProcessEnv {
  const { REDIS_URL: _, ...rest } = process.env
  return rest
}

/**
 * The reference profile with a longer answer timeout: `serve` hashes passwords at production cost
 * (scrypt N=2^17), and the race checks log in a throwaway member per try, 8 at once on 2 busy cores.
 */
const PROFILE = join(mkdtempSync(join(tmpdir(), 'ta-race-')), 'reference.yaml')
writeFileSync(PROFILE, readFileSync(join(ROOT, 'fixtures/targets/reference.yaml'), 'utf8').replace(/timeoutMs: \d+/, 'timeoutMs: 60000'))

interface Proc { url: string; child: ChildProcess }

function serve(databaseUrl: string, faults: string): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/tenant-audit.js'), 'serve', '--port', '0', '--database-url', databaseUrl, '--faults', faults], {
      cwd: ROOT, env: { ...env(), ...BOOTSTRAP, LOG_LEVEL: 'warn', FAULTS: '' }, stdio: ['ignore', 'ignore', 'pipe'],
    })
    let err = ''
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`serve did not start: ${err}`))), 120_000)
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString()
      const m = /listening on (http:\/\/\S+)/.exec(err)
      if (m) (clearTimeout(timer), resolve({ url: m[1]!, child }))
    })
    child.on('exit', (code) => (clearTimeout(timer), reject(new Error(`serve exited ${code}: ${err}`))))
  })
}

async function stop(p: Proc | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null) return
  const exited = new Promise((r) => p.child.once('exit', r))
  p.child.kill('SIGTERM')
  await exited
}

async function audit(url: string, seed: number, checks: readonly string[] = RACE_CHECKS): Promise<{ code: number; stderr: string; checks: { id: string; status: string; reason?: string }[]; findings: { checkId: string; message: string }[] }> {
  const out = tempOut(`race-${seed}`)
  const res = await runCli(['run', '--target', PROFILE, '--checks', checks.join(','), '--seed', String(seed), '--topology', 'small', '--out', out],
    { ...BOOTSTRAP, TENANT_AUDIT_BASE_URL: url })
  expect(res.code, res.stderr).not.toBe(2)
  const report = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8'))
  return { code: res.code, stderr: res.stderr, checks: report.checks, findings: report.findings }
}

describe.runIf(pgUrl)('race checks on real Postgres', { timeout: CLI_TIMEOUT }, () => {
  let tdb: TestDatabase
  let clean: Proc | undefined

  beforeAll(async () => {
    tdb = await createTestDatabase('pg')
    clean = await serve(tdb.url!, '')
  }, 300_000)
  afterAll(async () => {
    await stop(clean)
    await tdb?.drop()
  })

  // Every fault that shows only on real Postgres (the forgery self-audit leaves them to this file).
  for (const fault of FAULTS.filter((f) => 'needs' in f && f.needs === 'postgres')) {
    it(`catches ${fault.name}`, async () => {
      const server = await serve(tdb.url!, fault.name) // after the clean one: migrated already
      try {
        const r = await audit(server.url, 7, fault.detectedBy)
        expect(r.code, r.stderr).toBe(1)
        expect(r.findings.some((f) => fault.detectedBy.includes(f.checkId)), JSON.stringify(r.findings.map((f) => f.checkId))).toBe(true)
      } finally {
        await stop(server)
      }
    })
  }

  it('finds nothing on the clean server, over two seeds, and does run (not skip)', async () => {
    for (const seed of [1, 2]) {
      const r = await audit(clean!.url, seed)
      expect(r.code, `${r.stderr}\n${JSON.stringify(r.findings)}`).toBe(0)
      for (const id of RACE_CHECKS) expect(r.checks.find((c) => c.id === id)?.status, id).toBe('passed')
    }
  })
})

describe('race checks on the embedded server', () => {
  it('skip with the reason that PGlite serialises, never a silent pass', async () => {
    const out = tempOut('race-embedded')
    const res = await runCli(['run', '--checks', RACE_CHECKS.join(','), '--seed', '3', '--topology', 'small', '--out', out])
    expect(res.code, res.stderr).toBe(0)
    const checks = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8')).checks as { id: string; status: string; reason?: string }[]
    for (const id of RACE_CHECKS) {
      const check = checks.find((c) => c.id === id)
      expect(check?.status, id).toBe('skipped')
      expect(check?.reason, id).toMatch(/PGlite, one transaction at a time/)
    }
  }, CLI_TIMEOUT)
})
