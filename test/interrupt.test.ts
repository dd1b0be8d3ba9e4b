import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { THROWAWAY_COST } from '../reference-server/auth/passwords.js'
import { startServer, type RunningServer } from '../reference-server/server.js'
import { createTestDatabase, postgresAdminUrl, type TestDatabase } from '../reference-server/testing/databases.js'
import { tempOut } from './cli.js'

/**
 * Ctrl-C at any moment stops `tenant-audit run` and leaves nothing behind. A reference server runs
 * outside the run's process (PGlite; and Postgres whenever one is reachable, always under CI=true); a
 * run against it gets SIGINT as soon as its first account exists, mid-suite, and twice (the second
 * during teardown). Each time: exit 130, the interrupt's line on stderr, and the Portal lists none of
 * the run's accounts or principals afterwards.
 *
 * The server is `startServer` in this test's process at THROWAWAY_COST, not `tenant-audit serve`:
 * what is under test is the run's signal handling, and serve's production KDF (N=2^17, 128 MiB a hash)
 * made each run's provisioning cost ~20 s of CPU, the heaviest file of `npm test` for it. THROWAWAY_COST
 * (not the embedded audit's cheaper one) keeps provisioning long enough, a few tens of ms a user, for
 * the first test's interrupt to land while it is still going. `serve` as a process is
 * test/scale-out.test.ts's.
 */

const BIN = fileURLToPath(new URL('../bin/tenant-audit.js', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const pgUrl = await postgresAdminUrl()
const EMAIL = 'interrupt@platform.test'
const PASSWORD = randomBytes(18).toString('base64url')
/** Not a speed assertion: a run that has not exited this long after its first Ctrl-C did not stop. */
const STOPPED_WITHIN_MS = 60_000
/** The bound on a whole run, Ctrl-C or not, so none outlives its test. */
const RUN_WITHIN_MS = 240_000
/** A harness name: `ta-<tag>-a0 …` for accounts, `ta-<tag>-…@tenant-audit.test` for principals. */
const HARNESS_NAME = /^ta-[0-9a-f]{6}-/

interface Exit { code: number | null; signal: NodeJS.Signals | null; stderr: string }

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, BOOTSTRAP_PRINCIPAL_EMAIL: EMAIL, BOOTSTRAP_PRINCIPAL_PASSWORD: PASSWORD, ...extra }
  // The run's check lines (printed unless CI=true) are one of the moments the test interrupts at.
  delete env.CI
  delete env.TENANT_AUDIT_QUIET
  return env
}

/**
 * One audit of the reference server, as small as it gets; `exited` settles once it ends (SIGKILL past
 * STOPPED_WITHIN_MS after the first `interrupt()`, or past RUN_WITHIN_MS from the start).
 */
function startRun(url: string): { child: ChildProcess; stderr: () => string; exited: Promise<Exit>; interrupt(): void } {
  const child = spawn(process.execPath, [BIN, 'run', '--target', 'fixtures/targets/reference.yaml', '--topology', 'small', '--runs', '10', '--suites', 'access', '--out', tempOut('interrupt')], {
    cwd: ROOT, env: childEnv({ TENANT_AUDIT_BASE_URL: url }), stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  let timer = setTimeout(() => child.kill('SIGKILL'), RUN_WITHIN_MS)
  let interrupted = false
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => (clearTimeout(timer), resolve({ code, signal, stderr })))
  })
  const interrupt = () => {
    if (!interrupted && child.exitCode === null) {
      interrupted = true
      clearTimeout(timer)
      timer = setTimeout(() => child.kill('SIGKILL'), STOPPED_WITHIN_MS)
    }
    child.kill('SIGINT')
  }
  return { child, stderr: () => stderr, exited, interrupt }
}

async function until(what: string, ready: () => boolean | Promise<boolean>, done: Promise<Exit>): Promise<void> {
  let over: Exit | undefined
  void done.then((exit) => (over = exit))
  for (;;) {
    if (await ready()) return
    // How it ended, so an intermittent early exit says why.
    if (over) throw new Error(`the run ended before ${what} (exit ${over.code}, signal ${over.signal}):\n${over.stderr}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** The Portal as the bootstrap principal: every account name and principal email, all pages. */
class Portal {
  private token = ''
  constructor(readonly url: string) {}

  async login(): Promise<void> {
    const res = await fetch(`${this.url}/auth/token`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'password', username: EMAIL, password: PASSWORD }),
    })
    expect(res.status).toBe(200)
    this.token = ((await res.json()) as { access_token: string }).access_token
  }

  private async list(path: string, field: string): Promise<string[]> {
    const out: string[] = []
    for (let cursor: string | null = null; ;) {
      const res = await fetch(`${this.url}${path}?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: { authorization: `Bearer ${this.token}` } })
      expect(res.status).toBe(200)
      const page = (await res.json()) as { items: Record<string, string>[]; nextCursor: string | null }
      out.push(...page.items.map((i) => i[field]!))
      if (!(cursor = page.nextCursor)) return out
    }
  }

  async harnessNames(): Promise<string[]> {
    const names = [...(await this.list('/portal/v1/accounts', 'name')), ...(await this.list('/portal/v1/principals', 'email'))]
    return names.filter((n) => HARNESS_NAME.test(n))
  }
}

const variants: { driver: string; pg: boolean }[] = [{ driver: 'pglite', pg: false }, ...(pgUrl ? [{ driver: 'postgres', pg: true }] : [])]

describe.each(variants)('Ctrl-C during a run against a reference server of its own ($driver)', { timeout: 300_000 }, ({ pg }) => {
  let tdb: TestDatabase | undefined
  let server: RunningServer | undefined
  const portal = () => new Portal(server!.url)
  let before: string[] = []

  beforeAll(async () => {
    if (pg) tdb = await createTestDatabase('pg')
    server = await startServer({ databaseUrl: tdb?.url, bootstrap: { email: EMAIL, password: PASSWORD }, settings: { passwordCost: THROWAWAY_COST } })
    const p = portal()
    await p.login()
    before = await p.harnessNames()
  }, 180_000)
  afterAll(async () => {
    await server?.close()
    await tdb?.drop()
  })

  /** What the run left: harness-named accounts and principals that were not there before it. */
  async function leftBehind(): Promise<string[]> {
    const p = portal()
    await p.login()
    return (await p.harnessNames()).filter((n) => !before.includes(n))
  }

  it('as soon as its first account exists: it stops, removes it, exits 130', async () => {
    const p = portal()
    await p.login()
    const run = startRun(server!.url)
    await until('its first account existed', async () => (await p.harnessNames()).some((n) => !before.includes(n) && /-a0\b/.test(n)), run.exited)
    run.interrupt()
    const exit = await run.exited
    expect(exit.signal, exit.stderr).toBeNull()
    expect(exit.code, exit.stderr).toBe(130)
    expect(exit.stderr).toMatch(/tenant-audit: interrupted \(SIGINT\); removed [1-9]\d* created resources?\n/)
    expect(exit.stderr).not.toMatch(/checks, \d+ failed/)
    expect(await leftBehind()).toEqual([])
  })

  it('mid-suite, after the first check line: it stops, tears down, exits 130', async () => {
    const run = startRun(server!.url)
    await until('a check line', () => /^ {2}[✓✗!?-] \S+\/\S+/m.test(run.stderr()), run.exited)
    run.interrupt()
    const exit = await run.exited
    expect(exit.code, exit.stderr).toBe(130)
    expect(exit.stderr).toMatch(/tenant-audit: interrupted \(SIGINT\); removed [1-9]\d* created resources\n/)
    expect(exit.stderr).not.toMatch(/checks, \d+ failed/)
    expect(await leftBehind()).toEqual([])
  })

  it('twice, the second during teardown: it says what it is still removing, finishes, exits 130', async () => {
    const run = startRun(server!.url)
    await until('a check line', () => /^ {2}[✓✗!?-] \S+\/\S+/m.test(run.stderr()), run.exited)
    run.interrupt()
    // The first starts teardown; the second arrives while it runs (a few deletes over loopback).
    await new Promise((r) => setTimeout(r, 20))
    run.interrupt()
    const exit = await run.exited
    expect(exit.code, exit.stderr).toBe(130)
    expect(exit.stderr).toMatch(/tenant-audit: interrupted again; still removing (accounts|principals) \/portal\/v1\//)
    expect(exit.stderr).toMatch(/tenant-audit: interrupted \(SIGINT\); removed [1-9]\d* created resources\n/)
    expect(await leftBehind()).toEqual([])
  })
})
