import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_TIMEOUT, runCli, tempOut } from '../../test/cli.js'
import { startServer, type RunningServer } from '../../reference-server/server.js'
import { THROWAWAY_COST } from '../../reference-server/auth/passwords.js'
import { loadScenario } from '../../fixtures/load/scenario.js'
import { perPhaseData, SPLITS } from '../../fixtures/load/k6-data/per-phase.js'
import type { K6SummaryData } from '../../load/driver/k6-lib.js'

interface TokensFile { tokenUrl: string; tenants: { name: string; accountId: string; token: string; sessions: { token: string; refreshToken: string; expiresAt: number }[] }[] }
const tokensFile = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as TokensFile
/** Every access and refresh token in a tokens file. */
const secretsIn = (t: TokensFile): string[] => t.tenants.flatMap((x) => [x.token, ...x.sessions.flatMap((s) => [s.token, s.refreshToken])])
const JWT = /eyJ[A-Za-z0-9_-]{10,}/
const DATA = new URL('../../fixtures/load/k6-data/', import.meta.url)
const recorded = JSON.parse(readFileSync(new URL('handle-summary-data.noisy-neighbour.json', DATA), 'utf8')) as K6SummaryData

/**
 * A stand-in for k6 (K6_BINARY): records its arguments and what it found in the tokens file's
 * place, prints a line, writes FAKE_K6_SUMMARY as DIR/summary.json (handleSummary's data) and
 * exits FAKE_K6_EXIT.
 */
function fakeK6(dir: string): string {
  const file = join(dir, 'fake-k6.mjs')
  writeFileSync(file, `#!/usr/bin/env node
import { copyFileSync, statSync, writeFileSync } from 'node:fs'
const args = process.argv.slice(2)
const env = Object.fromEntries(args.flatMap((a, i) => (args[i - 1] === '-e' ? [a.split(/=(.*)/s).slice(0, 2)] : [])))
const tokens = statSync(env.TOKENS_FILE)
writeFileSync(process.env.FAKE_K6_RECORD, JSON.stringify({ args, tokensMode: tokens.mode & 0o777 }))
console.log('fake k6: running ' + args.at(-1))
if (process.env.FAKE_K6_SUMMARY) copyFileSync(process.env.FAKE_K6_SUMMARY, env.OUT_DIR + '/summary.json')
process.exit(Number(process.env.FAKE_K6_EXIT ?? 0))
`)
  chmodSync(file, 0o755)
  return file
}

describe('tenant-audit load', { timeout: CLI_TIMEOUT }, () => {
  it('load prepare writes access and refresh tokens with mode 0600 and never prints one', async () => {
    const out = tempOut('prepare')
    const r = await runCli(['load', 'prepare', 'noisy-neighbour', '--out', out])
    expect(r.stderr).toMatch(/prepared 2 tenants of noisy-neighbour/)
    expect(r.code).toBe(0)
    const file = join(out, 'tokens.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const tokens = tokensFile(file)
    expect(tokens.tenants).toHaveLength(2)
    expect(tokens.tokenUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/auth\/token$/)
    // A 19-second run fits in one access token: one login per tenant, with its refresh token.
    for (const t of tokens.tenants) {
      expect(t.sessions).toHaveLength(1)
      expect(t.sessions[0]!.token).toBe(t.token)
      expect(t.sessions[0]!.refreshToken.length).toBeGreaterThan(20)
      expect(t.sessions[0]!.expiresAt).toBeGreaterThan(Date.now())
    }
    const scenarioJson = readFileSync(join(out, 'scenario.json'), 'utf8')
    const created = readFileSync(join(out, 'created.json'), 'utf8')
    for (const secret of secretsIn(tokens)) {
      expect(secret.length).toBeGreaterThan(20)
      for (const text of [r.stdout, r.stderr, scenarioJson, created]) expect(text.includes(secret)).toBe(false)
    }
    expect(JSON.parse(scenarioJson)).toMatchObject({ name: 'noisy-neighbour', bounds: { maxRequests: 3000 } })
    expect(JSON.parse(created)).toMatchObject({ target: { profile: null }, created: [{ resource: 'accounts', method: 'DELETE' }, { resource: 'accounts', method: 'DELETE' }] })
  })

  it('runs a scenario with the Node engine on the embedded server and writes a result with no token in it', async () => {
    const dir = tempOut('run')
    const scenario = join(dir, '..', 'tiny.yaml')
    writeFileSync(scenario, [
      'name: tiny', 'description: two tenants, two short phases', 'tenants: [{ name: a }, { name: b, rateLimit: { requestsPerSecond: 5, burst: 5 }, expect: { throttled: any } }]',
      'phases: [{ name: one, seconds: 1 }, { name: two, seconds: 1 }]',
      'streams: [{ tenant: a, phase: one, rate: 5 }, { tenant: b, phase: two, rate: 10, action: documents.list }]',
      'bounds: { maxRequests: 12 }',
    ].join('\n'))
    const r = await runCli(['load', scenario, '--out', dir])
    expect(r.stderr + r.stdout).toMatch(/scenario tiny: 12 requests sent \(12 scheduled, 0 dropped\)/)
    expect(r.code).toBe(0)
    const result = readFileSync(join(dir, 'result.json'), 'utf8')
    expect(JSON.parse(result)).toMatchObject({ scenario: 'tiny', engine: 'node', requests: { sent: 12 } })
    expect(result).not.toMatch(/Bearer|eyJ[A-Za-z0-9_-]{10,}/)
    expect(r.stdout + r.stderr).not.toMatch(JWT)
  })

  it('refuses a non-loopback target and a scenario over the budget before sending anything, and prints the k6 commands when no k6 is found', async () => {
    const dir = tempOut('remote')
    const profile = join(dir, '..', 'remote.yaml')
    writeFileSync(profile, 'name: remote\nbaseUrl: https://staging.example.com\n')
    const refused = await runCli(['load', 'noisy-neighbour', '--target', profile])
    expect(refused.code).toBe(2)
    expect(refused.stderr.trim().split('\n')).toHaveLength(1)
    expect(refused.stderr).toMatch(/only sends to loopback .*not staging\.example\.com/)
    const small = join(dir, '..', 'small.yaml')
    writeFileSync(small, 'name: local\nbaseUrl: http://127.0.0.1:1\nbudget: { maxRequests: 100 }\n')
    const over = await runCli(['load', 'noisy-neighbour', '--target', small])
    expect(over.code).toBe(2)
    expect(over.stderr).toMatch(/plans \d+ requests, over the profile's budget.maxRequests \(100\)/)
    // No K6_BINARY, and a PATH with no k6 on it.
    const k6 = await runCli(['load', 'noisy-neighbour', '--engine', 'k6', '--target', profile, '--out', dir], { K6_BINARY: undefined, PATH: join(dir, '..') })
    expect(k6.code).toBe(0)
    expect(k6.stdout).toMatch(/^# no k6 found/)
    expect(k6.stdout).toContain(`tenant-audit load prepare noisy-neighbour --target ${profile}`)
    expect(k6.stdout).toMatch(/k6 run -e SCENARIO_FILE=.*scenario\.json -e TOKENS_FILE=.*tokens\.json .*load\/k6\/scenario\.ts/)
    expect(k6.stdout).toContain(`tenant-audit load cleanup ${dir}`)
    const missing = await runCli(['load', 'noisy-neighbour', '--engine', 'k6', '--out', dir], { K6_BINARY: join(dir, 'no-such-k6') })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/K6_BINARY=.*no-such-k6 is not an executable file/)
  })

  it('runs k6 when K6_BINARY names one: prepared files in, summary judged with the script\'s logic, exit 1 on a failed goal', async () => {
    const dir = tempOut('k6')
    const bin = fakeK6(join(dir, '..'))
    const record = join(dir, '..', 'record.json')
    const good = join(dir, '..', 'per-phase.json')
    writeFileSync(good, readFileSync(new URL('handle-summary-data.noisy-neighbour.per-phase.json', DATA)))
    const env = { K6_BINARY: bin, FAKE_K6_RECORD: record, FAKE_K6_SUMMARY: good }
    const r = await runCli(['load', 'noisy-neighbour', '--engine', 'k6', '--out', dir], env)
    expect(r.stderr).toMatch(/fake k6: running .*load\/k6\/scenario\.ts/)
    expect(r.code).toBe(0)
    const seen = JSON.parse(readFileSync(record, 'utf8')) as { args: string[]; tokensMode: number }
    expect(seen.args).toEqual(['run', '-e', `SCENARIO_FILE=${join(dir, 'scenario.json')}`, '-e', `TOKENS_FILE=${join(dir, 'tokens.json')}`, '-e', `OUT_DIR=${dir}`, expect.stringMatching(/load\/k6\/scenario\.ts$/)])
    expect(seen.tokensMode).toBe(0o600)
    // The tenants are gone, so are their tokens.
    expect(existsSync(join(dir, 'tokens.json'))).toBe(false)
    expect(r.stdout).toMatch(/aggressor  contended +100 +801 +85 +716 +0 +0 /)
    expect(r.stdout).toContain('aggressor: quota 10/s (burst 10), enforced 10.00/s')
    expect(r.stdout).not.toMatch(/NOT MET/)
    expect(JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'))).toMatchObject({ engine: 'k6', scenario: 'noisy-neighbour', tenants: [{ tenant: 'victim' }, { tenant: 'aggressor', enforcedRate: 10 }] })
    expect(r.stdout + r.stderr).not.toMatch(JWT)

    // The victim's p95 under the flood at 3× its baseline: k6 would exit 0 (no threshold names it); the command exits 1.
    const s = loadScenario('noisy-neighbour')
    const base = recorded.metrics['http_req_duration{tenant:victim,phase:baseline}']!.values
    const slow = join(dir, '..', 'slow.json')
    writeFileSync(slow, JSON.stringify(perPhaseData(s, recorded, SPLITS['noisy-neighbour'], { 'victim/contended': { ...base, 'p(95)': 3 * base['p(95)']! } })))
    const failed = await runCli(['load', 'noisy-neighbour', '--engine', 'k6', '--out', dir], { ...env, FAKE_K6_SUMMARY: slow })
    expect(failed.stdout).toMatch(/NOT MET {2}victim: p95 contended ≤ max\(1\.5× baseline, baseline \+ 20 ms\): 55\.8 ms/)
    expect(failed.code).toBe(1)
    // A crossed threshold (k6 exit 99) fails the command whatever the summary says.
    expect((await runCli(['load', 'noisy-neighbour', '--engine', 'k6', '--out', dir], { ...env, FAKE_K6_EXIT: '99' })).code).toBe(1)
    const broken = await runCli(['load', 'noisy-neighbour', '--engine', 'k6', '--out', dir], { ...env, FAKE_K6_SUMMARY: '', FAKE_K6_EXIT: '107' })
    expect(broken.code).toBe(2)
    expect(broken.stderr).toMatch(/k6 exited 107 without writing .*summary\.json/)
  })

  it('names the first bad field of a bad scenario in one line (exit 2)', async () => {
    const file = join(tempOut('bad'), '..', 'bad.yaml')
    writeFileSync(file, 'name: bad\ndescription: x\ntenants: [{ name: a }]\nphases: [{ name: p, seconds: 1 }]\nstreams: [{ tenant: a, phase: q, rate: 1 }]\n')
    const r = await runCli(['load', file, '--engine', 'k6'])
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toBe('tenant-audit: bad.yaml: streams.0.phase: no phase named q')
  })
})

describe('load prepare and load cleanup against a running server', { timeout: CLI_TIMEOUT }, () => {
  const creds = { BOOTSTRAP_PRINCIPAL_EMAIL: 'root@load.test', BOOTSTRAP_PRINCIPAL_PASSWORD: 'load-cleanup-root-password' }
  let server: RunningServer
  let profile = ''
  beforeAll(async () => {
    server = await startServer({ bootstrap: { email: creds.BOOTSTRAP_PRINCIPAL_EMAIL, password: creds.BOOTSTRAP_PRINCIPAL_PASSWORD }, settings: { passwordCost: THROWAWAY_COST } })
    profile = join(tempOut('cleanup'), '..', 'target.yaml')
    writeFileSync(profile, readFileSync(new URL('../../fixtures/targets/reference.yaml', import.meta.url), 'utf8').replace(/^baseUrl: .*$/m, `baseUrl: ${server.url}`))
  })
  afterAll(async () => server?.close())

  const rootToken = async () => {
    const res = await fetch(`${server.url}/auth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'password', username: creds.BOOTSTRAP_PRINCIPAL_EMAIL, password: creds.BOOTSTRAP_PRINCIPAL_PASSWORD }) })
    return ((await res.json()) as { access_token: string }).access_token
  }
  const accountStatus = async (id: string, token: string) => (await fetch(`${server.url}/portal/v1/accounts/${id}`, { headers: { authorization: `Bearer ${token}` } })).status

  it('the stored refresh tokens renew as k6 renews them, and cleanup removes every account prepare created', async () => {
    const dir = join(profile, '..', 'prepared')
    const prep = await runCli(['load', 'prepare', 'quota-accuracy', '--target', profile, '--out', dir], creds)
    expect(prep.code).toBe(0)
    expect(prep.stdout).toContain(`tenant-audit load cleanup ${dir}`)
    const tokens = tokensFile(join(dir, 'tokens.json'))
    expect(JSON.parse(readFileSync(join(dir, 'created.json'), 'utf8'))).toMatchObject({ target: { profile, baseUrl: server.url } })

    // The refresh grant, form-encoded as k6 sends an object body: a new access token and a rotated refresh token.
    const session = tokens.tenants[0]!.sessions[0]!
    const renewed = await fetch(tokens.tokenUrl, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: session.refreshToken }) })
    expect(renewed.status).toBe(200)
    const next = (await renewed.json()) as { access_token: string; refresh_token: string }
    expect(next.refresh_token).not.toBe(session.refreshToken)
    const paths = JSON.parse(readFileSync(join(dir, 'tokens.json'), 'utf8')).tenants[0].paths as Record<string, string>
    expect((await fetch(`${server.url}${paths['documents.read']}`, { headers: { authorization: `Bearer ${next.access_token}` } })).status).toBe(200)

    const root = await rootToken()
    for (const t of tokens.tenants) expect(await accountStatus(t.accountId, root)).toBe(200)
    const clean = await runCli(['load', 'cleanup', dir], creds)
    expect(clean.stderr).toMatch(/removed 2 of 2 from http:\/\/127\.0\.0\.1:\d+: accounts \/portal\/v1\/accounts\/[0-9a-f-]+, accounts/)
    expect(clean.code).toBe(0)
    for (const t of tokens.tenants) expect(await accountStatus(t.accountId, root)).toBe(404)
    expect(existsSync(join(dir, 'tokens.json'))).toBe(false)
    expect(JSON.parse(readFileSync(join(dir, 'created.json'), 'utf8')).created).toEqual([])
    for (const secret of [...secretsIn(tokens), creds.BOOTSTRAP_PRINCIPAL_PASSWORD]) expect(prep.stdout + prep.stderr + clean.stdout + clean.stderr).not.toContain(secret)
    // Again: nothing left, nothing to log in for.
    const again = await runCli(['load', 'cleanup', dir], {})
    expect(again.code).toBe(0)
    expect(again.stderr).toMatch(/removed 0 of 0/)
  })

  it('cleanup says what it could not remove and keeps it for the next try (exit 2)', async () => {
    const dir = join(profile, '..', 'stale')
    const prep = await runCli(['load', 'prepare', 'quota-accuracy', '--target', profile, '--out', dir], creds)
    expect(prep.code).toBe(0)
    // Wrong bootstrap password: nothing can be deleted.
    const denied = await runCli(['load', 'cleanup', dir], { ...creds, BOOTSTRAP_PRINCIPAL_PASSWORD: 'wrong-password' })
    expect(denied.code).toBe(2)
    expect(denied.stderr).toMatch(/could not remove accounts \/portal\/v1\/accounts\//)
    expect(JSON.parse(readFileSync(join(dir, 'created.json'), 'utf8')).created).toHaveLength(2)
    expect((await runCli(['load', 'cleanup', dir], creds)).code).toBe(0)
  })
})
