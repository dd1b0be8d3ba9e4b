import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CLI_TIMEOUT, runCli, tempOut } from '../../test/cli.js'

/** Every bearer token in a tokens file. */
const tokensIn = (file: string): string[] => (JSON.parse(readFileSync(file, 'utf8')) as { tenants: { token: string }[] }).tenants.map((t) => t.token)

describe('tenant-audit load', { timeout: CLI_TIMEOUT }, () => {
  it('load prepare writes the tokens file with mode 0600 and never prints a token', async () => {
    const out = tempOut('prepare')
    const r = await runCli(['load', 'prepare', 'noisy-neighbour', '--out', out])
    expect(r.stderr).toMatch(/prepared 2 tenants of noisy-neighbour/)
    expect(r.code).toBe(0)
    const file = join(out, 'tokens.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const tokens = tokensIn(file)
    expect(tokens).toHaveLength(2)
    const scenarioJson = readFileSync(join(out, 'scenario.json'), 'utf8')
    for (const t of tokens) {
      expect(t.length).toBeGreaterThan(20)
      for (const text of [r.stdout, r.stderr, scenarioJson, readFileSync(join(out, 'created.json'), 'utf8')]) expect(text.includes(t)).toBe(false)
    }
    expect(JSON.parse(scenarioJson)).toMatchObject({ name: 'noisy-neighbour', bounds: { maxRequests: 3000 } })
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
    expect(r.stdout + r.stderr).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/)
  })

  it('refuses a non-loopback target and a scenario over the budget before sending anything, and prints the k6 commands instead', async () => {
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
    const k6 = await runCli(['load', 'noisy-neighbour', '--engine', 'k6', '--target', profile, '--out', dir])
    expect(k6.code).toBe(0)
    expect(k6.stdout).toContain(`tenant-audit load prepare noisy-neighbour --target ${profile}`)
    expect(k6.stdout).toMatch(/k6 run -e SCENARIO_FILE=.*scenario\.json -e TOKENS_FILE=.*tokens\.json .*load\/k6\/scenario\.ts/)
  })

  it('names the first bad field of a bad scenario in one line (exit 2)', async () => {
    const file = join(tempOut('bad'), '..', 'bad.yaml')
    writeFileSync(file, 'name: bad\ndescription: x\ntenants: [{ name: a }]\nphases: [{ name: p, seconds: 1 }]\nstreams: [{ tenant: a, phase: q, rate: 1 }]\n')
    const r = await runCli(['load', file, '--engine', 'k6'])
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toBe('tenant-audit: bad.yaml: streams.0.phase: no phase named q')
  })
})
